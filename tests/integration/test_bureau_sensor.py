"""The bureau sensor under the real scheduler and triggerer: it defers, resumes when the
file arrives, and a missing file times out into a failed run and an alert."""

import contextlib
import json
import sqlite3
import time
import urllib.request
from datetime import date, timedelta

import pyarrow as pa
import pytest

from devstack.backfill import _stop_group, cli, healthy, start_standalone
from include import lake as lk
from include.ingestion import bureau
from tests.conftest import isolated_airflow_env, isolated_quality_history
from tests.integration import test_alerting
from tests.integration.test_alerting import alert_env

smtp_server, slack = test_alerting.smtp_server, test_alerting.slack  # the alert test's fixtures

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

API_PORT = "18081"  # neither a developer's 8080 nor the backfill test's 18080
# Before any demo data; in the past, as the scheduler refuses runs whose logical date is to come.
DELIVERED, MISSING = date(2026, 2, 10), date(2026, 2, 11)
WAIT_S = 45  # the sensor's timeout in this test, through the `bureau_wait_timeout_hours` variable
# The file arrives this long after the sensor deferred. Sooner, the trigger can fire before the
# scheduler has processed the executor's report that the deferring process ended; the scheduler
# then fails the re-queued task ("finished with state success, but the task instance's state
# attribute is queued"), a race of Airflow's seen here on a loaded 2-core machine.
UPLOAD_AFTER_S = 10
CSV = b"customer_id,bureau_score,open_loans,total_debt,max_dpd_12m,inquiries_6m\n11,640,3,1500.0,30,4\n"


@pytest.fixture
def quality_history(settings, stack):
    """The quality gate's history in a scratch database (see `isolated_quality_history`)."""
    with isolated_quality_history(settings) as uri:
        yield uri


def task_state(db, run_id: str, task_id: str) -> str | None:
    row = db.execute(
        "select state from task_instance where dag_id = 'ingest_s3_bureau' and run_id = ? and task_id = ?",
        (run_id, task_id),
    ).fetchone()
    return row[0] if row else None


def run_state(db, run_id: str) -> str | None:
    row = db.execute("select state from dag_run where dag_id = 'ingest_s3_bureau' and run_id = ?", (run_id,)).fetchone()
    return row[0] if row else None


