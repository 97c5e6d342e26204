"""Deadline alerts: a DAG run that has not finished in time alerts on Slack and e-mail.

Airflow 3's `DeadlineAlert` replaces SLAs. The scheduler notices the missed deadline and
the triggerer runs `alert_missed_deadline` with a small context (the DAG run as the REST
API returns it, and the deadline), so this module must stay importable by the triggerer:
it lives in `plugins/`, top level, as Airflow's docs require.

    FINISHED_WITHIN = timedelta(hours=2)

    @dag(deadline=completion_deadline(FINISHED_WITHIN), doc_md=__doc__ + deadline_doc(FINISHED_WITHIN), ...)

Every scheduled platform DAG has one (tests/dags/test_dag_integrity.py); the model DAGs
take theirs from the model YAML's `schedule.deadline_hours`.

The reference is when the run was queued, not its logical date: a backfill's logical
dates lie in the past, and would miss every deadline at once. A backfill still queues all
its runs when it is created, so in a backfill that takes longer than the deadline every
later run would miss it: a backfill run's missed deadline is logged, not sent (its
failures alert as any run's do). A `dags test` run is never queued, so it has no deadline.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import timedelta
from typing import Any

from airflow.sdk.definitions.deadline import AsyncCallback, DeadlineAlert, DeadlineReference

from orchestration import alerts

CALLBACK = "orchestration.deadlines.alert_missed_deadline"
log = logging.getLogger(__name__)


def completion_deadline(within: timedelta) -> DeadlineAlert:
    """Alert when a run of the DAG is not finished `within` after it was queued."""
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=within, callback=AsyncCallback(CALLBACK)
    )


def deadline_doc(within: timedelta) -> str:
    """The paragraph a DAG's `doc_md` ends with, so the UI shows the deadline beside the rest."""
    return (
        f"\n\n**Deadline.** A run not finished {duration(within)} after it was queued alerts on Slack and "
        "e-mail (`orchestration.deadlines`); the run itself goes on. A backfill run's miss is only logged."
    )


def duration(within: timedelta) -> str:
    """`within` in the largest unit that divides it: '45 minutes', '1 hour', '90 minutes'."""
    seconds = int(within.total_seconds())
    unit, size = next((u, n) for u, n in (("hour", 3600), ("minute", 60), ("second", 1)) if seconds % n == 0)
    count = seconds // size
    return f"{count} {unit}{'' if count == 1 else 's'}"


def describe_missed_deadline(context: dict[str, Any]) -> alerts.Alert:
    """The alert for a missed deadline, from the triggerer's context (plain JSON, no task instance)."""
    run = context.get("dag_run") or {}
    deadline = (context.get("deadline") or {}).get("deadline_time", "unknown")
    dag_id = run.get("dag_id", "unknown DAG")
    when = run.get("logical_date") or "manual run (no logical date)"
    subject = f"[airflow] {dag_id} missed its deadline ({when})"
    facts = [
        ("DAG", dag_id),
        ("Run", run.get("dag_run_id", "unknown")),
        ("Logical date", when),
        ("Queued at", run.get("queued_at", "unknown")),
        ("Deadline", deadline),
        ("State now", run.get("state", "unknown")),
    ]
    text = f"*{subject}*\nThe run is not finished.\n" + "\n".join(f"*{k}:* {v}" for k, v in facts)
    rows = "".join(f"<tr><th align='left'>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts)
    return alerts.Alert(subject=subject, text=text, html=f"<p>The run is not finished.</p><table>{rows}</table>")


async def alert_missed_deadline(context: dict[str, Any] | None = None, **_: Any) -> str:
    """Run by the triggerer when a deadline passes: Slack and e-mail, like a final failure.

    Returns a string on purpose: Airflow stores the result in the `callback` table, and a
    list there crashed the triggerer on SQLite ("type 'list' is not supported").
    """
    context = context or {}
    run = context.get("dag_run") or {}
    if run.get("run_type") == "backfill":
        # The deadline is the schedule's promise. A backfill queues all its runs at once, so
        # its later runs miss the deadline by design; dozens of alerts would bury real ones.
        result = f"not sent: {run.get('dag_run_id', 'the run')} is a backfill run"
        log.info("%s missed its deadline; %s", run.get("dag_id", "a DAG"), result)
        return result
    # The notifiers and Variable lookups are blocking: keep them off the triggerer's event loop.
    delivered = await asyncio.to_thread(alerts.send, describe_missed_deadline(context), context)
    return "delivered via " + ", ".join(delivered) if delivered else "no alert channel configured"
