"""
### Ingest the credit bureau's daily file from S3

The bureau drops `bureau/dt=YYYY-MM-DD/bureau_YYYY-MM-DD.csv` into the partner-drops
bucket (variable `partner_drops_bucket`, connection `partner_s3`) once a day. For each
day this DAG:

1. **waits** for the day's file with a deferrable `S3KeySensor`: the wait runs in the
   triggerer and holds no worker slot. When the wait times out the task fails and
   alerts: a missing delivery never passes silently. The wait is configuration, read
   when the sensor starts (no deploy needed):
   - Variable `bureau_wait_timeout_hours` (default `12`, fractions allowed): how long
     after the sensor starts a missing file fails the run;
   - Variable `bureau_poke_interval_seconds` (default `300`): how often the triggerer
     looks for the file;
2. **lands** it as typed Parquet in `raw/partner/bureau/ds=<day>/`, with a manifest
   recording the object's key, ETag and size, and publishes the Asset
   `raw/partner/bureau`. Columns are landed as delivered, so that the gate can name
   what is wrong; a file that is not CSV at all is quarantined as unreadable;
3. **validates** it with the GX suite `include/quality/suites/raw.partner.bureau.yaml`:
   a pass publishes `validated/partner/bureau/` and its Asset; a failure moves the day
   to `quarantine/` with `_reason.json`, alerts with each failed expectation and the
   Data Docs link, and fails without retrying. Replay after the bureau re-delivers:
   clear the run's tasks from `wait_for_bureau_file` on.

Re-running a day replaces that day's partition (idempotent); backfills work over any
range of delivered days.

**The partner's history in one run.** A manual run with the param `catch_up_from` (a day)
also lands and gates every day from it up to the day before its own, one partition each,
in one task (`catch_up_history`): what `initial_load` is to the core tables, without one
DAG run per day. A quarantined day does not stop the others; the task then fails naming
it. `bin/airflow dags test ingest_s3_bureau 2026-08-01 --conf '{"catch_up_from": "2026-05-30"}'`
lands 2026-05-30 .. 2026-07-30 there, and the run's own day 2026-07-31 as usual.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

# Named here, the provider's sensor module (which imports boto3, ~200 ms) is imported once by
# the DAG processor, which pre-imports a file's `airflow.*` modules before it forks a process to
# parse the file ([dag_processor] parsing_pre_import_modules). Imported only by
# orchestration.sensors, every parse paid for it.
import airflow.providers.amazon.aws.sensors.s3  # noqa: F401
from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from orchestration.assets import lake_asset
from orchestration.deadlines import completion_deadline, deadline_doc
from orchestration.defaults import task_defaults
from orchestration.quality import land_and_gate_each, quality_gate
from orchestration.sensors import S3DeliverySensor

BUREAU = lake_asset("raw", "partner", "bureau")
VALIDATED = lake_asset("validated", "partner", "bureau")


def land_day(day: date, context: dict) -> dict:
    """Convert one day's CSV to typed Parquet in the raw zone; an unreadable file is quarantined and fails."""
    from airflow.sdk import Variable

    from include.ingestion.bureau import UnreadableFileError, object_key
    from include.ingestion.bureau import land_bureau_file as land
    from orchestration.quality import quarantine_unreadable_delivery
    from orchestration.resources import lake, s3_client, written_by

    bucket = Variable.get("partner_drops_bucket")
    try:
        return land(lake(), s3_client("partner_s3"), bucket, day, written_by=written_by(context))
    except UnreadableFileError as error:
        source = {"bucket": bucket, "key": object_key(day)}
        quarantine_unreadable_delivery("raw/partner/bureau", day, error, context, source=source)
        raise


# A late delivery shows here first: half the sensor's default 12-hour wait, which then fails the run.
FINISHED_WITHIN = timedelta(hours=6)


@dag(
    # Calendar days: the run for day D starts at midnight and the sensor waits for D's file.
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=3,
    default_args=task_defaults(owner="data-eng"),
    params={
        "catch_up_from": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Also land and gate every day from this one up to the day before the run's "
            "(the partner's history in one run).",
        )
    },
    tags=["ingestion", "s3", "partner"],
    deadline=completion_deadline(FINISHED_WITHIN),
    doc_md=__doc__ + deadline_doc(FINISHED_WITHIN),
)
def ingest_s3_bureau():
    wait_for_file = S3DeliverySensor(
        task_id="wait_for_bureau_file",
        aws_conn_id="partner_s3",
        bucket_name="{{ var.value.partner_drops_bucket }}",
        # The interval start, not `ds`: a manual run's logical date is its interval's end.
        bucket_key="bureau/dt={{ data_interval_start | ds }}/bureau_{{ data_interval_start | ds }}.csv",
        deferrable=True,
        timeout_hours="{{ var.value.get('bureau_wait_timeout_hours', 12) }}",
        poke_interval_seconds="{{ var.value.get('bureau_poke_interval_seconds', 300) }}",
        doc_md="The timeout (variable `bureau_wait_timeout_hours`, default 12) is the verdict: it fails the task"
        " at once, without a retry, which would only hide a missing delivery longer. Other failures (the"
        " worker or S3 unreachable) retry with backoff like every task.",
    )

    @task(outlets=[BUREAU], execution_timeout=timedelta(minutes=30))
    def land_bureau_file(data_interval_start=None, **context) -> dict:
        """Convert the day's CSV to typed Parquet in the raw zone, with key, ETag and size in the manifest."""
        return land_day(data_interval_start.date(), context)

    @task(outlets=[BUREAU, VALIDATED], execution_timeout=timedelta(hours=2))
    def catch_up_history(params=None, data_interval_start=None, **context) -> dict:
        """With the param `catch_up_from`: land and gate each day from it up to the day before the run's."""
        from airflow.exceptions import AirflowSkipException

        if not params["catch_up_from"]:
            raise AirflowSkipException("param catch_up_from not set: no history to catch up")
        first, day = date.fromisoformat(params["catch_up_from"]), data_interval_start.date()
        days = [first + timedelta(days=i) for i in range((day - first).days)]
        return land_and_gate_each(days, lambda d: land_day(d, context), context)

    landed = land_bureau_file()
    wait_for_file >> landed
    quality_gate("partner", "bureau")(landed)
    catch_up_history()


ingest_s3_bureau()
