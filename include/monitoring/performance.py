"""Performance on matured labels: how well a model ranks the accounts whose outcome is now known.

A label matures `label.horizon_days` after its observation date, so on day D the newest
labelled rows are the training set's partition at or before D - horizon (the feature
pipeline builds it at D - 91 for the 90-day label). Both the champion and, when the
registry has one, the previous champion are scored on those same rows: their ROC AUC,
Gini and KS compare, and the rollback decision uses exactly that comparison.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from include.models.config import ModelConfig

if TYPE_CHECKING:
    import pandas as pd

    from include.lake import Lake, PartitionRef

HEADLINE = ("roc_auc", "gini", "ks", "default_rate", "rows")


def matured_partition(config: ModelConfig, lake: Lake, ds: date) -> PartitionRef | None:
    """The newest committed training-set partition whose labels had matured by `ds`, or None."""
    from include.lake import list_partitions
    from include.training.workflow import feature_set_version, training_dataset

    dataset, version = training_dataset(config), feature_set_version(config)
    cutoff = ds - timedelta(days=config.label.horizon_days)
    days = [d for d in list_partitions(lake, "features", dataset, version) if d <= cutoff]
    return lake.partition("features", dataset, version, ds=days[-1]) if days else None


def performance(model: Any, labelled: pd.DataFrame, label: str) -> dict[str, float] | None:
    """ROC AUC, Gini, KS, default rate and rows of `model` on `labelled`; None when only one class is present."""
    from include.training.evaluation import classification_metrics

    if labelled.empty or labelled[label].nunique() < 2:
        return None
    metrics = classification_metrics(labelled[label].to_numpy(), model.predict_proba(labelled))
    return {name: metrics[name] for name in HEADLINE}
