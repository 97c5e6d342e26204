"""What a scoring or monitoring run works on: the lake partitions it reads and writes, and which days.

Imports nothing heavy, so the DAG files name the datasets at parse time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from include.models.config import ModelConfig

if TYPE_CHECKING:
    from include.lake import Lake, PartitionRef


class InferenceError(RuntimeError):
    """Scoring cannot go on; the message names the model, the partition and what was expected."""


class ChampionNotFoundError(InferenceError, LookupError):
    """The registry has no `champion` alias for the model."""


def scoring_dataset(config: ModelConfig) -> str:
    """The lake dataset the feature pipeline writes the model's unlabelled rows of a day to."""
    return f"{config.feature_set.name}_scoring"


def scoring_partition(config: ModelConfig, lake: Lake, ds: date | str) -> PartitionRef:
    from include.training.workflow import feature_set_version

    return lake.partition("features", scoring_dataset(config), feature_set_version(config), ds=ds)


def predictions_partition(config: ModelConfig, lake: Lake, ds: date | str) -> PartitionRef:
    return lake.partition("predictions", config.registered_model_name, ds=ds)


def dates_to_process(
    requested: str | None, events: Iterable[dict[str, Any]], latest: Callable[[], date | None], what: str
) -> list[str]:
    """Which days a run works on: the one asked for, else the days named by the triggering
    Asset events (`extra["ds"]`), else the latest committed day; `what` names it in errors."""
    if requested:
        try:
            return [date.fromisoformat(str(requested)).isoformat()]
        except ValueError:
            raise InferenceError(f"{what}: ds '{requested}' is not a YYYY-MM-DD date") from None
    named = sorted({str(e["ds"]) for e in events if e and e.get("ds")})
    if named:
        return named
    last = latest()
    if last is None:
        raise InferenceError(f"{what}: no committed partition yet, nothing to process")
    return [last.isoformat()]


def latest_scoring_day(config: ModelConfig, lake: Lake) -> date | None:
    """The newest day with a committed scoring partition, or None."""
    from include.lake import list_partitions
    from include.training.workflow import feature_set_version

    days = list_partitions(lake, "features", scoring_dataset(config), feature_set_version(config))
    return days[-1] if days else None


def latest_predictions_day(config: ModelConfig, lake: Lake) -> date | None:
    """The newest scored day in the lake, or None."""
    from include.lake import list_partitions

    days = list_partitions(lake, "predictions", config.registered_model_name)
    return days[-1] if days else None
