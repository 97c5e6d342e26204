"""A model is a config file: `include/models/<name>.yaml`, read into typed dataclasses.

`load_models(folder)` reads every `*.yaml` in a folder (the DAG generator loops over it),
`load_model(path)` one file. Every field is checked on load, and a malformed file fails
with a `ModelConfigError` that names the file and the field
(`credit_default.yaml: thresholds.min_roc_auc: expected a number in [0, 1], got 'high'`),
so a typo stops the DAG processor with a readable import error instead of a task failing
hours later. Unknown keys are errors too: a misspelt optional field would otherwise be
silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MODELS_DIR = Path(__file__).resolve().parent
ALGORITHMS = ("lightgbm", "pytorch_mlp")
APPROVAL_MODES = ("auto", "human")
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class ModelConfigError(ValueError):
    """A model YAML is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class FeatureSetConfig:
    name: str
    version: int | None  # None: whatever version the feature code is at
    categorical: tuple[str, ...] = ()  # string columns are categorical anyway; this forces others
    exclude: tuple[str, ...] = ()  # columns in the table the model must never see

    @property
    def version_tag(self) -> str | None:
        return None if self.version is None else f"v{self.version}"


@dataclass(frozen=True)
class LabelConfig:
    column: str
    definition: str
    horizon_days: int


@dataclass(frozen=True)
class SplitConfig:
    """Out-of-time split by calendar month, counted back from the reference month T."""

    train_until_months_before: int = 3
    validate_months_before: int = 2
    test_months_before: int = 1


@dataclass(frozen=True)
class AlgorithmConfig:
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    queue: str = "default"  # the Airflow queue (and pool) its training task runs on


@dataclass(frozen=True)
class Thresholds:
    min_roc_auc: float
    min_uplift: float  # ROC AUC points the challenger must gain over the champion
    max_brier: float | None = None
    require_behaviour_checks: bool = True


@dataclass(frozen=True)
class BehaviourConfig:
    increasing: tuple[str, ...] = ()  # raising the feature must not lower the mean PD
    decreasing: tuple[str, ...] = ()  # raising the feature must not raise the mean PD
    invariant: tuple[str, ...] = ()  # shuffling the column must not move any prediction
    tolerance: float = 1e-6


@dataclass(frozen=True)
class EnvironmentPolicy:
    approval: str  # "auto" or "human"
    approvers: tuple[str, ...] = ()
    timeout_hours: float = 72.0


@dataclass(frozen=True)
class MonitoringConfig:
    drift_share: float  # share of drifted features that counts as dataset drift
    performance_floor: float  # matured-label ROC AUC below which the model is degraded
    # Rows of the day and of the training reference that the drift report compares (a uniform
    # random sample above this size): keeps the Evidently report near a minute at any portfolio size.
    sample_rows: int = 100_000


@dataclass(frozen=True)
class DeadlineHours:
    """Hours after a run of each model DAG is queued by which it is expected to have finished:
    a run still going then alerts (Airflow's deadline alert; the run itself goes on)."""

    training: float  # a person's approval, where the environment asks for one, counts too
    scoring: float
    monitoring: float


@dataclass(frozen=True)
class ScheduleConfig:
    """When to retrain besides a drift signal: a cron. Scoring and monitoring need none: they
    run when the day's scoring features, then its predictions, are published."""

    training: str
    deadline_hours: DeadlineHours


@dataclass(frozen=True)
class AlertsConfig:
    slack: tuple[str, ...] = ()
    email: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelConfig:
    name: str
    description: str
    feature_set: FeatureSetConfig
    label: LabelConfig
    split: SplitConfig
    algorithms: tuple[AlgorithmConfig, ...]
    seed: int
    thresholds: Thresholds
    behaviour: BehaviourConfig
    owners: tuple[str, ...]
    alerts: AlertsConfig
    environments: dict[str, EnvironmentPolicy]
    monitoring: MonitoringConfig
    schedule: ScheduleConfig
    source: str = ""  # the file it was read from

    @property
    def experiment_name(self) -> str:
        """One MLflow experiment per model."""
        return self.name

    @property
    def registered_model_name(self) -> str:
        return self.name

    def algorithm(self, name: str) -> AlgorithmConfig:
        for algorithm in self.algorithms:
            if algorithm.name == name:
                return algorithm
        raise ModelConfigError(f"{self.source}: model '{self.name}' declares no algorithm '{name}'")

    def policy(self, environment: str) -> EnvironmentPolicy:
        try:
            return self.environments[environment]
        except KeyError:
            raise ModelConfigError(
                f"{self.source}: no environment policy for '{environment}', declared: {sorted(self.environments)}"
            ) from None

    def needs_human_approval(self, environment: str) -> bool:
        return self.policy(environment).approval == "human"


