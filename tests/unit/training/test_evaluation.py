"""Evaluation: metric identities, decile and calibration tables, behavioural checks that catch bad models, plots."""

import numpy as np
import pandas as pd
import pytest

from include.models.config import BehaviourConfig
from include.training.evaluation import (
    behaviour_checks,
    calibration_table,
    classification_metrics,
    decile_table,
    evaluate,
    permutation_importance,
)


class Scorecard:
    """A transparent model: a logistic function of a few columns, with chosen signs."""

    def __init__(self, utilization=3.0, bureau_score=-0.02, region_weight=0.0):
        self.w = (utilization, bureau_score, region_weight)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        region = (frame["region"] == "DE-BY").to_numpy(dtype=float)
        score = (
            self.w[0] * frame["utilization_last"]
            + self.w[1] * (frame["bureau_score"].fillna(680) - 680)
            + self.w[2] * region
            - 3.5
        )
        return 1 / (1 + np.exp(-score.to_numpy()))


@pytest.fixture(scope="module")
def scored(split):
    test = split.test
    return test, Scorecard().predict_proba(test)


def test_metrics_follow_their_definitions(scored):
    test, p = scored
    m = classification_metrics(test["label"], p)
    assert m["gini"] == pytest.approx(2 * m["roc_auc"] - 1)
    assert 0 < m["ks"] < 1 and 0 < m["pr_auc"] < 1
    assert m["brier"] == pytest.approx(np.mean((p - test["label"]) ** 2))
    assert m["default_rate"] == pytest.approx(test["label"].mean())


def test_a_perfect_ranking_and_a_constant_score_bound_the_metrics():
    y = np.array([0] * 90 + [1] * 10)
    perfect = classification_metrics(y, np.linspace(0.01, 0.99, 100))
    assert perfect["roc_auc"] == 1.0 and perfect["ks"] == 1.0 and perfect["gini"] == 1.0
    constant = classification_metrics(y, np.full(100, 0.1))
    assert constant["roc_auc"] == 0.5 and constant["ks"] == 0.0


def test_metrics_refuse_a_single_class():
    with pytest.raises(ValueError, match="both classes"):
        classification_metrics(np.zeros(10), np.linspace(0, 1, 10))


def test_deciles_rank_riskiest_first_and_capture_everything(scored):
    test, p = scored
    d = decile_table(test["label"].to_numpy(), p)
    assert list(d["decile"]) == list(range(1, 11))
    assert d["rows"].sum() == len(test) and d["rows"].max() - d["rows"].min() <= 1
    assert d["mean_pd"].is_monotonic_decreasing
    assert d["cumulative_capture"].iloc[-1] == pytest.approx(1.0)
    assert d["cumulative_lift"].iloc[-1] == pytest.approx(1.0)
    assert np.average(d["lift"], weights=d["rows"]) == pytest.approx(1.0)
    assert d["lift"].iloc[0] > 1.5  # the scorecard ranks risk


def test_calibration_compares_predicted_and_observed_by_pd_decile(scored):
    test, p = scored
    c = calibration_table(test["label"].to_numpy(), p)
    assert c["rows"].sum() == len(test)
    assert c["mean_pd"].is_monotonic_increasing
    assert np.average(c["mean_pd"], weights=c["rows"]) == pytest.approx(p.mean())
    assert np.average(c["observed_rate"], weights=c["rows"]) == pytest.approx(test["label"].mean())


def test_permutation_importance_ranks_what_the_model_uses(split):
    imp = permutation_importance(Scorecard(), split.test, "label", ["utilization_last", "bureau_score", "income"], 0)
    assert imp["income"] == 0.0  # the scorecard ignores it
    assert imp["utilization_last"] > 0 and imp["bureau_score"] > 0


BEHAVIOUR = BehaviourConfig(increasing=("utilization_last",), decreasing=("bureau_score",), invariant=("region",))


def test_a_sensible_model_passes_every_behavioural_check(split):
    checks = behaviour_checks(Scorecard(), split.test, BEHAVIOUR, seed=0)
    assert [c.name for c in checks] == [
        "direction:utilization_last:increasing",
        "direction:bureau_score:decreasing",
        "invariance:region",
    ]
    assert all(c.passed for c in checks), checks


def test_a_model_where_utilization_lowers_risk_fails_the_direction_check(split):
    checks = {c.name: c for c in behaviour_checks(Scorecard(utilization=-3.0), split.test, BEHAVIOUR, seed=0)}
    failed = checks["direction:utilization_last:increasing"]
    assert not failed.passed and "expected increasing" in failed.detail
    assert checks["invariance:region"].passed


def test_a_model_that_uses_a_field_that_must_not_matter_fails_invariance(split):
    checks = {c.name: c for c in behaviour_checks(Scorecard(region_weight=0.5), split.test, BEHAVIOUR, seed=0)}
    assert not checks["invariance:region"].passed
    assert checks["direction:utilization_last:increasing"].passed


def test_a_declared_feature_missing_from_the_test_set_fails_its_check(split):
    behaviour = BehaviourConfig(increasing=("no_such_feature",))
    (check,) = behaviour_checks(Scorecard(), split.test, behaviour, seed=0)
    assert not check.passed and "no_such_feature" in check.detail


def test_evaluate_writes_the_four_plots_as_png(split, tmp_path):
    result = evaluate(
        Scorecard(),
        split.test,
        label="label",
        features=["utilization_last", "bureau_score"],
        behaviour=BEHAVIOUR,
        seed=0,
        plots_dir=tmp_path,
    )
    assert set(result.plots) == {"roc", "lift", "calibration", "feature_importance"}
    for path in result.plots.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.checks_passed
    assert result.summary()["top_decile"]["lift"] == pytest.approx(result.deciles["lift"].iloc[0])
