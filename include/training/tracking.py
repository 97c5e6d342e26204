"""MLflow: log a trained candidate, register it, and move the registry aliases.

- `log_candidate`: one run in the model's experiment (one experiment per model) with the
  parameters, the test-month metrics, the plots and tables, the training set as a dataset
  input (its lake URI and checksum), lineage tags (git commit, feature set version, DAG
  id, run id, data interval) and `lineage.json` for reproduction; the model as a pyfunc
  with signature and input example, registered, with alias `challenger`.
- `compare`: challenger against champion and thresholds -> a `Decision` with reasons and a
  Markdown body for the approval step.
- `promote` / `rollback`: champion -> previous_champion, challenger -> champion, and back.
  Both only use the registry's alias API, and `promote` is idempotent: promoting the
  version that already is champion changes nothing.

The tracking server comes from `tracking_uri` or `MLFLOW_TRACKING_URI`.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from include.models.config import ModelConfig, Thresholds
from include.training.data import Split, TrainingSet
from include.training.evaluation import Evaluation

CHALLENGER, CHAMPION, PREVIOUS = "challenger", "champion", "previous_champion"
HEADLINE = ("roc_auc", "gini", "ks", "pr_auc", "brier")


class RegistryError(RuntimeError):
    """A registry operation is impossible as asked; the message names the model and the alias."""


@dataclass(frozen=True)
class Lineage:
    """Where a run came from: what `reproduce_model` needs to rebuild it."""

    code_version: str
    feature_set_version: str | None = None  # of the training set read (v<n>); the YAML's pin if None
    dag_id: str = "manual"
    dag_run_id: str = "manual"
    data_interval_start: str | None = None
    data_interval_end: str | None = None
    environment: str = "dev"


@dataclass(frozen=True)
class LoggedModel:
    run_id: str
    model_uri: str
    version: str
    experiment_id: str


@dataclass(frozen=True)
class Candidate:
    """One side of a comparison: metrics measured on the same test month as the other side."""

    version: str
    metrics: dict[str, float]
    checks_passed: bool = True
    algorithm: str = ""
    run_id: str = ""


@dataclass(frozen=True)
class Decision:
    promote: bool
    reasons: list[str]
    challenger: Candidate
    champion: Candidate | None
    thresholds: Thresholds
    model_name: str = ""

    @property
    def markdown(self) -> str:
        """The approval request's body: verdict, the side-by-side metrics, and every reason."""
        champion = self.champion
        head = f"### Promote {self.model_name} v{self.challenger.version} ({self.challenger.algorithm}) to champion?"
        rows = ["| metric | challenger | champion |", "| --- | --- | --- |"]
        for name in HEADLINE:
            theirs = f"{champion.metrics[name]:.4f}" if champion and name in champion.metrics else "—"
            rows.append(f"| {name} | {self.challenger.metrics.get(name, float('nan')):.4f} | {theirs} |")
        verdict = "**Gate passed**: approve to promote." if self.promote else "**Gate failed**: not promotable."
        who = f"v{champion.version} ({champion.algorithm})" if champion else "none yet"
        return "\n".join(
            [head, "", verdict, f"Current champion: {who}.", "", *rows, "", *(f"- {r}" for r in self.reasons)]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "reasons": self.reasons,
            "challenger": asdict(self.challenger),
            "champion": asdict(self.champion) if self.champion else None,
        }


@dataclass(frozen=True)
class AliasMove:
    changed: bool
    champion: str
    previous_champion: str | None
    notes: list[str] = field(default_factory=list)


def client(tracking_uri: str | None = None) -> MlflowClient:
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        mlflow.set_tracking_uri(uri)
    return MlflowClient()


