"""The Evidently report (real Evidently 0.7) on small synthetic days: shifted features drift, a fresh draw does not."""

import numpy as np
import pytest

from include.monitoring.drift import PREDICTION, drift_report
from include.training.synthetic import synthetic_training_set

NUMERIC = ["utilization_last", "dpd_last", "cash_advance_share_90d", "declined_share_90d", "bureau_score", "income"]
CATEGORICAL = ["product", "age_band", "employment_status"]


def _day(rows: int, seed: int, income_factor: float = 1.0, utilization_shift: float = 0.0):
    frame = synthetic_training_set(rows, seed=seed)
    frame["income"] *= income_factor
    frame["utilization_last"] += utilization_shift
    frame[PREDICTION] = 1 / (1 + np.exp(-(frame["utilization_last"] * 4 - 5)))
    return frame


@pytest.fixture(scope="module")
def reference():
    return _day(3_000, seed=1)


def test_a_fresh_draw_of_the_same_population_does_not_drift(reference):
    result = drift_report(reference, _day(2_000, seed=2), numeric=NUMERIC, categorical=CATEGORICAL, drift_share=0.2)
    assert not result.detected and result.share == 0.0 and result.drifted == []
    assert [c.column for c in result.features] == NUMERIC + CATEGORICAL
    assert {c.method for c in result.features} == {"wasserstein", "jensenshannon"}
    assert not result.prediction.drifted
    assert result.summary["rows"] == 2_000
    assert "<html" in result.html[:500].lower()


def test_shifted_income_and_utilization_drift_and_lead_the_top_list(reference):
    day = _day(2_000, seed=2, income_factor=1.6, utilization_shift=0.3)
    result = drift_report(reference, day, numeric=NUMERIC, categorical=CATEGORICAL, drift_share=0.2)
    assert result.detected and result.share == pytest.approx(2 / 9)
    assert {t["feature"] for t in result.top()} == {"income", "utilization_last"}
    assert result.prediction.drifted  # the PD follows utilization
    metrics = result.metrics()
    assert metrics["drift.detected"] == 1.0 and metrics["drift.drifted_features"] == 2.0
    assert metrics["drift.score.income"] > 0.1 > metrics["drift.score.product"]
    assert metrics["data.rows"] == 2_000


def test_a_column_missing_on_one_side_fails_naming_it(reference):
    day = _day(500, seed=2).drop(columns=["income"])
    with pytest.raises(KeyError, match=r"the current data lacks column\(s\) \['income'\]"):
        drift_report(reference, day, numeric=NUMERIC, categorical=CATEGORICAL, drift_share=0.2)
