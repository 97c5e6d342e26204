"""Failure and retry alerts for every DAG, through the Slack and SMTP providers' notifiers.

Which channels are on is read when a task fails, from two Airflow variables:
`alert_slack_channel` (Slack, through the `slack_api_default` connection) and
`alert_email_to` (e-mail, through `smtp_default`). Empty means off, so a fresh
checkout sends nothing until someone configures a destination. A channel that fails
to send is logged and does not stop the other one.

    @dag(default_args=task_defaults(owner="data-eng"), ...)
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SLACK_CONN_ID = "slack_api_default"
SMTP_CONN_ID = "smtp_default"


@dataclass(frozen=True)
class Alert:
    subject: str
    text: str  # Slack mrkdwn / plain text
    html: str  # e-mail body


def describe(context: dict[str, Any], *, retrying: bool) -> Alert:
    """What went wrong, where, and where to look: the same facts on every channel."""
    ti = context["ti"]
    logical_date = context.get("logical_date")
    when = logical_date.isoformat() if logical_date else "manual run (no logical date)"
    exception = context.get("exception")
    error = f"{type(exception).__name__}: {exception}" if exception else "no exception recorded"
    max_tries = (getattr(ti, "max_tries", None) or 0) + 1
    state = f"will retry (try {ti.try_number} of {max_tries})" if retrying else f"failed after try {ti.try_number}"
    subject = f"[airflow] {ti.dag_id}.{ti.task_id} {'retrying' if retrying else 'FAILED'} ({when})"
    facts = [
        ("DAG", ti.dag_id),
        ("Task", ti.task_id),
        ("Logical date", when),
        ("Run", ti.run_id),
        ("Try", f"{ti.try_number} of {max_tries}"),
        ("Error", error),
        ("Log", ti.log_url),
    ]
    text = f"*{subject}*\nTask {state}.\n" + "\n".join(f"*{k}:* {v}" for k, v in facts)
    rows = "".join(f"<tr><th align='left'>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts)
    link = f"<p><a href='{html.escape(ti.log_url)}'>Open the log</a></p>"
    body = f"<p>Task {html.escape(state)}.</p><table>{rows}</table>{link}"
    return Alert(subject=subject, text=text, html=body)


def _destinations() -> tuple[str, str]:
    from airflow.sdk import Variable

    return Variable.get("alert_slack_channel", default="") or "", Variable.get("alert_email_to", default="") or ""


def send(alert: Alert, context: dict[str, Any], *, email: bool = True) -> list[str]:
    """Deliver to every configured channel; returns the channels that accepted it."""
    from airflow.providers.slack.notifications.slack import SlackNotifier
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    slack_channel, email_to = _destinations()
    notifiers = []
    if slack_channel:
        notifiers.append(("slack", SlackNotifier(slack_conn_id=SLACK_CONN_ID, channel=slack_channel, text=alert.text)))
    if email and email_to:
        recipients = [a.strip() for a in email_to.split(",") if a.strip()]
        notifiers.append(
            (
                "email",
                SmtpNotifier(smtp_conn_id=SMTP_CONN_ID, to=recipients, subject=alert.subject, html_content=alert.html),
            )
        )
    delivered = []
    for channel, notifier in notifiers:
        try:
            # notify(), not __call__: the texts are final, and rendering them as Jinja
            # would mangle an exception message that happens to contain "{{".
            notifier.notify(context)
            delivered.append(channel)
        except Exception:
            log.exception("alert via %s failed: %s", channel, alert.subject)
    if not notifiers:
        log.info("no alert channel configured (variables alert_slack_channel, alert_email_to): %s", alert.subject)
    return delivered


def on_failure(context: dict[str, Any]) -> None:
    """A task failed for good (retries exhausted): Slack and e-mail."""
    send(describe(context, retrying=False), context)


def on_retry(context: dict[str, Any]) -> None:
    """A task failed and will retry: Slack only, so mailboxes hear only of real failures."""
    send(describe(context, retrying=True), context, email=False)


def callbacks() -> dict[str, list[Callable[[dict[str, Any]], None]]]:
    return {"on_failure_callback": [on_failure], "on_retry_callback": [on_retry]}
