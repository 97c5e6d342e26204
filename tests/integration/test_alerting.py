"""A failing task alerts for real: an e-mail reaches an SMTP server on loopback and a
Slack message reaches the Slack Web API double, through the providers' notifiers."""

import email
import email.policy
import json
import socket
import subprocess
import sys
import textwrap

import pytest

from devstack.slack_double import SlackDouble
from tests.conftest import ROOT, airflow_subprocess_env

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

FAILING_DAG = """
from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

from orchestration.defaults import task_defaults


@dag(schedule=None, start_date=datetime(2026, 1, 1), tags=["test"],
     default_args=task_defaults(owner="tests", retries=1, retry_delay=timedelta(seconds=0)))
def alert_probe():
    @task
    def land_bureau_file():
        raise ValueError("bureau_2026-11-20.csv: column 'bureau_score' has 312 nulls, expected none")

    land_bureau_file()


probe = alert_probe()

if __name__ == "__main__":
    probe.test(logical_date=datetime(2026, 11, 20, tzinfo=UTC))
"""


class MailSink:
    """aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def slack():
    with SlackDouble(token="xoxb-alert-test") as double:
        yield double


def run_failing_dag(tmp_path, env: dict[str, str]) -> subprocess.CompletedProcess:
    dag_file = tmp_path / "alert_probe.py"
    dag_file.write_text(textwrap.dedent(FAILING_DAG))
    return subprocess.run(
        [sys.executable, str(dag_file)],
        # dag.test serializes the DAG from its bundle: the file's folder is the DAGs folder here.
        env=airflow_subprocess_env(AIRFLOW__CORE__DAGS_FOLDER=str(tmp_path), **env),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def alert_env(slack: SlackDouble, smtp_port: int, email_to: str, channel: str) -> dict[str, str]:
    return {
        "AIRFLOW_CONN_SLACK_API_DEFAULT": json.dumps(
            {"conn_type": "slack", "password": slack.token, "extra": {"base_url": slack.base_url}}
        ),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": smtp_port,
                "extra": {"from_email": "airflow@platform.test", "disable_ssl": True, "disable_tls": True},
            }
        ),
        "AIRFLOW_VAR_ALERT_EMAIL_TO": email_to,
        "AIRFLOW_VAR_ALERT_SLACK_CHANNEL": channel,
    }


def test_failing_task_alerts_by_email_and_slack(airflow_db, smtp_server, slack, tmp_path):
    mail, smtp_port = smtp_server
    result = run_failing_dag(tmp_path, alert_env(slack, smtp_port, "risk-oncall@bank.test", "#data-alerts"))
    assert "land_bureau_file" in result.stdout + result.stderr

    # E-mail: the final failure only, not the retry.
    assert len(mail.messages) == 1, result.stderr[-2000:]
    message = mail.messages[0]
    assert message["To"] == "risk-oncall@bank.test"
    assert message["Subject"] == "[airflow] alert_probe.land_bureau_file FAILED (2026-11-20T00:00:00+00:00)"
    body = message.get_body(("html",)).get_content()
    for fact in (
        "alert_probe",
        "land_bureau_file",
        "2026-11-20T00:00:00+00:00",
        "2 of 2",
        "ValueError: bureau_2026-11-20.csv: column &#x27;bureau_score&#x27; has 312 nulls, expected none",
        "/dags/alert_probe/runs/",
        "/tasks/land_bureau_file?try_number=2",
    ):
        assert fact in body

    # Slack: the retry, then the failure, to the configured channel with the configured token.
    posts = [c for c in slack.calls if c["method"] == "chat.postMessage"]
    assert [c["token"] for c in posts] == ["xoxb-alert-test"] * 2
    assert [p["body"]["channel"] for p in posts] == ["#data-alerts"] * 2
    retry, failure = (p["body"]["text"] for p in posts)
    assert "retrying" in retry
    assert "will retry (try 1 of 2)" in retry
    assert "FAILED" in failure
    assert "ValueError: bureau_2026-11-20.csv: column 'bureau_score' has 312 nulls, expected none" in failure
    assert "try_number=2" in failure


def test_no_alert_is_sent_while_no_destination_is_configured(airflow_db, smtp_server, slack, tmp_path):
    mail, smtp_port = smtp_server
    result = run_failing_dag(tmp_path, alert_env(slack, smtp_port, email_to="", channel=""))
    assert "no alert channel configured" in result.stdout + result.stderr
    assert mail.messages == []
    assert slack.calls == []
