"""Batch scoring of one day: the champion's PD for every account of the day's scoring set.

    score_day(config, "2026-11-21", lake=lake, postgres_uri=uri)

1. The champion is resolved once (`models:/<model>@champion` -> its version) and that
   version is loaded, so every row of the run carries the same, named version even if the
   alias moves meanwhile. No champion fails with `ChampionNotFoundError` naming the model.
2. The committed scoring partition `features/<feature_set>_scoring/v<n>/ds=D` is read in
   batches of `batch_rows` (pyarrow), so memory stays flat as the portfolio grows.
3. Each batch (the model's columns only) is predicted, checked (every PD finite and in
   [0, 1]) and streamed twice: into the lake partition `predictions/<model>/ds=D` (manifest
   as the commit, the features partition and its checksum as the source) and to Postgres.
4. `store.ScoresLoad` replaces the day's slice of `ml.scores` in one transaction, loading
   each batch on a worker thread while the next one is predicted; it commits after the
   lake partition is committed. A re-run of a date leaves exactly one row per account
   (primary key model, score_date, account_id), with the new version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from include.inference.plan import (
    ChampionNotFoundError,
    InferenceError,
    predictions_partition,
    scoring_partition,
)
from include.models.config import ModelConfig

if TYPE_CHECKING:
    from include.lake import Lake

log = logging.getLogger(__name__)

BATCH_ROWS = 64 * 1024
PREDICTIONS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.int64(), nullable=False),
        pa.field("ds", pa.date32(), nullable=False),
        pa.field("probability", pa.float64(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Champion:
    name: str
    version: str
    model: Any  # the fitted model: predict_proba(frame) -> 1-D PD

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def load_champion(model_name: str, tracking_uri: str | None = None) -> Champion:
    """The version `champion` points to now, loaded; fails naming the model when there is none."""
    from include.training import tracking

    version = tracking.alias_version(model_name, tracking.CHAMPION, tracking_uri)
    if version is None:
        raise ChampionNotFoundError(
            f"model {model_name}: the MLflow registry has no '{tracking.CHAMPION}' alias for it, so there is "
            f"nothing to score with; train and promote a version first (DAG train_{model_name})"
        )
    return Champion(model_name, version, tracking.load_model(model_name, version, tracking_uri))


def score_batch(model: Any, batch: pa.RecordBatch, ds: date, version: str, where: str) -> pa.RecordBatch:
    """The PD of every row of one features batch, as a predictions batch; rejects a PD outside [0, 1]."""
    if batch.num_rows == 0:  # the models refuse an empty frame; a day without accounts scores nothing
        return pa.RecordBatch.from_pylist([], schema=PREDICTIONS_SCHEMA)
    frame = batch.to_pandas()
    probability = np.asarray(model.predict_proba(frame), dtype="float64")
    bad = ~(np.isfinite(probability) & (probability >= 0) & (probability <= 1))
    if bad.any():
        accounts = frame["account_id"].to_numpy()[bad][:5].tolist()
        raise InferenceError(
            f"{where}: {int(bad.sum())} of {len(frame)} predictions are not a probability in [0, 1] "
            f"(e.g. accounts {accounts}); expected every PD finite and in [0, 1]"
        )
    rows = len(frame)
    return pa.RecordBatch.from_arrays(
        [
            batch.column(batch.schema.get_field_index("account_id")).cast(pa.int64()),
            pa.array(np.full(rows, ds), type=pa.date32()),
            pa.array(probability, type=pa.float64()),
            pa.array([version] * rows, type=pa.string()),
        ],
        schema=PREDICTIONS_SCHEMA,
    )


def score_day(
    config: ModelConfig,
    ds: date | str,
    *,
    lake: Lake,
    postgres_uri: str,
    tracking_uri: str | None = None,
    written_by: dict[str, Any] | None = None,
    champion: Champion | None = None,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, Any]:
    """Score the day `ds` with the champion; returns references and counts (the demo's `inference`)."""
    from include.inference.store import ScoresLoad
    from include.lake import detect_code_version, iter_batches, read_manifest, write_partition

    started = time.perf_counter()
    name = config.registered_model_name
    champion = champion or load_champion(name, tracking_uri)
    features = scoring_partition(config, lake, ds)
    manifest = read_manifest(lake, features)
    if manifest is None:
        raise InferenceError(
            f"model {name}: no committed scoring partition {features.uri}; "
            "expected the feature pipeline (DAG build_features) to have published the day"
        )
    target = predictions_partition(config, lake, features.ds)
    written_by = written_by or {"dag_id": "manual"}
    with ScoresLoad(postgres_uri, name, features.ds, champion.version, written_by.get("run_id")) as load:

        def scored() -> Iterator[pa.RecordBatch]:
            columns = ["account_id", *(c for c in champion.model.spec.columns if c != "account_id")]
            for batch in iter_batches(lake, features, columns=columns, batch_size=batch_rows):
                out = score_batch(champion.model, batch, features.ds, champion.version, features.uri)
                load.write(out)
                yield out

        written = write_partition(
            lake,
            target,
            scored(),
            schema=PREDICTIONS_SCHEMA,
            source_position={"features": features.uri, "features_sha256": manifest.content_sha256},
            written_by=written_by,
            code_version=detect_code_version(),
            extra={"model": name, "model_version": champion.version, "model_uri": champion.uri},
        )
        counts = load.finish()
    seconds = time.perf_counter() - started
    log.info("model %s v%s: scored %s rows of %s in %.1f s", name, champion.version, written.row_count, ds, seconds)
    return {
        "model": name,
        "ds": features.ds.isoformat(),
        "model_version": champion.version,
        "rows_scored": written.row_count,
        "features_uri": features.uri,
        "predictions_uri": target.uri,
        "postgres": counts,
        "seconds": round(seconds, 3),
    }