class _Fields:
    """Typed access to one mapping of the YAML; every error names the file and the dotted field."""

    def __init__(self, file: str, path: str, body: Any):
        self.file, self.path = file, path
        if not isinstance(body, dict):
            raise self.error("", f"expected a mapping, got {type(body).__name__}")
        self.body = body
        self.used: set[str] = set()

    def error(self, key: str, message: str) -> ModelConfigError:
        name = ".".join(p for p in (self.path, key) if p) or "<top level>"
        return ModelConfigError(f"{self.file}: {name}: {message}")

    def _get(self, key: str, required: bool, default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.body or self.body[key] is None:
            if required:
                raise self.error(key, "missing")
            return default
        return self.body[key]

    def str(self, key: str, required: bool = True, default: str | None = None, pattern: re.Pattern | None = None):
        value = self._get(key, required, default)
        if value is None:
            return value
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"expected a non-empty string, got {value!r}")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.error(key, f"expected lower-case letters, digits and '_' ({pattern.pattern}), got {value!r}")
        return value

    def int(self, key: str, required: bool = True, default: int | None = None, minimum: int = 0):
        value = self._get(key, required, default)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"expected an integer >= {minimum}, got {value!r}")
        return value

    def number(self, key: str, required: bool = True, default: float | None = None, low=0.0, high=1.0):
        value = self._get(key, required, default)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise self.error(key, f"expected a number in [{low:g}, {high:g}], got {value!r}")
        return float(value)

    def bool(self, key: str, default: bool):
        value = self._get(key, False, default)
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {value!r}")
        return value

    def strings(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self._get(key, required, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, f"expected a list of strings, got {value!r}")
        if required and not value:
            raise self.error(key, "expected at least one entry")
        return tuple(value)

    def child(self, key: str, required: bool = True) -> _Fields:
        return _Fields(self.file, ".".join(p for p in (self.path, key) if p), self._get(key, required, {}))

    def done(self) -> None:
        unknown = sorted(set(self.body) - self.used)
        if unknown:
            raise self.error("", f"unknown field(s) {unknown}")


def load_model(path: str | Path) -> ModelConfig:
    """Read and validate one model YAML."""
    path = Path(path)
    try:
        body = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ModelConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ModelConfigError(f"{path.name}: not valid YAML: {exc}") from None
    top = _Fields(path.name, "", body)
    config = ModelConfig(
        name=top.str("name", pattern=_NAME),
        description=top.str("description"),
        feature_set=_feature_set(top.child("feature_set")),
        label=_label(top.child("label")),
        split=_split(top.child("split", required=False)),
        algorithms=_algorithms(top),
        seed=top.int("seed", required=False, default=42),
        thresholds=_thresholds(top.child("thresholds")),
        behaviour=_behaviour(top.child("behaviour", required=False)),
        owners=top.strings("owners", required=True),
        alerts=_alerts(top.child("alerts", required=False)),
        environments=_environments(top),
        monitoring=_monitoring(top.child("monitoring")),
        schedule=_schedule(top.child("schedule")),
        source=str(path),
    )
    top.done()
    if config.name != path.stem:
        raise top.error("name", f"'{config.name}' must equal the file name '{path.stem}' (one model, one file)")
    _cross_check(config, top)
    return config


def load_models(folder: str | Path = MODELS_DIR) -> list[ModelConfig]:
    """Every model YAML in `folder`, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelConfigError(f"{folder}: model folder does not exist")
    return [load_model(path) for path in sorted(folder.glob("*.yaml"))]


def _feature_set(f: _Fields) -> FeatureSetConfig:
    result = FeatureSetConfig(
        name=f.str("name", pattern=_NAME),
        version=f.int("version", required=False, minimum=1),
        categorical=f.strings("categorical"),
        exclude=f.strings("exclude"),
    )
    f.done()
    return result


def _label(f: _Fields) -> LabelConfig:
    result = LabelConfig(
        column=f.str("column"), definition=f.str("definition"), horizon_days=f.int("horizon_days", minimum=1)
    )
    f.done()
    return result


def _split(f: _Fields) -> SplitConfig:
    result = SplitConfig(
        train_until_months_before=f.int("train_until_months_before", False, 3, minimum=1),
        validate_months_before=f.int("validate_months_before", False, 2, minimum=1),
        test_months_before=f.int("test_months_before", False, 1, minimum=0),
    )
    f.done()
    if not result.train_until_months_before > result.validate_months_before > result.test_months_before:
        raise f.error(
            "", "expected train_until_months_before > validate_months_before > test_months_before (out of time)"
        )
    return result


def _algorithms(top: _Fields) -> tuple[AlgorithmConfig, ...]:
    f = top.child("algorithms")
    if not f.body:
        raise top.error("algorithms", f"expected at least one of {list(ALGORITHMS)}")
    result = []
    for name in f.body:
        if name not in ALGORITHMS:
            raise f.error(str(name), f"unknown algorithm, expected one of {list(ALGORITHMS)}")
        a = f.child(name)
        params = a.child("params", required=False)
        a.used.add("params")
        result.append(
            AlgorithmConfig(
                name=name, params=dict(params.body), queue=a.str("queue", required=False, default="default")
            )
        )
        a.done()
    f.used.update(f.body)
    return tuple(result)


def _thresholds(f: _Fields) -> Thresholds:
    result = Thresholds(
        min_roc_auc=f.number("min_roc_auc", low=0.5),
        min_uplift=f.number("min_uplift", low=-1.0),
        max_brier=f.number("max_brier", required=False),
        require_behaviour_checks=f.bool("require_behaviour_checks", True),
    )
    f.done()
    return result


def _behaviour(f: _Fields) -> BehaviourConfig:
    result = BehaviourConfig(
        increasing=f.strings("increasing"),
        decreasing=f.strings("decreasing"),
        invariant=f.strings("invariant"),
        tolerance=f.number("tolerance", False, 1e-6, low=0.0, high=0.1),
    )
    f.done()
    return result


def _alerts(f: _Fields) -> AlertsConfig:
    result = AlertsConfig(slack=f.strings("slack"), email=f.strings("email"))
    f.done()
    return result


def _environments(top: _Fields) -> dict[str, EnvironmentPolicy]:
    f = top.child("environments")
    result = {}
    for name in f.body:
        e = f.child(name)
        approval = e.str("approval")
        if approval not in APPROVAL_MODES:
            raise e.error("approval", f"expected one of {list(APPROVAL_MODES)}, got {approval!r}")
        result[name] = EnvironmentPolicy(
            approval=approval,
            approvers=e.strings("approvers", required=approval == "human"),
            timeout_hours=e.number("timeout_hours", False, 72.0, low=0.01, high=24 * 30),
        )
        e.done()
    f.used.update(f.body)
    if not result:
        raise top.error("environments", "expected at least one environment (e.g. dev, prod)")
    return result


def _monitoring(f: _Fields) -> MonitoringConfig:
    result = MonitoringConfig(
        drift_share=f.number("drift_share"),
        performance_floor=f.number("performance_floor", low=0.5),
        sample_rows=f.int("sample_rows", required=False, default=100_000, minimum=1_000),
    )
    f.done()
    return result


def _schedule(f: _Fields) -> ScheduleConfig:
    from croniter import croniter

    training = f.str("training")
    if not croniter.is_valid(training):
        raise f.error("training", f"expected a cron expression such as '0 4 2 * *' or '@weekly', got {training!r}")
    hours = f.child("deadline_hours")
    # Up to 8 days, the training DAG's run timeout: a later deadline could never be missed.
    deadline_hours = DeadlineHours(
        training=hours.number("training", low=0.05, high=192),
        scoring=hours.number("scoring", low=0.05, high=192),
        monitoring=hours.number("monitoring", low=0.05, high=192),
    )
    hours.done()
    result = ScheduleConfig(training=training, deadline_hours=deadline_hours)
    f.done()
    return result


def _cross_check(config: ModelConfig, top: _Fields) -> None:
    fs, b = config.feature_set, config.behaviour
    for key, names in (("increasing", b.increasing), ("decreasing", b.decreasing)):
        for name in names:
            if name in fs.exclude:
                raise top.error(f"behaviour.{key}", f"'{name}' is in feature_set.exclude, so the model never sees it")
    both = set(b.increasing) & set(b.decreasing)
    if both:
        raise top.error("behaviour", f"{sorted(both)} declared both increasing and decreasing")
    if config.label.column in fs.categorical or config.label.column in fs.exclude:
        raise top.error("label.column", f"'{config.label.column}' is also listed in feature_set")
    if config.monitoring.performance_floor > config.thresholds.min_roc_auc:
        raise top.error(
            "monitoring.performance_floor",
            f"{config.monitoring.performance_floor} is above thresholds.min_roc_auc {config.thresholds.min_roc_auc}: "
            "a freshly promoted model would count as degraded",
        )
