"""Task defaults every DAG starts from: an owner, retries with exponential backoff, alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from orchestration import alerts


def task_defaults(owner: str, **overrides: Any) -> dict[str, Any]:
    """`default_args` for a DAG: 2 retries from 1 minute doubling up to 30, alerts on retry and failure."""
    return {
        "owner": owner,
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        **alerts.callbacks(),
        **overrides,
    }
