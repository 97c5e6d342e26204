"""What a day is compared with: the champion's own training data and test-time metrics.

The training run of a registered version recorded `evaluation/lineage.json`: every source
partition of its training set, with checksums. The drift reference is a uniform random
sample of those rows (at most `sample_rows`, drawn per source in proportion to its size, so
memory stays bounded by one partition plus the sample). The baseline is the run's own
test-month metrics (ROC AUC, Gini, KS).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from include.lake import Lake

BASELINE_METRICS = ("roc_auc", "gini", "ks")


class ReferenceDataError(LookupError):
    """The champion's reference cannot be rebuilt; the message names the model version and what is missing."""


@dataclass(frozen=True)
class Reference:
    model: str
    version: str
    run_id: str
    frame: pd.DataFrame  # a sample of the training rows (features and label)
    sources: tuple[str, ...]
    source_rows: int  # rows in all sources, before sampling
    baseline: dict[str, float]


def version_run(model_name: str, version: str, tracking_uri: str | None = None) -> Any:
    """The MLflow run that logged a registered version."""
    from include.training import tracking

    mlflow_client = tracking.client(tracking_uri)
    return mlflow_client.get_run(mlflow_client.get_model_version(model_name, version).run_id)


def champion_reference(
    model_name: str, version: str, *, lake: Lake | None, sample_rows: int, seed: int, tracking_uri: str | None = None
) -> Reference:
    """The training-data sample and test-time baseline of `model_name` version `version`."""
    import mlflow
    from mlflow.exceptions import MlflowException

    run = version_run(model_name, version, tracking_uri)
    where = f"model {model_name} v{version} (run {run.info.run_id})"
    try:
        lineage = json.loads(mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/evaluation/lineage.json"))
    except (MlflowException, OSError) as exc:
        raise ReferenceDataError(
            f"{where}: no evaluation/lineage.json, so its training data is unknown ({exc})"
        ) from None
    sources = tuple(lineage.get("sources") or ())
    if not sources:
        raise ReferenceDataError(f"{where}: lineage.json lists no training sources")
    frame, total = sample_sources(sources, lake, sample_rows, seed, label=lineage.get("label", "label"))
    baseline = {name: float(run.data.metrics[name]) for name in BASELINE_METRICS if name in run.data.metrics}
    return Reference(model_name, str(version), run.info.run_id, frame, sources, total, baseline)


def sample_sources(
    sources: tuple[str, ...], lake: Lake | None, sample_rows: int, seed: int, label: str = "label"
) -> tuple[pd.DataFrame, int]:
    """A uniform sample of at most `sample_rows` rows over all sources, read one source at a time."""
    from include.training.data import read_training_set

    sizes = [_rows(source, lake) for source in sources]
    total = sum(sizes)
    rng = np.random.default_rng(seed)
    parts = []
    for source, size in zip(sources, sizes, strict=True):
        if size == 0:
            continue
        frame = read_training_set([source], lake, label).frame
        keep = len(frame) if total <= sample_rows else round(sample_rows * size / total)
        if keep < len(frame):
            frame = frame.iloc[np.sort(rng.choice(len(frame), keep, replace=False))]
        parts.append(frame)
    if not parts:
        raise ReferenceDataError(f"training sources {list(sources)[:3]}...: every one is empty")
    return pd.concat(parts, ignore_index=True), total


def _rows(source: str, lake: Lake | None) -> int:
    """A source's row count from its manifest (lake partition) or Parquet footers (path), without reading data."""
    from pathlib import Path

    import pyarrow.parquet as pq

    if lake is not None and source.startswith(f"{lake.root_uri}/"):
        from include.lake import read_manifest

        manifest = read_manifest(lake, lake.partition_from_uri(source))
        if manifest is None:
            raise ReferenceDataError(f"training source {source}: the partition no longer exists")
        return manifest.row_count
    path = Path(source.removeprefix("file://"))
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files or not all(f.exists() for f in files):
        raise ReferenceDataError(f"training source {source}: no such Parquet file or folder")
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)
