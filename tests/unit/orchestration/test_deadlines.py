"""A DAG's documentation states its deadline in the unit a person would say it in; who is alerted."""

import asyncio
from datetime import timedelta

import pytest

from orchestration import alerts
from orchestration.deadlines import alert_missed_deadline, deadline_doc, duration


@pytest.mark.parametrize(
    ("within", "said"),
    [
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=24), "24 hours"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(hours=1.5), "90 minutes"),  # a model YAML's deadline_hours: 1.5
        (timedelta(seconds=90), "90 seconds"),
    ],
)
def test_a_duration_is_said_in_the_largest_unit_that_divides_it(within, said):
    assert duration(within) == said


def test_the_deadline_paragraph_says_when_and_from_what():
    text = deadline_doc(timedelta(hours=6))
    assert text.startswith("\n\n**Deadline.**")  # its own paragraph after the DAG's doc
    assert "not finished 6 hours after it was queued" in text


def _missed(run_type: str) -> dict:
    """The triggerer's context for a missed deadline: the run as the REST API returns it."""
    run = {"dag_id": "build_features", "dag_run_id": f"{run_type}__2026-01-06T00:00:00+00:00", "run_type": run_type}
    return {"dag_run": {**run, "state": "running"}, "deadline": {"deadline_time": "2026-11-23T12:00:00+00:00"}}


@pytest.fixture
def sent(monkeypatch):
    delivered = []
    monkeypatch.setattr(alerts, "send", lambda alert, context: delivered.append(alert.subject) or ["slack"])
    return delivered


@pytest.mark.parametrize("run_type", ["scheduled", "manual", "asset_triggered"])
def test_a_missed_deadline_alerts(run_type, sent):
    assert asyncio.run(alert_missed_deadline(_missed(run_type))) == "delivered via slack"
    assert sent == ["[airflow] build_features missed its deadline (manual run (no logical date))"]


def test_a_backfill_runs_missed_deadline_is_not_sent(sent):
    result = asyncio.run(alert_missed_deadline(_missed("backfill")))
    assert result == "not sent: backfill__2026-01-06T00:00:00+00:00 is a backfill run"
    assert sent == []
