"""Reproduce a registered model version from its recorded lineage, and say whether it reproduced.

`reproduce(config, version, lake)`:
1. reads the version's run and its `evaluation/lineage.json` (written by `tracking.log_candidate`);
   a missing file or field fails with `ReproductionError` naming what is missing;
2. rebuilds the training set from the recorded partitions: each must still exist and hold
   the recorded checksum (a partition gone or rewritten fails, naming every such partition),
   and together they must give the recorded training-set SHA-256;
3. retrains the recorded algorithm with the recorded parameters, seed, features and split
   months (not today's YAML: the point is to repeat what was done);
4. evaluates on the recorded test month and compares with the run's metrics: reproduced when
   |ΔROC AUC| <= `tolerance` (default 0.005);
5. writes the report to the lake (`reports/training/<model>/v<version>/reproduction.json`,
   replaced by a re-run) and to MLflow (a `reproduce-v<version>` run in the model's
   experiment, and a `reproduction` tag on the version), then fails if it did not reproduce.

The code commit is recorded and compared, not checked out: the report says whether the
code differs, which is the first suspect when the metrics do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.models.config import AlgorithmConfig, BehaviourConfig, ModelConfig
from include.training.data import FeatureSpec, Split, TrainingDataError, TrainingSet, read_training_set

if TYPE_CHECKING:
    from include.lake import Lake

TOLERANCE = 0.005
REQUIRED = (
    "algorithm",
    "params",
    "seed",
    "feature_set",
    "feature_set_version",
    "features",
    "label",
    "reference_month",
    "split_months",
    "sources",
    "training_set_sha256",
    "code_version",
)
COMPARED = ("roc_auc", "gini", "ks", "pr_auc", "brier")


class ReproductionError(RuntimeError):
    """The version cannot be reproduced, or did not reproduce; the message says which part and why."""


@dataclass(frozen=True)
class Recorded:
    """What the registry holds about one version: its run, lineage and metrics."""

    model_name: str
    version: str
    run_id: str
    lineage: dict[str, Any]
    metrics: dict[str, float]

    @property
    def where(self) -> str:
        return f"model {self.model_name} v{self.version} (run {self.run_id})"


def load_recorded(model_name: str, version: str, tracking_uri: str | None = None) -> Recorded:
    """The version's run id, `lineage.json` and metrics from MLflow."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from include.training import tracking

    mlflow_client = tracking.client(tracking_uri)
    try:
        run_id = mlflow_client.get_model_version(model_name, str(version)).run_id
    except MlflowException:
        raise ReproductionError(f"model {model_name}: version {version} is not registered") from None
    where = f"model {model_name} v{version} (run {run_id})"
    try:
        text = mlflow.artifacts.load_text(f"runs:/{run_id}/evaluation/lineage.json")
    except (MlflowException, OSError) as exc:
        raise ReproductionError(
            f"{where}: lineage incomplete: no evaluation/lineage.json in the run ({type(exc).__name__})"
        ) from None
    try:
        lineage = json.loads(text)
    except ValueError as exc:
        raise ReproductionError(f"{where}: lineage incomplete: evaluation/lineage.json is not JSON ({exc})") from None
    metrics = dict(mlflow_client.get_run(run_id).data.metrics)
    return Recorded(model_name, str(version), run_id, lineage, metrics)


def check_lineage(recorded: Recorded) -> None:
    """Every field reproduction needs is present, and the run has the metrics to compare with."""
    lineage = recorded.lineage
    missing = [k for k in REQUIRED if lineage.get(k) in (None, "", [], {})]
    if lineage.get("code_version") == "unknown":
        missing.append("code_version (recorded as 'unknown': the run was not trained from a git checkout)")
    features = lineage.get("features") or {}
    if features and not isinstance(features.get("numeric"), list):
        missing.append("features.numeric")
    months = lineage.get("split_months") or {}
    missing += [f"split_months.{k}" for k in ("train", "validate", "test") if months and not months.get(k)]
    if missing:
        raise ReproductionError(f"{recorded.where}: lineage incomplete: missing {missing}")
    if "roc_auc" not in recorded.metrics:
        raise ReproductionError(f"{recorded.where}: lineage incomplete: the run logged no roc_auc to compare with")


