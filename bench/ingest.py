"""Ingestion throughput against raw reads of the same source, side by side in one run.

- Postgres: `include.ingestion.postgres.land_table` (ADBC stream -> Parquet -> manifest
  commit) over N changed rows of a `core.customers`-shaped table, against a raw
  `COPY (the same query) TO STDOUT` drained by psycopg. Target: >= 0.5 of raw.

The rows live in a scratch schema `bench` of the core_postgres database, created and
dropped by the benchmark.

    python -m bench.ingest [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

import psycopg

from devstack import airflow_settings, services
from include import lake as lk
from include.ingestion import postgres as pg_ingest

DAY = datetime(2026, 6, 1, tzinfo=UTC)


def _dsn() -> str:
    conn = airflow_settings.load().connections["core_postgres"]
    auth = conn.login + (f":{conn.password}" if conn.password else "")
    return f"postgresql://{auth}@{conn.host}:{conn.port}/{conn.schema}"


def _prepare(dsn: str, rows: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("drop schema if exists bench cascade")
        db.execute("create schema bench")
        db.execute("create table bench.customers (like core.customers including all)")
        db.execute(
            """insert into bench.customers
               select g, date '1970-01-01' + (g %% 15000), null, 20000 + (g %% 90000), 'employed', 'DE-BY',
                      %(day)s, %(day)s + (g %% 86400) * interval '1 second'
               from generate_series(1, %(rows)s) g""",
            {"day": DAY, "rows": rows},
        )
        db.execute("analyze bench.customers")


def _raw_copy_seconds(dsn: str) -> tuple[float, int]:
    query = pg_ingest.extract_sql("core", "customers").replace("core.customers", "bench.customers")
    query = query.replace("$1", "%s").replace("$2", "%s")
    query = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("--"))
    started, size = time.perf_counter(), 0
    with (
        psycopg.connect(dsn) as db,
        db.cursor().copy(f"copy ({query}) to stdout", (DAY, DAY + timedelta(days=1))) as copy,
    ):
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def _land_seconds(dsn: str) -> tuple[float, int]:
    original = pg_ingest.extract_sql
    with (
        tempfile.TemporaryDirectory() as root,
        mock.patch.object(
            pg_ingest, "extract_sql", lambda s, t: original(s, t).replace("core.customers", "bench.customers")
        ),
    ):
        started = time.perf_counter()
        landed = pg_ingest.land_table(
            lk.Lake.from_uri(f"file://{root}"), dsn, "core", "customers", DAY, DAY + timedelta(days=1), written_by={}
        )
        return time.perf_counter() - started, landed.rows


def run(rows: int = 1_000_000) -> list[dict]:
    for service in services.services():
        if service.name == "postgres":
            services.up(service)
    dsn = _dsn()
    _prepare(dsn, rows)
    try:
        _raw_copy_seconds(dsn)  # warm the buffer cache for both
        raw_s, raw_bytes = _raw_copy_seconds(dsn)
        land_s, landed = _land_seconds(dsn)
    finally:
        with psycopg.connect(dsn, autocommit=True) as db:
            db.execute("drop schema if exists bench cascade")
    assert landed == rows, f"landed {landed} rows, expected {rows}"
    return [
        {
            "figure": f"Postgres rows/s, {rows:,} rows: land_table (ADBC -> Parquet + manifest)",
            "project": f"{rows / land_s:,.0f} rows/s ({land_s:.2f} s)",
            "reference": f"raw COPY TO STDOUT {rows / raw_s:,.0f} rows/s ({raw_s:.2f} s, {raw_bytes / 1e6:.0f} MB)",
            "ratio": f"{raw_s / land_s:.2f}",
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    for row in run(parser.parse_args().rows):
        print(f"{row['figure']}\n  project {row['project']}\n  reference {row['reference']}\n  ratio {row['ratio']}")


if __name__ == "__main__":
    main()
