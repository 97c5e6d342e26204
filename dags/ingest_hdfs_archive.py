"""
### Ingest the monthly transaction archive from HDFS

Transactions older than the Kafka retention window live on HDFS as monthly Parquet
folders, `<root>/year=YYYY/month=MM/` under the variable `hdfs_archive_root` (default
`/data/archive/transactions`). Once a month, and for the
initial history through backfills, this DAG lands the month in
`raw/archive/transactions/ds=YYYY-MM-01/` over WebHDFS (connection `webhdfs_default`):

- each file's received size is checked against the NameNode's listing, and each must
  be readable Parquet; in-flight uploads (`*._COPYING_`, names starting with `.` or `_`)
  are never read, so a partial upload is never published;
- the manifest records every HDFS path, size and modification time read;
- a missing month fails with the HDFS path named, and alerts;
- `validate_transactions` gates the month with the GX suite
  `include/quality/suites/raw.archive.transactions.yaml`: a pass publishes
  `validated/archive/transactions/` and its Asset; a failure (or a file that is not
  Parquet) quarantines the month with `_reason.json`, alerts and fails without retrying.

Load the history: `bin/airflow backfill create --dag-id ingest_hdfs_archive
--from-date 2026-01-02 --to-date 2026-10-02`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, task

from orchestration.assets import lake_asset
from orchestration.deadlines import completion_deadline, deadline_doc
from orchestration.defaults import task_defaults
from orchestration.quality import quality_gate

# Landing a month may take up to its 2-hour task timeout; then the gate.
FINISHED_WITHIN = timedelta(hours=3)


@dag(
    # On the 2nd: the archive job writes the past month on the 1st.
    schedule=CronDataIntervalTimetable("0 6 2 * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=2,
    default_args=task_defaults(owner="data-eng"),
    tags=["ingestion", "hdfs", "archive"],
    deadline=completion_deadline(FINISHED_WITHIN),
    doc_md=__doc__ + deadline_doc(FINISHED_WITHIN),
)
def ingest_hdfs_archive():
    @task(outlets=[lake_asset("raw", "archive", "transactions")], execution_timeout=timedelta(hours=2))
    def land_archive_month(data_interval_start=None, **context) -> dict:
        """Download the data interval's month over WebHDFS, verify it, and publish it to the raw zone."""

        from airflow.sdk import Variable

        from include.ingestion.hdfs_archive import UnreadableArchiveError
        from include.ingestion.hdfs_archive import land_archive_month as land
        from orchestration.quality import quarantine_unreadable_delivery
        from orchestration.resources import lake, webhdfs_client, written_by

        client = webhdfs_client("webhdfs_default")
        month = data_interval_start.date().replace(day=1)
        root = Variable.get("hdfs_archive_root")
        try:
            return land(lake(), client, month, written_by=written_by(context), root=root)
        except UnreadableArchiveError as error:
            quarantine_unreadable_delivery("raw/archive/transactions", month, error, context)
            raise

    quality_gate("archive", "transactions")(land_archive_month())


ingest_hdfs_archive()