def rebuild_training_set(recorded: Recorded, lake: Lake | None) -> TrainingSet:
    """Read exactly the recorded sources; fail naming every one that is gone or changed."""
    from include.lake import LakeError, read_manifest

    sources: dict[str, str] = recorded.lineage["sources"]
    gone, changed = [], []
    for uri, checksum in sources.items():
        if lake is not None and uri.startswith(f"{lake.root_uri}/"):
            try:
                manifest = read_manifest(lake, lake.partition_from_uri(uri))
            except LakeError as exc:
                gone.append(f"{uri} ({exc})")
                continue
            if manifest is None:
                gone.append(uri)
            elif manifest.content_sha256 != checksum:
                changed.append(f"{uri} (sha256 now {manifest.content_sha256[:12]}…, recorded {checksum[:12]}…)")
        elif not Path(uri.removeprefix("file://")).exists():
            gone.append(uri)
    if gone or changed:
        parts = []
        if gone:
            parts.append(f"{len(gone)} source partition(s) gone: {', '.join(gone)}")
        if changed:
            parts.append(f"{len(changed)} rewritten since training: {', '.join(changed)}")
        raise ReproductionError(
            f"{recorded.where}: cannot rebuild the training set: {'; '.join(parts)}. Rebuild the features for those"
            f" days at code commit {recorded.lineage['code_version']} (feature set"
            f" {recorded.lineage['feature_set']} {recorded.lineage['feature_set_version']})"
        )
    try:
        training_set = read_training_set(list(sources), lake, recorded.lineage["label"])
    except (TrainingDataError, LakeError) as exc:
        raise ReproductionError(f"{recorded.where}: cannot rebuild the training set: {exc}") from None
    if training_set.checksum != recorded.lineage["training_set_sha256"]:
        differ = [u for u, c in training_set.source_checksums.items() if sources.get(u) != c]
        raise ReproductionError(
            f"{recorded.where}: the rebuilt training set's sha256 {training_set.checksum[:12]}… differs from the"
            f" recorded {recorded.lineage['training_set_sha256'][:12]}… (sources whose content differs: {differ})"
        )
    return training_set


def recorded_split(frame: pd.DataFrame, lineage: dict[str, Any]) -> Split:
    """The recorded train/validate/test months, exactly (not today's YAML split rule)."""
    label, months = lineage["label"], lineage["split_months"]
    month = frame["ds"].dt.to_period("M").astype(str)
    parts = {name: frame[month.isin(months[name])].reset_index(drop=True) for name in ("train", "validate", "test")}
    for name, part in parts.items():
        if part.empty or part[label].nunique() < 2:
            raise ReproductionError(
                f"recorded split: the {name} months {months[name]} hold {len(part)} rows"
                f" ({part[label].nunique() if len(part) else 0} label values) in the rebuilt training set"
            )
    return Split(**parts, reference_month=lineage["reference_month"], months=months)


def retrain_and_compare(
    recorded: Recorded, training_set: TrainingSet, behaviour: BehaviourConfig | None = None
) -> dict[str, Any]:
    """Retrain with the recorded algorithm, parameters and seed; metrics side by side with the run's."""
    from include.training.evaluation import evaluate
    from include.training.trainers import train

    lineage = recorded.lineage
    spec = FeatureSpec(
        numeric=tuple(lineage["features"]["numeric"]), categorical=tuple(lineage["features"].get("categorical", []))
    )
    absent = [c for c in spec.columns if c not in training_set.frame.columns]
    if absent:
        raise ReproductionError(f"{recorded.where}: the rebuilt training set lacks the recorded features {absent}")
    split = recorded_split(training_set.frame, lineage)
    algorithm = AlgorithmConfig(name=lineage["algorithm"], params=dict(lineage["params"]))
    model = train(algorithm, split, spec, int(lineage["seed"]), lineage["label"])
    result = evaluate(
        model,
        split.test,
        label=lineage["label"],
        features=spec.columns,
        behaviour=behaviour or BehaviourConfig(),
        seed=int(lineage["seed"]),
    )
    reproduced = {k: float(result.metrics[k]) for k in COMPARED if k in result.metrics}
    original = {k: float(recorded.metrics[k]) for k in COMPARED if k in recorded.metrics}
    return {
        "recorded_metrics": original,
        "reproduced_metrics": reproduced,
        "delta": {k: reproduced[k] - original[k] for k in original if k in reproduced},
        "device": model.device,
        "rows": training_set.rows,
    }


