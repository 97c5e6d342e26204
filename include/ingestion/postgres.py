"""Incremental extraction of the core banking tables into the raw lake zone.

A run lands, for each table, the rows whose `updated_at` falls inside its data interval
`[since, until)`: a deterministic window, so re-running a day or backfilling a range
lands exactly what the daily runs did. The query of each table lives in
`include/sql/extract/<schema>/<table>.sql`, with explicit columns and types: that file
is the contract between the source system and the lake.

Rows stream from Postgres as Arrow record batches through ADBC (binary COPY under the
hood, a bounded batch size), straight into Parquet: memory stays flat however large
the table grows, and nothing goes through Python objects row by row.

The per-table watermark (`_watermark.json` beside the partitions) records how far the
lake is complete. It only moves forward, and only after the partition is published,
so a crash between extract and publish leaves it where it was.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from include import lake as lk
from include.ingestion.catalog import SQL_DIR

log = logging.getLogger(__name__)

BATCH_BYTES = 8 << 20  # per Arrow batch read from Postgres
INITIAL_LOAD_SINCE = datetime(1970, 1, 1, tzinfo=UTC)


class ExtractError(RuntimeError):
    pass


@dataclass(frozen=True)
class Landed:
    """What one table's run landed; small enough for XCom."""

    table: str
    partition_uri: str
    rows: int
    watermark: str
    since: str  # the extracted window [since, until): what the quality gate checks updated_at against
    until: str

    def as_dict(self) -> dict:
        return {
            "table": self.table,
            "partition_uri": self.partition_uri,
            "rows": self.rows,
            "watermark": self.watermark,
            "since": self.since,
            "until": self.until,
        }


def extract_sql(schema: str, table: str) -> str:
    path = SQL_DIR / schema / f"{table}.sql"
    if not path.exists():
        raise ExtractError(f"no extract query for {schema}.{table}: expected {path}")
    return path.read_text()


@contextmanager
def changed_rows(postgres_uri: str, schema: str, table: str, since: datetime, until: datetime):
    """Rows of `schema.table` with since <= updated_at < until: yields (Arrow schema, batch iterator).

    The schema is known before the first row, so a day without changes still lands a
    typed, empty partition.
    """
    import adbc_driver_postgresql.dbapi as adbc

    sql = extract_sql(schema, table)
    with adbc.connect(postgres_uri) as conn, conn.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)})
        cursor.execute(sql, parameters=(since, until))
        reader = cursor.fetch_record_batch()
        # ADBC tags fields with Postgres type names; the lake's schema is plain Arrow.
        arrow_schema = pa.schema([pa.field(f.name, f.type, f.nullable) for f in reader.schema])
        yield arrow_schema, (pa.RecordBatch.from_arrays(b.columns, schema=arrow_schema) for b in reader)


def watermark_path(schema: str, table: str) -> str:
    return f"raw/{schema}/{table}/_watermark.json"


def read_watermark(lake: lk.Lake, schema: str, table: str) -> datetime | None:
    state = lk.read_json(lake, watermark_path(schema, table))
    return datetime.fromisoformat(state["watermark"]) if state else None


def advance_watermark(lake: lk.Lake, schema: str, table: str, until: datetime, partition_uri: str) -> datetime:
    """Move the watermark to `until` unless it is already further (a backfill of old days)."""
    current = read_watermark(lake, schema, table)
    if current is not None and current >= until:
        return current
    lk.write_json(lake, watermark_path(schema, table), {"watermark": until.isoformat(), "partition": partition_uri})
    return until


def land_table(
    lake: lk.Lake,
    postgres_uri: str,
    schema: str,
    table: str,
    since: datetime,
    until: datetime,
    *,
    written_by: dict,
    initial_load: bool = False,
) -> Landed:
    """Extract one table's changes in [since, until) and publish them as raw/<schema>/<table>/ds=<since date>.

    `initial_load` widens the window to everything changed before `until`, still published as
    ds=<since date>: the first load of a table, whose history no daily run will ever land.
    Readers take the latest row per key as of a date, so the snapshot and the daily
    partitions after it compose.
    """
    if until <= since:
        raise ExtractError(f"{schema}.{table}: empty data interval [{since}, {until}); schedule with real intervals")
    ref = lake.partition("raw", schema, table, ds=since.date())
    if initial_load:
        since = INITIAL_LOAD_SINCE
    position = {"source": f"postgres:{schema}.{table}", "since": since.isoformat(), "until": until.isoformat()}
    with changed_rows(postgres_uri, schema, table, since, until) as (arrow_schema, batches):
        manifest = lk.write_partition(
            lake, ref, batches, schema=arrow_schema, source_position=position, written_by=written_by
        )
    log.info(
        "%s.%s: %d rows changed in [%s, %s) published to %s", schema, table, manifest.row_count, since, until, ref.uri
    )
    watermark = advance_watermark(lake, schema, table, until, ref.uri)
    return Landed(
        table=table,
        partition_uri=ref.uri,
        rows=manifest.row_count,
        watermark=watermark.isoformat(),
        since=since.isoformat(),
        until=until.isoformat(),
    )
