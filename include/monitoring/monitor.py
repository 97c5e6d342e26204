"""Monitoring of one scored day, end to end: measure, record, report, act.

    monitor_day(config, "2026-11-21", lake=lake, postgres_uri=uri, notify=send)

1. The day's predictions partition names the version that scored it and the features
   partition it read; that version is the one monitored, even if the alias moved since.
2. Drift (`drift.drift_report`): a sample of the day (at most `monitoring.sample_rows`,
   drawn batch by batch) with its PDs, against a sample of the version's training data
   (`reference.champion_reference`) with the version's PDs on it.
3. Performance (`performance`): on the newest matured labels, the version and the previous
   champion; the version's test-time metrics are the baseline.
4. Every number goes to `ml.monitoring_metrics`; the Evidently HTML, a trend PNG and a JSON
   summary to `reports/drift/<model>/ds=D/` and to one MLflow run per day in the experiment
   `<model>/monitoring` (a re-run logs to the same run).
5. Actions (`actions.decide`) are claimed in `ml.monitoring_actions`, done, then marked done:
   a re-run of the day does not alert or roll back again.

`notify(subject, text, html) -> channels reached` delivers alerts; the DAG passes Slack and
e-mail (`orchestration.alerts`), the default only logs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from include.inference.plan import predictions_partition
from include.models.config import ModelConfig
from include.monitoring import actions as act
from include.monitoring import store
from include.monitoring.drift import PREDICTION, DriftResult, drift_report
from include.monitoring.performance import matured_partition, performance
from include.monitoring.reference import champion_reference
from include.monitoring.report import TREND_DAYS, TREND_METRICS, publish, report_folder, trend_png

if TYPE_CHECKING:
    from include.lake import Lake, PartitionRef

log = logging.getLogger(__name__)

Notify = Callable[[str, str, str], list[str]]


class MonitoringError(RuntimeError):
    """A day cannot be monitored; the message names the model, the day and what is missing."""


def log_only(subject: str, text: str, html: str) -> list[str]:
    log.warning("alert (no channel given): %s\n%s", subject, text)
    return []


def monitor_day(
    config: ModelConfig,
    ds: date | str,
    *,
    lake: Lake,
    postgres_uri: str,
    tracking_uri: str | None = None,
    dag_run_id: str | None = None,
    notify: Notify = log_only,
) -> dict[str, Any]:
    """Monitor the scored day `ds`; returns the summary (the demo's `monitoring`)."""
    from include.lake import read_manifest
    from include.training import tracking

    name = config.registered_model_name
    scored = predictions_partition(config, lake, ds)
    day = scored.ds
    manifest = read_manifest(lake, scored)
    if manifest is None:
        raise MonitoringError(
            f"model {name} {day}: no predictions partition {scored.uri}; score the day first (DAG score_{name})"
        )
    version = str(manifest.extra["model_version"])
    model = tracking.load_model(name, version, tracking_uri)
    sample_rows, seed = config.monitoring.sample_rows, config.seed

    predictions = _read(lake, scored, ["account_id", "probability"])
    current = _sample(lake, lake.partition_from_uri(manifest.source_position["features"]), sample_rows, seed)
    current = current.merge(
        predictions.rename(columns={"probability": PREDICTION}), on="account_id", how="inner", validate="one_to_one"
    )
    reference = champion_reference(
        name, version, lake=lake, sample_rows=sample_rows, seed=seed, tracking_uri=tracking_uri
    )
    ref_frame = reference.frame.assign(**{PREDICTION: model.predict_proba(reference.frame)})
    spec = model.spec
    drift = drift_report(
        ref_frame,
        current,
        numeric=spec.numeric,
        categorical=spec.categorical,
        drift_share=config.monitoring.drift_share,
    )

    labels = matured_partition(config, lake, day)
    perf, previous = None, None
    champion_now = tracking.alias_version(name, tracking.CHAMPION, tracking_uri)
    previous_version = tracking.alias_version(name, tracking.PREVIOUS, tracking_uri)
    if labels is not None:
        labelled = _read(lake, labels)
        perf = performance(model, labelled, config.label.column)
        below = perf is not None and perf["roc_auc"] < config.monitoring.performance_floor
        if below and previous_version and previous_version != version:
            other = tracking.load_model(name, previous_version, tracking_uri)
            previous = (previous_version, performance(other, labelled, config.label.column))

    metrics = {
        **drift.metrics(),
        "prediction.mean": float(predictions["probability"].mean()) if len(predictions) else float("nan"),
        "prediction.rows": float(len(predictions)),
        "reference.rows": float(len(ref_frame)),
        **{f"baseline.{k}": v for k, v in reference.baseline.items()},
    }
    if perf is not None:
        metrics.update({f"performance.{k}": v for k, v in perf.items()})
        if "roc_auc" in reference.baseline:
            metrics["performance.roc_auc_delta"] = perf["roc_auc"] - reference.baseline["roc_auc"]
    store.write_metrics(postgres_uri, name, version, day, metrics, dag_run_id)

    folder = report_folder(name, day)
    report_uri = publish(lake, f"{folder}/report.html", drift.html.encode())
    history = store.metric_history(postgres_uri, name, list(TREND_METRICS), day, TREND_DAYS)
    floor = config.monitoring.performance_floor
    png = trend_png(history, f"{name} up to {day}", day, TREND_DAYS, config.monitoring.drift_share, floor)
    trend_uri = publish(lake, f"{folder}/trend.png", png)
    run = _log_run(config, day, version, metrics, drift, png, dag_run_id, tracking_uri)
    links = {"report": report_uri, "trend": trend_uri, **({"mlflow": run["url"]} if run.get("url") else {})}

    done = frozenset(a for a, r in store.actions(postgres_uri, name, day).items() if r["status"] == "done")
    planned = act.decide(config, drift, perf, previous, champion_now == version, done)
    taken = [
        _act(config, day, version, p, links, drift, postgres_uri, dag_run_id, notify, tracking_uri, run["run_id"])
        for p in planned
        if store.claim(postgres_uri, name, day, p.action, version, act.as_record(p, **links), dag_run_id)
    ]
    summary = {
        "model": name,
        "ds": day.isoformat(),
        "model_version": version,
        "drift_detected": drift.detected,
        "drift_share": round(drift.share, 4),
        "drift_threshold": config.monitoring.drift_share,
        "top_drifted": drift.top(),
        "prediction_drift": round(drift.prediction.score, 4),
        "performance": perf,
        "performance_labels": labels.uri if labels else None,
        "baseline": reference.baseline,
        "report": report_uri,
        "trend": trend_uri,
        "mlflow_run_id": run["run_id"],
        "planned": [p.action for p in planned],
        "actions": taken,
    }
    publish(lake, f"{folder}/summary.json", json.dumps(summary, indent=2, default=str).encode())
    return summary


def claim_retrain_signal(postgres_uri: str, summary: dict[str, Any], dag_run_id: str | None) -> bool:
    """True once per drifted (model, day): the caller then emits `lake/signals/drift/<model>` (retraining)."""
    if not summary["drift_detected"]:
        return False
    model, day, version = summary["model"], date.fromisoformat(summary["ds"]), summary["model_version"]
    detail = {"drift_share": summary["drift_share"], "report": summary["report"]}
    if not store.claim(postgres_uri, model, day, act.RETRAIN_SIGNAL, version, detail, dag_run_id):
        return False
    store.complete(postgres_uri, model, day, act.RETRAIN_SIGNAL, {})
    return True


def _act(
    config: ModelConfig,
    day: date,
    version: str,
    planned: act.Planned,
    links: dict[str, str],
    drift: DriftResult,
    postgres_uri: str,
    dag_run_id: str | None,
    notify: Notify,
    tracking_uri: str | None,
    run_id: str,
) -> dict[str, Any]:
    """Do one claimed action, then mark it done; returns its record."""
    from include.training import tracking

    name, detail, extra = config.registered_model_name, {}, ""
    if planned.action == act.ROLLBACK:
        moved = tracking.rollback(name, tracking_uri)
        mlflow_client = tracking.client(tracking_uri)
        mlflow_client.set_model_version_tag(name, version, "rolled_back_on", day.isoformat())
        mlflow_client.set_model_version_tag(name, version, "rollback_reason", planned.reason)
        mlflow_client.set_tag(run_id, "action.rollback", f"v{version} -> v{moved.champion}")
        detail = {"from_version": version, "to_version": moved.champion, "notes": moved.notes}
        extra = f"Champion is now v{moved.champion}; v{version} is tagged rolled_back. Re-score the day to use it."
    channels = notify(*act.alert(config, day.isoformat(), version, planned, links, drift, extra))
    detail["channels"] = channels
    store.complete(postgres_uri, name, day, planned.action, detail)
    log.warning("model %s %s: %s (%s)", name, day, planned.action, planned.reason)
    return act.as_record(planned, **detail)


def _read(lake: Lake, ref: PartitionRef, columns: list[str] | None = None) -> pd.DataFrame:
    from include.lake import read_partition

    return read_partition(lake, ref, columns).to_pandas()


def _sample(lake: Lake, ref: PartitionRef, rows: int, seed: int) -> pd.DataFrame:
    """A uniform sample of about `rows` rows of a partition, drawn batch by batch (memory: the sample)."""
    from include.lake import iter_batches, read_manifest

    total = read_manifest(lake, ref).row_count
    keep = min(1.0, rows / total) if total else 1.0
    rng = np.random.default_rng(seed)
    parts = []
    for batch in iter_batches(lake, ref):
        frame = batch.to_pandas()
        parts.append(frame if keep >= 1.0 else frame[rng.random(len(frame)) < keep])
    if not parts:
        raise MonitoringError(f"features partition {ref.uri}: no rows to monitor")
    return pd.concat(parts, ignore_index=True)


def _log_run(
    config: ModelConfig,
    day: date,
    version: str,
    metrics: dict[str, float],
    drift: DriftResult,
    png: bytes,
    dag_run_id: str | None,
    tracking_uri: str | None,
) -> dict[str, str]:
    """One MLflow run per (model, day, version) in `<model>/monitoring`: metrics, report and plot as artifacts."""
    import tempfile
    from pathlib import Path

    import mlflow

    from include.training import tracking

    tracking.client(tracking_uri)
    experiment = mlflow.set_experiment(f"{config.experiment_name}/monitoring")
    tags = {"model_name": config.name, "model_version": version, "monitoring_date": day.isoformat()}
    found = mlflow.search_runs(
        [experiment.experiment_id],
        filter_string=" and ".join(f"tags.{k} = '{v}'" for k, v in tags.items()),
        max_results=1,
        output_format="list",
    )
    with mlflow.start_run(
        run_id=found[0].info.run_id if found else None,
        run_name=None if found else f"monitor-{day.isoformat()}-v{version}",
        tags={**tags, "dag_run_id": dag_run_id or "manual"},
    ) as run:
        mlflow.log_metrics({k: v for k, v in metrics.items() if np.isfinite(v)})
        mlflow.set_tags({"drift_detected": str(drift.detected).lower()})
        with tempfile.TemporaryDirectory() as scratch:
            (Path(scratch) / "report.html").write_text(drift.html)
            (Path(scratch) / "trend.png").write_bytes(png)
            mlflow.log_artifacts(scratch, artifact_path="monitoring")
    url = (
        f"{tracking_uri.rstrip('/')}/#/experiments/{experiment.experiment_id}/runs/{run.info.run_id}"
        if tracking_uri
        else ""
    )
    return {"run_id": run.info.run_id, "url": url}
