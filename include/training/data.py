"""The training set: read it (lake partitions or Parquet paths), pick the features, split it out of time.

A training set is a Parquet table with `account_id` (int64), `ds` (the observation date),
the label column (0/1) and feature columns: numerics and categoricals (strings). It is read
from committed lake partitions (`features/<set>/v<n>/ds=…`, checksum from each manifest)
or from plain Parquet paths (checksum of the file bytes); either way `TrainingSet.checksum`
fingerprints exactly the data a model saw, for MLflow's dataset input and for reproduction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.parquet as pq

from include.models.config import ModelConfig, SplitConfig

if TYPE_CHECKING:
    from include.lake import Lake

KEY_COLUMNS = ("account_id", "ds")


class TrainingDataError(ValueError):
    """The training set breaks its contract; the message names the source and what was expected."""


@dataclass(frozen=True)
class TrainingSet:
    frame: pd.DataFrame
    sources: tuple[str, ...]
    source_checksums: dict[str, str]

    @property
    def checksum(self) -> str:
        """SHA-256 over every source's own checksum, in source order."""
        lines = "\n".join(f"{uri} {digest}" for uri, digest in self.source_checksums.items())
        return hashlib.sha256(lines.encode()).hexdigest()

    @property
    def rows(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns the model sees, and how: the same for training and for every later prediction."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    validate: pd.DataFrame
    test: pd.DataFrame
    reference_month: str  # T, as YYYY-MM
    months: dict[str, list[str]]  # split name -> months in it

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validate": len(self.validate), "test": len(self.test)}


def read_training_set(sources: Sequence[str], lake: Lake | None = None, label: str = "label") -> TrainingSet:
    """Read and concatenate `sources`: partition URIs of `lake` (manifest checksums) or Parquet paths."""
    if not sources:
        raise TrainingDataError("training set: no sources given, expected lake partition URIs or Parquet paths")
    frames, checksums = [], {}
    for source in sources:
        if lake is not None and source.startswith(f"{lake.root_uri}/"):
            from include.lake import read_partition, verify_partition

            ref = lake.partition_from_uri(source)
            checksums[source] = verify_partition(lake, ref).content_sha256
            table = read_partition(lake, ref)
        else:
            path = Path(source.removeprefix("file://"))
            if not path.exists():
                raise TrainingDataError(f"training set {source}: no such file or directory")
            files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
            if not files:
                raise TrainingDataError(f"training set {source}: directory holds no *.parquet file")
            digest = hashlib.sha256()
            for file in files:
                digest.update(file.read_bytes())
            checksums[source] = digest.hexdigest()
            table = pq.read_table(files[0] if len(files) == 1 else path)
        frame = table.to_pandas()
        _check_contract(frame, source, label)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame["ds"] = pd.to_datetime(frame["ds"])
    return TrainingSet(frame=frame, sources=tuple(sources), source_checksums=checksums)


def _check_contract(frame: pd.DataFrame, source: str, label: str) -> None:
    missing = [c for c in (*KEY_COLUMNS, label) if c not in frame.columns]
    if missing:
        raise TrainingDataError(f"training set {source}: missing column(s) {missing}, expected {[*KEY_COLUMNS, label]}")
    values = {v.item() if hasattr(v, "item") else v for v in pd.unique(frame[label].dropna())}
    if not values <= {0, 1} or frame[label].isna().any():
        raise TrainingDataError(
            f"training set {source}: column '{label}' holds {sorted(values)[:5]} "
            f"({int(frame[label].isna().sum())} nulls), expected 0/1 without nulls"
        )


def feature_spec(frame: pd.DataFrame, config: ModelConfig) -> FeatureSpec:
    """Every column but the keys, the label and `feature_set.exclude`; strings are categorical."""
    fs = config.feature_set
    skip = {*KEY_COLUMNS, config.label.column, *fs.exclude}
    for name in fs.categorical:
        if name not in frame.columns:
            raise TrainingDataError(
                f"model {config.name}: feature_set.categorical names '{name}', not a column of the training set"
            )
    numeric, categorical = [], []
    for name in frame.columns:
        if name in skip:
            continue
        series = frame[name]
        if name in fs.categorical or not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            categorical.append(name)
        else:
            numeric.append(name)
    if not numeric and not categorical:
        raise TrainingDataError(f"model {config.name}: the training set has no feature column left")
    return FeatureSpec(numeric=tuple(numeric), categorical=tuple(categorical))


def out_of_time_split(
    frame: pd.DataFrame, split: SplitConfig, label: str = "label", reference_month: str | None = None
) -> Split:
    """Train on months <= T-a, validate on T-b, test on T-c (calendar months of `ds`).

    `reference_month` (YYYY-MM) is T; by default the month after the last month in the data,
    so the newest month is the test set.
    """
    months = frame["ds"].dt.to_period("M")
    reference = pd.Period(reference_month, "M") if reference_month else months.max() + 1
    train_until = reference - split.train_until_months_before
    validate_month = reference - split.validate_months_before
    test_month = reference - split.test_months_before
    parts = {
        "train": frame[months <= train_until],
        "validate": frame[months == validate_month],
        "test": frame[months == test_month],
    }
    for name, part in parts.items():
        if part.empty:
            raise TrainingDataError(
                f"out-of-time split for T={reference}: the {name} split is empty (train <= {train_until}, "
                f"validate {validate_month}, test {test_month}; the data covers {months.min()}..{months.max()})"
            )
        if part[label].nunique() < 2:
            raise TrainingDataError(
                f"out-of-time split for T={reference}: the {name} split has only one value of '{label}', "
                "expected both defaults and non-defaults"
            )
    return Split(
        train=parts["train"].reset_index(drop=True),
        validate=parts["validate"].reset_index(drop=True),
        test=parts["test"].reset_index(drop=True),
        reference_month=str(reference),
        months={name: sorted({str(m) for m in months[part.index]}) for name, part in parts.items()},
    )
