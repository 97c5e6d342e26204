"""
### Ingest the core banking tables from Postgres

Daily, for each table with an extract query in `include/sql/extract/core/`
(customers, accounts, statements, repayments), lands the rows whose `updated_at`
falls inside the run's data interval as `raw/core/<table>/ds=<interval start>/` in the
lake: Parquet files plus a `_manifest.json` recording the interval, row count,
schema and checksum. One task per table, each publishing the Asset `raw/core/<table>`.

- **Idempotent and backfillable:** the extract window is the data interval, so
  re-running a day replaces that day's partition, and a backfill over any range lands
  what the daily runs did (`bin/airflow backfill create --dag-id ingest_postgres_core ...`).
- **Crash-safe:** a partition becomes visible only when its manifest is written; the
  table's watermark (`raw/core/<table>/_watermark.json`) moves only after that.
- **Bounded memory:** rows stream from Postgres as Arrow batches (ADBC) into Parquet.
- **Quality gate:** after every table has landed, `validate_<table>` checks each partition
  with its GX suite (`include/quality/suites/raw.core.<table>.yaml`): a pass publishes it to
  `validated/core/<table>/` and emits that Asset; a failure quarantines it, alerts with
  each failed expectation and the Data Docs link, and fails without retrying.
- **First load of a table:** trigger one run with the param `initial_load` on: it lands
  every row changed before the interval's end into that day's partition.

Source: connection `core_postgres`. Lake: variable `lake_root`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from include.ingestion.catalog import postgres_tables
from orchestration.assets import lake_asset
from orchestration.deadlines import completion_deadline, deadline_doc
from orchestration.defaults import task_defaults
from orchestration.quality import quality_gate

SCHEMA = "core"


# Before features need the day; the 2-hour run timeout is the hard stop.
FINISHED_WITHIN = timedelta(hours=1)


@dag(
    # Calendar days [00:00, 24:00) UTC: partition ds=D holds the changes made on day D.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="data-eng"),
    dagrun_timeout=timedelta(hours=2),
    params={
        "initial_load": Param(
            False,
            type="boolean",
            description="Land every row changed before the interval's end, not just the interval's: "
            "the first load of a table (see the README runbook).",
        )
    },
    tags=["ingestion", "postgres", "core"],
    deadline=completion_deadline(FINISHED_WITHIN),
    doc_md=__doc__ + deadline_doc(FINISHED_WITHIN),
)
def ingest_postgres_core():
    @task(execution_timeout=timedelta(minutes=45))
    def land_table(table: str, data_interval_start=None, data_interval_end=None, params=None, **context) -> dict:
        """Extract the table's rows changed in the data interval and publish them to the raw zone."""
        from include.ingestion.postgres import land_table as land
        from orchestration.resources import lake, postgres_uri, written_by

        landed = land(
            lake(),
            postgres_uri("core_postgres"),
            SCHEMA,
            table,
            data_interval_start,
            data_interval_end,
            written_by=written_by(context),
            initial_load=params["initial_load"],
        )
        return landed.as_dict()

    landings, gates = [], []
    for table in postgres_tables(SCHEMA):
        landed = land_table.override(task_id=f"land_{table}", outlets=[lake_asset("raw", SCHEMA, table)])(table=table)
        landings.append(landed)
        gates.append(quality_gate(SCHEMA, table)(landed))
    # Referential checks read the other tables' partitions of the same day: validate after every landing.
    for gate in gates:
        gate.set_upstream(landings)


ingest_postgres_core()
