"""Batch inference: the champion's probability of default for every account of a day.

    from include.inference import score_day
    score_day(config, "2026-11-21", lake=lake, postgres_uri=uri)   # -> {"rows_scored": ..., "model_version": ...}

Writes `ml.scores` (one row per model, date and account; a re-run replaces the day) and the
lake partition `predictions/<model>/ds=D`. Modules: `plan` (datasets and days, light enough
for DAG files), `scoring` (the run), `store` (the Postgres load). Plain Python: no Airflow
import, and this package imports nothing heavy until `score_day` is called.
"""

from __future__ import annotations

from typing import Any

from include.inference.plan import (
    ChampionNotFoundError,
    InferenceError,
    dates_to_process,
    predictions_partition,
    scoring_dataset,
    scoring_partition,
)


def score_day(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """`include.inference.scoring.score_day`, imported on first use."""
    from include.inference.scoring import score_day as run

    return run(*args, **kwargs)


__all__ = [
    "ChampionNotFoundError",
    "InferenceError",
    "dates_to_process",
    "predictions_partition",
    "score_day",
    "scoring_dataset",
    "scoring_partition",
]
