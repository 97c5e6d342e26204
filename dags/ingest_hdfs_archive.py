"""
### Ingest the monthly transaction archive from HDFS

Transactions older than the Kafka retention window live on HDFS as monthly Parquet
folders, `/data/archive/transactions/year=YYYY/month=MM/`. Once a month, and for the
initial history through backfills, this DAG lands the month in
`raw/archive/transactions/ds=YYYY-MM-01/` over WebHDFS (connection `webhdfs_default`):

- each file's received size is checked against the NameNode's listing, and each must
  be readable Parquet; in-flight uploads (`*._COPYING_`, names starting with `.` or `_`)
  are never read, so a partial upload is never published;
- the manifest records every HDFS path, size and modification time read;
- a missing month fails with the HDFS path named, and alerts.

Load the history: `bin/airflow backfill create --dag-id ingest_hdfs_archive
--from-date 2026-01-02 --to-date 2026-10-02`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, task

from orchestration.assets import lake_asset
from orchestration.defaults import task_defaults


@dag(
    # On the 2nd: the archive job writes the past month on the 1st.
    schedule=CronDataIntervalTimetable("0 6 2 * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=2,
    default_args=task_defaults(owner="data-eng"),
    tags=["ingestion", "hdfs", "archive"],
    doc_md=__doc__,
)
def ingest_hdfs_archive():
    @task(outlets=[lake_asset("raw", "archive", "transactions")], execution_timeout=timedelta(hours=2))
    def land_archive_month(data_interval_start=None, **context) -> dict:
        """Download the data interval's month over WebHDFS, verify it, and publish it to the raw zone."""
        from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

        from include.ingestion.hdfs_archive import land_archive_month as land
        from orchestration.resources import lake, written_by

        client = WebHDFSHook(webhdfs_conn_id="webhdfs_default").get_conn()
        return land(lake(), client, data_interval_start.date(), written_by=written_by(context))

    land_archive_month()


ingest_hdfs_archive()