def unpause(dag_id: str) -> None:
    """Through the API server (a CLI write would race the scheduler on SQLite), with a token
    the simple auth manager hands out without credentials when everyone is admin."""
    base = f"http://127.0.0.1:{API_PORT}"
    with urllib.request.urlopen(f"{base}/auth/token", timeout=30) as response:
        token = json.load(response)["access_token"]
    request = urllib.request.Request(
        f"{base}/api/v2/dags/{dag_id}",
        data=json.dumps({"is_paused": False}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.load(response)["is_paused"] is False


def test_sensor_defers_resumes_on_delivery_and_times_out_with_an_alert(
    airflow_db,
    stack,
    settings,
    smtp_server,
    slack,
    tmp_path,
    quality_history,
):
    mail, smtp_port = smtp_server
    s3 = settings.connections["partner_s3"].s3_client()
    bucket = settings.variables["partner_drops_bucket"]
    for day in (DELIVERED, MISSING):
        s3.delete_object(Bucket=bucket, Key=bureau.object_key(day))
    lake_root = f"file://{tmp_path / 'lake'}"
    # The quality gate after the landing checks the file's customers against the core ones.
    lake = lk.Lake.from_uri(lake_root)
    known = pa.table({"customer_id": pa.array([11], pa.int64())})
    reference = lake.partition("validated", "core", "customers", ds=DELIVERED - timedelta(days=1))
    lk.write_partition(lake, reference, known, source_position={}, written_by={})
    home = tmp_path / "airflow"
    env = isolated_airflow_env(
        home,
        AIRFLOW_VAR_LAKE_ROOT=lake_root,
        AIRFLOW_VAR_BUREAU_WAIT_TIMEOUT_HOURS=str(WAIT_S / 3600),
        AIRFLOW_VAR_BUREAU_POKE_INTERVAL_SECONDS="1",
        AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL="1",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__API__PORT=API_PORT,
        AIRFLOW__API__BASE_URL=f"http://localhost:{API_PORT}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{API_PORT}/execution/",
        **alert_env(slack, smtp_port, "data-oncall@bank.test", "#data-alerts"),
    )
    # The runs are a backfill (scheduled runs, real data intervals) created before the scheduler
    # starts (SQLite: no CLI write races it), on the paused DAG: unpaused once every component
    # is up, so that no sensor starts before the API server answers.
    cli("db", "migrate", env=env)
    cli("dags", "reserialize", env=env)
    cli("backfill", "create", "--dag-id", "ingest_s3_bureau", "--from-date", DELIVERED.isoformat(),
        "--to-date", MISSING.isoformat(), env=env)  # fmt: skip
    # A run's id carries its run-after date, the end of its interval.
    runs = {
        name: f"backfill__{day + timedelta(days=1)}T00:00:00+00:00"
        for name, day in (("delivered", DELIVERED), ("missing", MISSING))
    }

    log = tmp_path / "standalone.log"
    standalone = start_standalone(env, log)
    uploaded_while, deferred_at = None, None
    try:
        deadline = time.monotonic() + 120
        while not healthy(env):
            assert standalone.poll() is None and time.monotonic() < deadline, f"airflow did not start; see {log}"
            time.sleep(1)
        unpause("ingest_s3_bureau")
        with contextlib.closing(sqlite3.connect(home / "airflow.db", timeout=30)) as db:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                assert standalone.poll() is None, f"airflow standalone exited; see {log}"
                sensor = task_state(db, runs["delivered"], "wait_for_bureau_file")
                if sensor == "deferred" and deferred_at is None:
                    deferred_at = time.monotonic()
                if uploaded_while is None and deferred_at and time.monotonic() - deferred_at > UPLOAD_AFTER_S:
                    uploaded_while = sensor
                    s3.put_object(Bucket=bucket, Key=bureau.object_key(DELIVERED), Body=CSV)
                if all(run_state(db, r) in ("success", "failed") for r in runs.values()):
                    break
                time.sleep(0.5)
            states = {name: run_state(db, r) for name, r in runs.items()}
            missing_sensor = task_state(db, runs["missing"], "wait_for_bureau_file")
            missing_land = task_state(db, runs["missing"], "land_bureau_file")
        if healthy(env):
            time.sleep(3)  # the failure callback of the missing run's sensor may still be sending
    finally:
        _stop_group(standalone)
        s3.delete_object(Bucket=bucket, Key=bureau.object_key(DELIVERED))

    assert uploaded_while == "deferred", f"the sensor never deferred; see {log}"
    assert states == {"delivered": "success", "missing": "failed"}, f"see {log}"
    landed = lk.read_partition(lake, lake.partition("raw", "partner", "bureau", ds=DELIVERED))
    assert landed.column("customer_id").to_pylist() == [11]
    assert lk.partition_exists(lake, lake.partition("validated", "partner", "bureau", ds=DELIVERED))

    assert (missing_sensor, missing_land) == ("failed", "upstream_failed")
    assert not lk.partition_exists(lake, lake.partition("raw", "partner", "bureau", ds=MISSING))
    missing_date = f"{MISSING}T00:00:00+00:00"
    alerts = [m for m in mail.messages if missing_date in m["Subject"]]
    assert [m["Subject"] for m in alerts] == [
        f"[airflow] ingest_s3_bureau.wait_for_bureau_file FAILED ({missing_date})"
    ]
    body = alerts[0].get_body(("html",)).get_content()
    assert "AirflowSensorTimeout: Trigger timeout" in body, body
    slack_texts = [c["body"]["text"] for c in slack.calls if c["method"] == "chat.postMessage"]
    assert any("wait_for_bureau_file" in t and "FAILED" in t and missing_date in t for t in slack_texts)
