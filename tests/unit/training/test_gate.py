"""The promotion gate: thresholds and uplift over the champion, with reasons and an approval body."""

import pytest

from include.models.config import Thresholds
from include.training.tracking import Candidate, compare

THRESHOLDS = Thresholds(min_roc_auc=0.75, min_uplift=0.005, max_brier=0.1)


def candidate(version, auc, brier=0.04, checks=True, algorithm="lightgbm"):
    metrics = {"roc_auc": auc, "gini": 2 * auc - 1, "ks": 0.5, "pr_auc": 0.3, "brier": brier}
    return Candidate(version=version, metrics=metrics, checks_passed=checks, algorithm=algorithm)


def test_a_first_model_needs_only_the_thresholds():
    decision = compare(candidate("1", 0.80), None, THRESHOLDS, "credit_default")
    assert decision.promote
    assert any("no champion yet" in r for r in decision.reasons)


def test_a_better_challenger_by_the_margin_is_promotable():
    decision = compare(candidate("2", 0.82), candidate("1", 0.80), THRESHOLDS, "credit_default")
    assert decision.promote
    assert all(r.startswith("PASS") for r in decision.reasons)


@pytest.mark.parametrize(
    ("challenger", "failing"),
    [
        (candidate("2", 0.803), "uplift over champion v1 +0.0030 >= required +0.0050"),  # better, not by enough
        (candidate("2", 0.78), "uplift over champion v1 -0.0200"),  # worse
        (candidate("2", 0.90, brier=0.2), "Brier 0.2000 <= maximum 0.1000"),
        (candidate("2", 0.90, checks=False), "behavioural checks"),
    ],
)
def test_a_challenger_failing_any_condition_is_not_promoted(challenger, failing):
    decision = compare(challenger, candidate("1", 0.80), THRESHOLDS, "credit_default")
    assert not decision.promote
    assert any(r.startswith("FAIL") and failing in r for r in decision.reasons), decision.reasons


def test_below_the_minimum_auc_fails_even_without_a_champion():
    decision = compare(candidate("1", 0.70), None, THRESHOLDS)
    assert not decision.promote
    assert "FAIL: ROC AUC 0.7000 >= minimum 0.7500" in decision.reasons


def test_the_approval_body_shows_both_sides_and_every_reason():
    decision = compare(
        candidate("2", 0.82, algorithm="pytorch_mlp"), candidate("1", 0.80), THRESHOLDS, "credit_default"
    )
    body = decision.markdown
    assert body.startswith("### Promote credit_default v2 (pytorch_mlp) to champion?")
    assert "| roc_auc | 0.8200 | 0.8000 |" in body
    assert "Current champion: v1 (lightgbm)." in body
    for reason in decision.reasons:
        assert f"- {reason}" in body
    assert decision.as_dict()["champion"]["version"] == "1"


def test_a_model_pinned_to_a_feature_set_version_refuses_another(config):
    import dataclasses

    from include.training.tracking import Lineage, feature_set_version

    assert feature_set_version(config, Lineage(code_version="abc")) == "v2"
    assert feature_set_version(config, Lineage(code_version="abc", feature_set_version="v2")) == "v2"
    with pytest.raises(ValueError, match=r"small_default\.yaml: feature_set\.version pins v2, but the training set is"):
        feature_set_version(config, Lineage(code_version="abc", feature_set_version="v3"))
    unpinned = dataclasses.replace(config, feature_set=dataclasses.replace(config.feature_set, version=None))
    assert feature_set_version(unpinned, Lineage(code_version="abc", feature_set_version="v3")) == "v3"
