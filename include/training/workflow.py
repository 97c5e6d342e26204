"""The training DAG's decisions, as plain functions: where the training set is, which
candidate becomes the challenger, and which way the approval goes.

- `locate_training_set`: every committed partition of `features/<set>_training/v<version>`
  (the version the YAML pins, else the feature code's current one);
- `select_challenger`: of the algorithms trained in one run (all scored on the same test
  month), the best ROC AUC among those that pass their behavioural checks;
- `models_folder` / `model_by_name`: where the DAG files find the model YAMLs.

Imports nothing heavy: the DAG files use it at parse time.
- `approval_route`: gate failed -> nothing changes; gate passed -> promote at once where the
  environment's policy says `auto`, else ask a person.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from include.models.config import MODELS_DIR, ModelConfig, ModelConfigError, load_model

if TYPE_CHECKING:
    from include.lake import Lake

# The approval routes (the DAG maps each to a task).
AUTO, HUMAN, NONE = "auto", "human", "none"


def training_dataset(config: ModelConfig) -> str:
    """The lake dataset the feature pipeline writes the model's labelled rows to."""
    return f"{config.feature_set.name}_training"


def feature_set_version(config: ModelConfig) -> str:
    """`v<n>`: the YAML's pin, else the version of the feature set `include.features` declares under that name."""
    if config.feature_set.version_tag:
        return config.feature_set.version_tag
    from include.features import definitions

    for value in vars(definitions).values():
        if isinstance(value, definitions.FeatureSet) and value.name == config.feature_set.name:
            return f"v{value.version}"
    raise ModelConfigError(
        f"{config.source}: feature_set.name '{config.feature_set.name}' has no definition in "
        "include/features/definitions.py, so its version is unknown: pin feature_set.version"
    )


def locate_training_set(config: ModelConfig, lake: Lake, until: date | None = None) -> dict[str, Any]:
    """References to the training set: partition URIs (oldest first), the version, the days covered."""
    from include.lake import list_partitions
    from include.training.data import TrainingDataError

    dataset, version = training_dataset(config), feature_set_version(config)
    days = [d for d in list_partitions(lake, "features", dataset, version) if until is None or d <= until]
    if not days:
        where = lake.uri(lake.dataset("features", dataset, version))
        bound = f" up to {until}" if until else ""
        raise TrainingDataError(
            f"model {config.name}: no committed partition under {where}{bound}; "
            "build the features first (DAG build_features)"
        )
    return {
        "sources": [lake.partition("features", dataset, version, ds=d).uri for d in days],
        "feature_set_version": version,
        "partitions": len(days),
        "first_day": days[0].isoformat(),
        "last_day": days[-1].isoformat(),
    }


def select_challenger(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The run summary (`pipeline.train_and_log`) to put forward; ties go to the first declared algorithm."""
    if not runs:
        raise ValueError("select_challenger: no trained candidate to choose from")
    passing = [r for r in runs if r["checks_passed"]] or list(runs)
    return max(passing, key=lambda r: r["roc_auc"])


def approval_route(config: ModelConfig, environment: str, gate_passed: bool) -> str:
    """NONE when the gate failed; AUTO or HUMAN as the model's policy for `environment` says."""
    if not gate_passed:
        return NONE
    return HUMAN if config.needs_human_approval(environment) else AUTO


def models_folder() -> Path:
    """Where the DAG files read model YAMLs: `PLATFORM_MODELS_DIR`, else `include/models` (tests point it elsewhere)."""
    return Path(os.environ.get("PLATFORM_MODELS_DIR") or MODELS_DIR)


def model_by_name(name: str) -> ModelConfig:
    """The model YAML `<name>.yaml` of the models folder."""
    path = models_folder() / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in models_folder().glob("*.yaml"))
        raise ModelConfigError(f"model '{name}': no {path}, the models folder holds {known}")
    return load_model(path)
