"""
### Ingest the credit bureau's daily file from S3

The bureau drops `bureau/dt=YYYY-MM-DD/bureau_YYYY-MM-DD.csv` into the partner-drops
bucket (variable `partner_drops_bucket`, connection `partner_s3`) once a day. For each
day this DAG:

1. **waits** for the day's file with a deferrable `S3KeySensor`: the wait runs in the
   triggerer and holds no worker slot. After 12 hours without a file it fails and
   alerts: a missing delivery never passes silently;
2. **lands** it as typed Parquet in `raw/partner/bureau/ds=<day>/`, with a manifest
   recording the object's key, ETag and size, and publishes the Asset
   `raw/partner/bureau`. A file that breaks the column contract fails with the key and
   the column named.

Re-running a day replaces that day's partition (idempotent); backfills work over any
range of delivered days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.sdk import CronDataIntervalTimetable, dag, task

from orchestration.assets import lake_asset
from orchestration.defaults import task_defaults

BUREAU = lake_asset("raw", "partner", "bureau")


@dag(
    # Calendar days: the run for day D starts at midnight and the sensor waits for D's file.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=3,
    default_args=task_defaults(owner="data-eng"),
    tags=["ingestion", "s3", "partner"],
    doc_md=__doc__,
)
def ingest_s3_bureau():
    wait_for_file = S3KeySensor(
        task_id="wait_for_bureau_file",
        aws_conn_id="partner_s3",
        bucket_name="{{ var.value.partner_drops_bucket }}",
        # The interval start, not `ds`: a manual run's logical date is its interval's end.
        bucket_key="bureau/dt={{ data_interval_start | ds }}/bureau_{{ data_interval_start | ds }}.csv",
        deferrable=True,
        poke_interval=300,
        timeout=timedelta(hours=12).total_seconds(),
        retries=0,
        doc_md="Retries: none. The 12-hour timeout is the verdict; a retry would only hide a missing delivery longer.",
    )

    @task(outlets=[BUREAU], execution_timeout=timedelta(minutes=30))
    def land_bureau_file(data_interval_start=None, **context) -> dict:
        """Convert the day's CSV to typed Parquet in the raw zone, with key, ETag and size in the manifest."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from airflow.sdk import Variable

        from include.ingestion.bureau import land_bureau_file as land
        from orchestration.resources import lake, written_by

        client = S3Hook(aws_conn_id="partner_s3").get_conn()
        bucket = Variable.get("partner_drops_bucket")
        return land(lake(), client, bucket, data_interval_start.date(), written_by=written_by(context))

    wait_for_file >> land_bureau_file()


ingest_s3_bureau()
