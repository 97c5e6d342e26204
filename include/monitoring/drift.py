"""Evidently 0.7 drift report of one day against the champion's training reference.

One `Report` holds three parts:
- `DataDriftPreset` over the model's features: one `ValueDrift` per column and the share of
  drifted columns (`DriftedColumnsCount`);
- `ValueDrift` of the prediction: the day's PDs against the champion's PDs on the reference;
- `DataSummaryPreset`: rows, missing values, constant and empty columns, per-column stats.

The drift methods are fixed, not left to Evidently's size-based choice: normed Wasserstein
distance for numeric columns and Jensen-Shannon distance for categoricals, each drifted at
>= 0.1 (Evidently's own choice above 1,000 rows). A p-value test would flag negligible
shifts on a large portfolio and change meaning with the sample size; a distance does not,
so sampling both sides to `sample_rows` keeps the verdict. The day counts as drifted when
the share of drifted features reaches the model YAML's `monitoring.drift_share`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

NUMERIC_METHOD, CATEGORICAL_METHOD = "wasserstein", "jensenshannon"
PREDICTION = "prediction"


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    score: float
    method: str
    threshold: float
    drifted: bool

    @property
    def severity(self) -> float:
        """Score over threshold: > 1 means drifted, comparable across methods (all are distances)."""
        return self.score / self.threshold if self.threshold else float("inf")


@dataclass
class DriftResult:
    features: list[ColumnDrift]
    prediction: ColumnDrift
    share: float  # drifted features / features
    drift_share: float  # the YAML's threshold
    summary: dict[str, float] = field(default_factory=dict)
    html: str = ""

    @property
    def detected(self) -> bool:
        return self.share >= self.drift_share

    @property
    def drifted(self) -> list[ColumnDrift]:
        return sorted((c for c in self.features if c.drifted), key=lambda c: -c.severity)

    def top(self, n: int = 5) -> list[dict[str, float | str]]:
        """The most drifted features, for alerts: name, score, method."""
        return [{"feature": c.column, "score": round(c.score, 4), "method": c.method} for c in self.drifted[:n]]

    def metrics(self) -> dict[str, float]:
        """Long-format metrics for `ml.monitoring_metrics`."""
        out = {
            "drift.share": self.share,
            "drift.drifted_features": float(len(self.drifted)),
            "drift.features": float(len(self.features)),
            "drift.detected": float(self.detected),
            "prediction_drift.score": self.prediction.score,
            "prediction_drift.detected": float(self.prediction.drifted),
        }
        out.update({f"drift.score.{c.column}": c.score for c in self.features})
        out.update({f"data.{name}": value for name, value in self.summary.items()})
        return out


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    numeric: Sequence[str],
    categorical: Sequence[str],
    drift_share: float,
) -> DriftResult:
    """Compare `current` with `reference`; both hold the feature columns and `prediction`."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset, DataSummaryPreset

    features = [*numeric, *categorical]
    missing = {
        side: [c for c in (*features, PREDICTION) if c not in frame.columns]
        for side, frame in (("reference", reference), ("current", current))
    }
    for side, columns in missing.items():
        if columns:
            raise KeyError(f"drift report: the {side} data lacks column(s) {columns}")
    definition = DataDefinition(numerical_columns=[*numeric, PREDICTION], categorical_columns=list(categorical))
    columns = [*features, PREDICTION]
    report = Report(
        [
            DataDriftPreset(
                columns=features, drift_share=drift_share, num_method=NUMERIC_METHOD, cat_method=CATEGORICAL_METHOD
            ),
            ValueDrift(column=PREDICTION, method=NUMERIC_METHOD),
            DataSummaryPreset(columns=columns),
        ],
        include_tests=True,
    )
    snapshot = report.run(
        Dataset.from_pandas(current[columns].reset_index(drop=True), data_definition=definition),
        Dataset.from_pandas(reference[columns].reset_index(drop=True), data_definition=definition),
    )
    drifts, share, summary = _read(snapshot)
    by_column = {d.column: d for d in drifts}
    return DriftResult(
        features=[by_column[c] for c in features],
        prediction=by_column[PREDICTION],
        share=share,
        drift_share=drift_share,
        summary=summary,
        html=snapshot.get_html_str(as_iframe=False),
    )


def _read(snapshot) -> tuple[list[ColumnDrift], float, dict[str, float]]:
    """Per-column drift, the drifted share and the summary figures from the snapshot's results."""
    drifts, share, summary = [], None, {}
    for result in snapshot.metric_results.values():
        params = result.metric_value_location.metric.params
        kind = params["type"].rsplit(":", 1)[-1]
        if kind == "ValueDrift":
            drifted = any(t.status.value == "FAIL" for t in result.tests)
            drifts.append(
                ColumnDrift(
                    params["column"], float(result.value), params["method"], float(params["threshold"]), drifted
                )
            )
        elif kind == "DriftedColumnsCount":
            share = float(result.share.value)
        elif kind == "RowCount":
            summary["rows"] = float(result.value)
        elif kind == "DatasetMissingValueCount":
            summary["missing_share"] = float(result.share.value)
        elif kind in ("EmptyColumnsCount", "ConstantColumnsCount"):
            summary[kind.removesuffix("Count").replace("Columns", "_columns").lower()] = float(result.value)
    if share is None:
        raise RuntimeError("Evidently's report holds no DriftedColumnsCount result")
    return drifts, share, summary