def log_candidate(
    config: ModelConfig,
    model: Any,
    evaluation: Evaluation,
    training_set: TrainingSet,
    split: Split,
    lineage: Lineage,
    *,
    tracking_uri: str | None = None,
    register: bool = True,
) -> LoggedModel:
    """Log one trained candidate as a run of the model's experiment; register it as `challenger`."""
    from mlflow.models import infer_signature

    from include.training.pyfunc import PDModel

    version_read = feature_set_version(config, lineage)
    mlflow_client = client(tracking_uri)
    experiment = mlflow.set_experiment(config.experiment_name)
    mlflow_client.set_experiment_tag(experiment.experiment_id, "owners", ",".join(config.owners))
    fs = config.feature_set
    tags = {
        "model_name": config.name,
        "algorithm": model.algorithm,
        "device": model.device,
        "mixed_precision": str(getattr(model, "mixed_precision", False)).lower(),
        "precision": getattr(model, "precision", "float32"),
        "git_commit": lineage.code_version,
        "feature_set": fs.name,
        "feature_set_version": version_read,
        "dag_id": lineage.dag_id,
        "dag_run_id": lineage.dag_run_id,
        "data_interval_start": lineage.data_interval_start or "",
        "data_interval_end": lineage.data_interval_end or "",
        "environment": lineage.environment,
        "training_set_sha256": training_set.checksum,
    }
    features = list(model.spec.columns)
    with mlflow.start_run(run_name=f"{model.algorithm}-{lineage.dag_run_id}", tags=tags) as run:
        mlflow.log_params(
            {
                **{f"param.{k}": _flat(v) for k, v in sorted(model.params.items())},
                "algorithm": model.algorithm,
                "seed": config.seed,
                "reference_month": split.reference_month,
                "train_months": ",".join(split.months["train"]),
                "validate_month": ",".join(split.months["validate"]),
                "test_month": ",".join(split.months["test"]),
                "features": len(features),
                **{f"rows.{k}": v for k, v in split.sizes().items()},
            }
        )
        top = evaluation.deciles.iloc[0]
        mlflow.log_metrics(
            {
                **evaluation.metrics,
                "top_decile_lift": float(top["lift"]),
                "top_decile_capture": float(top["cumulative_capture"]),
                "behaviour_checks_passed": float(evaluation.checks_passed),
                "train_seconds": float(model.train_seconds),
            }
        )
        _log_history(mlflow_client, run.info.run_id, model.history)
        mlflow.log_input(_dataset(config, training_set, lineage), context="training", tags=_input_tags(training_set))
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            evaluation.deciles.to_csv(folder / "deciles.csv", index=False)
            evaluation.calibration.to_csv(folder / "calibration.csv", index=False)
            evaluation.importance.rename_axis("feature").to_csv(folder / "feature_importance.csv")
            (folder / "evaluation.json").write_text(json.dumps(evaluation.summary(), indent=2))
            (folder / "lineage.json").write_text(
                json.dumps(_lineage_record(config, model, training_set, split, lineage), indent=2)
            )
            mlflow.log_artifacts(scratch, artifact_path="evaluation")
        for path in evaluation.plots.values():
            mlflow.log_artifact(str(path), artifact_path="plots")
        example = split.test[features].head(5).reset_index(drop=True)
        # Numerics as float64 in the signature: an integer column would reject a missing value at inference.
        example = example.astype(dict.fromkeys(model.spec.numeric, "float64"))
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=PDModel(model),
            signature=infer_signature(example, model.predict_proba(example)),
            input_example=example,
            pip_requirements=_requirements(model.algorithm),
        )
    version = ""
    if register:
        registered = mlflow.register_model(
            info.model_uri, config.registered_model_name, tags=_version_tags(model, evaluation)
        )
        version = str(registered.version)
        mlflow_client.set_registered_model_alias(config.registered_model_name, CHALLENGER, version)
    return LoggedModel(run.info.run_id, info.model_uri, version, experiment.experiment_id)


def alias_version(model_name: str, alias: str, tracking_uri: str | None = None) -> str | None:
    """The version an alias points to, or None when the alias (or the model) does not exist."""
    try:
        return str(client(tracking_uri).get_model_version_by_alias(model_name, alias).version)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"):
            return None
        raise


