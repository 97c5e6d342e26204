"""What a day calls for: drift alerts at the YAML's share; rollback only when the previous champion does better."""

import pytest

from include.monitoring import actions as act
from include.monitoring.drift import ColumnDrift, DriftResult


def _drift(share: float, drift_share: float = 0.5) -> DriftResult:
    """Four features, the first `share * 4` of them drifted (the most drifted first)."""
    scores = [("income", 0.9, "wasserstein"), ("utilization_last", 0.3, "wasserstein")]
    scores += [("product", 0.01, "jensenshannon"), ("bureau_score", 0.02, "wasserstein")]
    drifted = round(share * len(scores))
    features = [ColumnDrift(c, s, m, 0.1, i < drifted) for i, (c, s, m) in enumerate(scores)]
    return DriftResult(features, ColumnDrift("prediction", 0.05, "wasserstein", 0.1, False), share, drift_share)


GOOD, POOR = {"roc_auc": 0.80}, {"roc_auc": 0.55}  # small_default's floor is 0.6


def test_a_quiet_day_with_good_performance_calls_for_nothing(config):
    assert act.decide(config, _drift(0.25), GOOD, ("1", POOR), still_champion=True) == []


def test_a_drift_share_at_the_threshold_alerts(config):
    (planned,) = act.decide(config, _drift(0.5), None, None, still_champion=True)
    assert planned.action == act.DRIFT_ALERT
    assert planned.reason == "2 of 4 features drifted (share 0.50 >= drift_share 0.50)"


def test_below_the_floor_with_a_better_previous_champion_rolls_back(config):
    (planned,) = act.decide(config, _drift(0.0), POOR, ("3", GOOD), still_champion=True)
    assert planned.action == act.ROLLBACK
    assert planned.reason == (
        "ROC AUC on matured labels 0.5500 < performance_floor 0.6000; previous champion v3 does better (0.8000)"
    )


@pytest.mark.parametrize(
    ("previous", "still_champion", "why"),
    [
        (None, True, "no previous champion to roll back to"),
        (("3", {"roc_auc": 0.50}), True, "no rollback: previous champion v3 does no better (0.5000)"),
        (("3", None), True, "no rollback: previous champion v3 cannot be measured"),
        (("3", GOOD), False, "no rollback: the version is no longer the champion"),
    ],
)
def test_below_the_floor_without_a_better_champion_to_return_to_only_alerts(config, previous, still_champion, why):
    (planned,) = act.decide(config, _drift(0.0), POOR, previous, still_champion)
    assert planned.action == act.PERFORMANCE_ALERT and planned.reason.endswith(why)


def test_drift_and_degradation_on_one_day_both_act(config):
    planned = act.decide(config, _drift(0.75), POOR, ("3", GOOD), still_champion=True)
    assert [p.action for p in planned] == [act.DRIFT_ALERT, act.ROLLBACK]


def test_the_alert_names_model_version_day_reason_top_features_and_links(config):
    drift = _drift(0.75)
    (planned,) = act.decide(config, drift, None, None, still_champion=True)
    links = {"report": "s3://lake/reports/drift/small_default/ds=2026-12-02/report.html"}
    subject, text, html = act.alert(config, "2026-12-02", "4", planned, links, drift)
    assert subject == "[monitoring] small_default v4: data drift on 2026-12-02"
    assert "Top drifted features: income (wasserstein 0.9), utilization_last (wasserstein 0.3)" in text
    assert "report: s3://lake/reports/drift/small_default/ds=2026-12-02/report.html" in text
    assert "test-owner@bank.example" in text
    assert "<a href='s3://lake/reports/drift/small_default/ds=2026-12-02/report.html'>report</a>" in html


@pytest.mark.parametrize("done", [act.ROLLBACK, act.PERFORMANCE_ALERT])
def test_a_degradation_already_handled_that_day_is_not_handled_again(config, done):
    # After the rollback the monitored version is no longer champion: no "no rollback" alert on a re-run.
    planned = act.decide(config, _drift(0.75), POOR, ("3", GOOD), still_champion=False, done=frozenset({done}))
    assert [p.action for p in planned] == [act.DRIFT_ALERT]  # the drift alert's own claim stops its repeat
