"""The training steps as the DAGs call them: references in (URIs, names), small dicts out.

- `train_and_log`: read the training set, split it out of time, train one algorithm,
  evaluate it on the test month, log and register it as `challenger`;
- `promotion_decision`: re-score the challenger and the current champion on the *same*
  test month (the champion's own run measured an older month) and apply the gate.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from include.models.config import ModelConfig
from include.training import tracking
from include.training.data import feature_spec, out_of_time_split, read_training_set
from include.training.evaluation import evaluate
from include.training.trainers import train

if TYPE_CHECKING:
    from include.lake import Lake


def train_and_log(
    config: ModelConfig,
    sources: Sequence[str],
    algorithm: str,
    lineage: tracking.Lineage,
    *,
    lake: Lake | None = None,
    reference_month: str | None = None,
    tracking_uri: str | None = None,
) -> dict[str, Any]:
    """Train `algorithm` of `config` on `sources`; the summary row of `training.runs` in the demo summary."""
    label = config.label.column
    training_set = read_training_set(sources, lake, label)
    spec = feature_spec(training_set.frame, config)
    split = out_of_time_split(training_set.frame, config.split, label, reference_month)
    directions = dict.fromkeys(config.behaviour.increasing, 1) | dict.fromkeys(config.behaviour.decreasing, -1)
    model = train(config.algorithm(algorithm), split, spec, config.seed, label, monotone=directions)
    with tempfile.TemporaryDirectory() as plots:
        evaluation = evaluate(
            model,
            split.test,
            label=label,
            features=spec.columns,
            behaviour=config.behaviour,
            seed=config.seed,
            plots_dir=Path(plots),
            title=f"{config.name} {algorithm}",
        )
        logged = tracking.log_candidate(
            config, model, evaluation, training_set, split, lineage, tracking_uri=tracking_uri
        )
    return {
        "algorithm": algorithm,
        "model": config.registered_model_name,
        "version": logged.version,
        "mlflow_run_id": logged.run_id,
        "device": model.device,
        "roc_auc": evaluation.metrics["roc_auc"],
        "gini": evaluation.metrics["gini"],
        "checks_passed": evaluation.checks_passed,
        "train_seconds": model.train_seconds,
    }


def promotion_decision(
    config: ModelConfig,
    challenger_version: str,
    sources: Sequence[str],
    *,
    lake: Lake | None = None,
    reference_month: str | None = None,
    tracking_uri: str | None = None,
) -> tracking.Decision:
    """Challenger `challenger_version` against the current champion, both scored on the same test month."""
    label = config.label.column
    frame = read_training_set(sources, lake, label).frame
    test = out_of_time_split(frame, config.split, label, reference_month).test
    name = config.registered_model_name

    def score(version: str) -> tracking.Candidate:
        model = tracking.load_model(name, version, tracking_uri)
        result = evaluate(
            model, test, label=label, features=list(model.spec.columns), behaviour=config.behaviour, seed=config.seed
        )
        return tracking.candidate(version, result, algorithm=model.algorithm)

    champion_version = tracking.alias_version(name, tracking.CHAMPION, tracking_uri)
    champion = score(champion_version) if champion_version else None
    return tracking.compare(score(str(challenger_version)), champion, config.thresholds, model_name=name)
