"""A DAG run that outlives its deadline alerts: the real scheduler notices, the real
triggerer runs the callback, and the message reaches the Slack double and the SMTP sink.
And `airflow dags test` runs a DAG with a deadline to the end (the tests and the demo use it),
and a run with a pending deadline can be cleared (the UI's Clear, a backfill that re-processes)."""

import json
import sqlite3
import textwrap
from datetime import date, datetime, timedelta

import pytest

from devstack.backfill import cli, run_backfills
from tests.conftest import isolated_airflow_env
from tests.integration.test_alerting import alert_env, slack, smtp_server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

API_PORT = "18081"
DAY = date(2026, 1, 5)
SLOW_DAG = """
from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, task

from orchestration.deadlines import completion_deadline


@dag(schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"), start_date=datetime(2026, 1, 1),
     catchup=False, deadline=completion_deadline(timedelta(seconds=1)), tags=["test"],
     # standalone's scheduler can start a task before its API server answers: a retry covers it
     default_args={"retries": 2, "retry_delay": timedelta(seconds=5)})
def deadline_probe():
    @task
    def slow():
        import time

        time.sleep(20)  # long enough for the scheduler to see the deadline pass and the triggerer to alert

    slow()


deadline_probe()
"""


def test_a_run_past_its_deadline_alerts_on_slack_and_email(airflow_db, smtp_server, slack, tmp_path):  # noqa: F811
    mail, smtp_port = smtp_server
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "deadline_probe.py").write_text(textwrap.dedent(SLOW_DAG))
    env = isolated_airflow_env(
        tmp_path / "airflow",
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__API__PORT=API_PORT,
        AIRFLOW__API__BASE_URL=f"http://localhost:{API_PORT}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{API_PORT}/execution/",
        **alert_env(slack, smtp_port, "data-oncall@bank.test", "#data-alerts"),
    )
    cli("db", "migrate", env=env)
    states = run_backfills({"deadline_probe": (DAY, DAY)}, env=env, log=tmp_path / "standalone.log", timeout_s=300)
    assert states["deadline_probe"] == ["success"], states

    posts = [c["body"]["text"] for c in slack.calls if c["method"] == "chat.postMessage"]
    log_tail = (tmp_path / "standalone.log").read_text()[-3000:]
    assert any("deadline_probe missed its deadline" in text for text in posts), f"slack got {posts}\n{log_tail}"
    assert [m["Subject"] for m in mail.messages if "missed its deadline" in m["Subject"]], log_tail
    assert "*Queued at:*" in next(text for text in posts if "missed its deadline" in text)


ON_TIME_DAG = """
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from orchestration.deadlines import completion_deadline


@dag(schedule=None, start_date=datetime(2026, 1, 1), deadline=completion_deadline(timedelta(hours=1)), tags=["test"])
def deadline_on_time():
    @task
    def quick():
        return "done"

    quick()


deadline_on_time()
"""


def test_dags_test_of_a_dag_with_a_deadline_succeeds(tmp_path):
    """Without the lookup in airflow_local_settings.py, Airflow 3.3.2 fails here after the run
    succeeded: "'dict' object has no attribute 'hex'" (apache/airflow#73428)."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "deadline_on_time.py").write_text(textwrap.dedent(ON_TIME_DAG))
    env = isolated_airflow_env(tmp_path / "airflow", AIRFLOW__CORE__DAGS_FOLDER=str(dags))
    cli("db", "migrate", env=env)
    cli("dags", "test", "deadline_on_time", env=env)  # raises with the output's tail on a non-zero exit

    with sqlite3.connect(tmp_path / "airflow" / "airflow.db") as db:
        assert db.execute("select state from dag_run where dag_id = 'deadline_on_time'").fetchall() == [("success",)]
        # The deadline as the DAG processor registers it (`dags test` writes the DAG the same way) ...
        references = [json.loads(r) for (r,) in db.execute("select reference from deadline_alert")]
        assert references == [{"reference_type": "DagRunQueuedAtDeadline"}]
        # ... while a `dags test` run is never queued, so it has no deadline a scheduler could alert on later.
        assert db.execute("select count(*) from deadline").fetchone() == (0,)


def test_clearing_a_run_with_a_pending_deadline_moves_the_deadline(tmp_path):
    """Without the recalculation in airflow_local_settings.py, Airflow 3.3.2 fails to clear:
    "unsupported type for timedelta seconds component: dict" (apache/airflow#70368)."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "deadline_on_time.py").write_text(textwrap.dedent(ON_TIME_DAG))
    env = isolated_airflow_env(tmp_path / "airflow", AIRFLOW__CORE__DAGS_FOLDER=str(dags))
    cli("db", "migrate", env=env)
    cli("dags", "reserialize", env=env)
    cli("dags", "trigger", "deadline_on_time", "--run-id", "manual_clear", env=env)  # queued: a deadline now
    database = tmp_path / "airflow" / "airflow.db"
    pending = "select d.deadline_time, r.queued_at from deadline d join dag_run r on r.id = d.dagrun_id"
    with sqlite3.connect(database) as db:
        ((deadline_before, queued_before),) = db.execute(pending).fetchall()
    cli("tasks", "clear", "deadline_on_time", "--yes", env=env)  # raises with the output's tail on failure
    with sqlite3.connect(database) as db:
        ((deadline_after, queued_after),) = db.execute(pending).fetchall()
    assert queued_after > queued_before and deadline_after > deadline_before
    hour = datetime.fromisoformat(deadline_after) - datetime.fromisoformat(queued_after)
    assert hour == timedelta(hours=1), (deadline_after, queued_after)