def load_model(model_name: str, alias_or_version: str, tracking_uri: str | None = None) -> Any:
    """The fitted model object (with `predict_proba`) of a registered version or alias."""
    client(tracking_uri)
    ref = f"/{alias_or_version}" if str(alias_or_version).isdigit() else f"@{alias_or_version}"
    uri = f"models:/{model_name}{ref}"
    return mlflow.pyfunc.load_model(uri).unwrap_python_model().model


def candidate(version: str, evaluation: Evaluation, algorithm: str = "", run_id: str = "") -> Candidate:
    """A comparison side from an evaluation on the shared test month."""
    return Candidate(
        version=str(version),
        metrics=dict(evaluation.metrics),
        checks_passed=evaluation.checks_passed,
        algorithm=algorithm,
        run_id=run_id,
    )


def compare(
    challenger: Candidate, champion: Candidate | None, thresholds: Thresholds, model_name: str = ""
) -> Decision:
    """Every threshold, then the uplift over the champion; promote only if all pass.

    Both candidates must have been evaluated on the same test frame (re-score the champion
    with `load_model` + `evaluate`): metrics from different months do not compare.
    """
    reasons, ok = [], True

    def check(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        reasons.append(f"{'PASS' if passed else 'FAIL'}: {text}")

    auc = challenger.metrics["roc_auc"]
    check(auc >= thresholds.min_roc_auc, f"ROC AUC {auc:.4f} >= minimum {thresholds.min_roc_auc:.4f}")
    if thresholds.max_brier is not None:
        brier = challenger.metrics["brier"]
        check(brier <= thresholds.max_brier, f"Brier {brier:.4f} <= maximum {thresholds.max_brier:.4f}")
    if thresholds.require_behaviour_checks:
        check(challenger.checks_passed, "behavioural checks (direction, invariance) all pass")
    if champion is None:
        reasons.append("PASS: no champion yet, so no uplift is required")
    else:
        uplift = auc - champion.metrics["roc_auc"]
        check(
            uplift >= thresholds.min_uplift,
            f"ROC AUC uplift over champion v{champion.version} {uplift:+.4f} >= required {thresholds.min_uplift:+.4f}",
        )
    return Decision(ok, reasons, challenger, champion, thresholds, model_name)


def set_challenger(model_name: str, version: str, tracking_uri: str | None = None) -> None:
    """Point `challenger` at `version` (the candidate a training run puts forward)."""
    mlflow_client = client(tracking_uri)
    _require_version(mlflow_client, model_name, str(version))
    mlflow_client.set_registered_model_alias(model_name, CHALLENGER, str(version))


def promote(model_name: str, version: str, tracking_uri: str | None = None) -> AliasMove:
    """champion -> previous_champion, `version` -> champion (and off challenger). Idempotent."""
    mlflow_client = client(tracking_uri)
    version = str(version)
    _require_version(mlflow_client, model_name, version)
    current = alias_version(model_name, CHAMPION)
    notes = []
    if current == version:
        return AliasMove(False, version, alias_version(model_name, PREVIOUS), [f"v{version} already champion"])
    if current is not None:
        mlflow_client.set_registered_model_alias(model_name, PREVIOUS, current)
        notes.append(f"v{current}: champion -> previous_champion")
    mlflow_client.set_registered_model_alias(model_name, CHAMPION, version)
    notes.append(f"v{version} -> champion")
    if alias_version(model_name, CHALLENGER) == version:
        mlflow_client.delete_registered_model_alias(model_name, CHALLENGER)
    return AliasMove(True, version, current, notes)


def rollback(model_name: str, tracking_uri: str | None = None) -> AliasMove:
    """previous_champion -> champion; the demoted version is tagged `rolled_back`."""
    mlflow_client = client(tracking_uri)
    previous = alias_version(model_name, PREVIOUS)
    if previous is None:
        raise RegistryError(f"model {model_name}: no '{PREVIOUS}' alias, so there is nothing to roll back to")
    current = alias_version(model_name, CHAMPION)
    mlflow_client.set_registered_model_alias(model_name, CHAMPION, previous)
    mlflow_client.delete_registered_model_alias(model_name, PREVIOUS)
    notes = [f"v{previous}: previous_champion -> champion"]
    if current is not None:
        mlflow_client.set_model_version_tag(model_name, current, "rolled_back", "true")
        notes.append(f"v{current}: demoted, tagged rolled_back")
    return AliasMove(True, previous, None, notes)


def _require_version(mlflow_client: MlflowClient, model_name: str, version: str) -> None:
    try:
        mlflow_client.get_model_version(model_name, version)
    except MlflowException:
        raise RegistryError(f"model {model_name}: version {version} is not registered") from None


def feature_set_version(config: ModelConfig, lineage: Lineage) -> str:
    """The version trained on; a model YAML that pins a version refuses any other."""
    pinned, read = config.feature_set.version_tag, lineage.feature_set_version
    if pinned and read and pinned != read:
        raise ValueError(
            f"{config.source}: feature_set.version pins {pinned}, "
            f"but the training set is {config.feature_set.name} {read}"
        )
    return read or pinned or "unversioned"


def _dataset(config: ModelConfig, training_set: TrainingSet, lineage: Lineage):
    # MLflow's dataset digest column holds 36 characters; the full SHA-256 goes in the input's tags.
    return mlflow.data.from_pandas(
        training_set.frame,
        source=_common_root(training_set.sources),
        targets=config.label.column,
        name=f"{config.feature_set.name}_{feature_set_version(config, lineage)}",
        digest=training_set.checksum[:32],
    )


def _input_tags(training_set: TrainingSet) -> dict[str, str]:
    return {"sha256": training_set.checksum, "sources": str(len(training_set.sources)), "rows": str(training_set.rows)}


def _common_root(sources: tuple[str, ...]) -> str:
    """The lake URI of the feature set: the common folder of every source partition."""
    if len(sources) == 1:
        return sources[0]
    parts = [s.rstrip("/").split("/") for s in sources]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/".join(common) or sources[0]


def _lineage_record(
    config: ModelConfig, model: Any, training_set: TrainingSet, split: Split, lineage: Lineage
) -> dict[str, Any]:
    return {
        "model_name": config.name,
        "algorithm": model.algorithm,
        "params": model.params,
        "seed": config.seed,
        "feature_set": config.feature_set.name,
        "feature_set_version": feature_set_version(config, lineage),
        "features": {"numeric": list(model.spec.numeric), "categorical": list(model.spec.categorical)},
        "label": config.label.column,
        "reference_month": split.reference_month,
        "split_months": split.months,
        "sources": training_set.source_checksums,
        "training_set_sha256": training_set.checksum,
        "rows": training_set.rows,
        **asdict(lineage),
    }


def _version_tags(model: Any, evaluation: Evaluation) -> dict[str, str]:
    return {
        "algorithm": model.algorithm,
        "device": model.device,
        **{name: f"{evaluation.metrics[name]:.6f}" for name in HEADLINE},
    }


def _log_history(mlflow_client: MlflowClient, run_id: str, history: Mapping[str, list[float]]) -> None:
    from mlflow.entities import Metric

    metrics = [
        Metric(f"history.{name}", float(value), 0, step)
        for name, values in history.items()
        for step, value in enumerate(values, 1)
    ]
    for start in range(0, len(metrics), 1000):  # the server's batch limit
        mlflow_client.log_batch(run_id, metrics=metrics[start : start + 1000])


def _requirements(algorithm: str) -> list[str]:
    from importlib.metadata import version

    packages = ["mlflow", "pandas", "numpy", "scikit-learn", "cloudpickle"]
    packages.append("lightgbm" if algorithm == "lightgbm" else "torch")
    return [f"{name}=={version(name)}" for name in packages]


def _flat(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)