def build_report(recorded: Recorded, comparison: dict[str, Any], tolerance: float = TOLERANCE) -> dict[str, Any]:
    """The report artifact: verdict, metrics side by side, and the lineage it was rebuilt from."""
    from include.lake import detect_code_version

    lineage = recorded.lineage
    delta = abs(comparison["delta"]["roc_auc"])
    now = detect_code_version()
    return {
        "model": recorded.model_name,
        "version": recorded.version,
        "run_id": recorded.run_id,
        "algorithm": lineage["algorithm"],
        "reproduced": delta <= tolerance,
        "abs_delta_roc_auc": delta,
        "tolerance": tolerance,
        **comparison,
        "seed": lineage["seed"],
        "feature_set": lineage["feature_set"],
        "feature_set_version": lineage["feature_set_version"],
        "sources": len(lineage["sources"]),
        "training_set_sha256": lineage["training_set_sha256"],
        "code_version_recorded": lineage["code_version"],
        "code_version_now": now,
        "same_code": now == lineage["code_version"],
        "checked_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report_path(model_name: str, version: str) -> str:
    """Relative to the lake root; one report per version, replaced by a re-run."""
    return f"reports/training/{model_name}/v{version}/reproduction.json"


def reproduce(
    config: ModelConfig,
    version: str,
    lake: Lake | None,
    *,
    tracking_uri: str | None = None,
    tolerance: float = TOLERANCE,
    report_lake: Lake | None = None,
) -> dict[str, Any]:
    """Steps 1-5 above; returns the report (with `report_uri`, `mlflow_run_id`) or raises ReproductionError."""
    recorded = load_recorded(config.registered_model_name, version, tracking_uri)
    check_lineage(recorded)
    training_set = rebuild_training_set(recorded, lake)
    report = build_report(recorded, retrain_and_compare(recorded, training_set, config.behaviour), tolerance)
    target = report_lake or lake
    if target is not None:
        from include.lake import write_json

        report["report_uri"] = write_json(target, report_path(recorded.model_name, recorded.version), report)
    report["mlflow_run_id"] = _log_report(config, recorded, report, tracking_uri)
    if not report["reproduced"]:
        raise ReproductionError(
            f"{recorded.where} did not reproduce: ROC AUC recorded {report['recorded_metrics']['roc_auc']:.4f}, "
            f"retrained {report['reproduced_metrics']['roc_auc']:.4f}, "
            f"|Δ| {report['abs_delta_roc_auc']:.4f} > {tolerance}"
            f" (same code: {report['same_code']}); report {report.get('report_uri', 'in MLflow')}"
        )
    return report


def _log_report(config: ModelConfig, recorded: Recorded, report: dict[str, Any], tracking_uri: str | None) -> str:
    import mlflow

    from include.training import tracking

    mlflow_client = tracking.client(tracking_uri)
    mlflow.set_experiment(config.experiment_name)
    tags = {
        "model_name": recorded.model_name,
        "reproduces_version": recorded.version,
        "reproduces_run_id": recorded.run_id,
        "reproduced": str(report["reproduced"]).lower(),
        "git_commit": report["code_version_now"],
    }
    with mlflow.start_run(run_name=f"reproduce-v{recorded.version}", tags=tags) as run:
        mlflow.log_metrics(
            {
                "abs_delta_roc_auc": report["abs_delta_roc_auc"],
                **{f"reproduced.{k}": v for k, v in report["reproduced_metrics"].items()},
            }
        )
        mlflow.log_dict(report, "reproduction/report.json")
    mlflow_client.set_model_version_tag(
        recorded.model_name, recorded.version, "reproduction", "passed" if report["reproduced"] else "failed"
    )
    return run.info.run_id
