"""Monitoring in Postgres: metrics (`ml.monitoring_metrics`) and actions (`ml.monitoring_actions`).

Metrics are long format, one row per (model, version, date, metric), upserted: a re-run
of a day overwrites its numbers. An action is claimed before it is done and marked done
after: `claim` returns False when the (model, date, action) row is already done, so a
re-run never alerts, signals or rolls back twice; a row left 'started' by a run that died
midway is claimed again, so an action is never lost either.
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any


def _connect(postgres_uri: str):
    import psycopg

    return psycopg.connect(postgres_uri)


def write_metrics(
    postgres_uri: str, model: str, version: str, day: date, metrics: dict[str, float], dag_run_id: str | None
) -> int:
    """Upsert every metric of a day (NaN and infinities as null); returns the rows written."""
    rows = [
        (
            model,
            str(version),
            day,
            name,
            None if value is None or not math.isfinite(value) else float(value),
            dag_run_id,
        )
        for name, value in sorted(metrics.items())
    ]
    with _connect(postgres_uri) as pg, pg.cursor() as cursor:
        cursor.executemany(
            "insert into ml.monitoring_metrics (model, model_version, metric_date, metric, value, dag_run_id) "
            "values (%s, %s, %s, %s, %s, %s) on conflict (model, model_version, metric_date, metric) "
            "do update set value = excluded.value, dag_run_id = excluded.dag_run_id, recorded_at = now()",
            rows,
        )
    return len(rows)


def metric_history(postgres_uri: str, model: str, metrics: list[str], until: date, days: int = 90) -> list[tuple]:
    """(metric_date, model_version, metric, value) of `model` over the `days` up to `until`, oldest first."""
    with _connect(postgres_uri) as pg:
        return pg.execute(
            "select metric_date, model_version, metric, value from ml.monitoring_metrics "
            "where model = %s and metric = any(%s) and metric_date <= %s and metric_date > %s::date - %s "
            "order by metric_date, metric",
            [model, metrics, until, until, days],
        ).fetchall()


def claim(
    postgres_uri: str, model: str, day: date, action: str, version: str, detail: dict[str, Any], dag_run_id: str | None
) -> bool:
    """Take the action for (model, day) unless it is already done; True means: do it now, then `complete`."""
    with _connect(postgres_uri) as pg:
        row = pg.execute(
            "insert into ml.monitoring_actions (model, action_date, action, model_version, status, detail, dag_run_id) "
            "values (%s, %s, %s, %s, 'started', %s, %s) "
            "on conflict (model, action_date, action) do update set started_at = now(), "
            "dag_run_id = excluded.dag_run_id, detail = excluded.detail "
            "where ml.monitoring_actions.status = 'started' returning action",
            [model, day, action, str(version), json.dumps(detail, default=str), dag_run_id],
        ).fetchone()
    return row is not None


def complete(postgres_uri: str, model: str, day: date, action: str, detail: dict[str, Any]) -> None:
    """Mark a claimed action done, with what was done (channels reached, versions moved)."""
    with _connect(postgres_uri) as pg:
        pg.execute(
            "update ml.monitoring_actions set status = 'done', done_at = now(), detail = detail || %s::jsonb "
            "where model = %s and action_date = %s and action = %s",
            [json.dumps(detail, default=str), model, day, action],
        )


def actions(postgres_uri: str, model: str, day: date) -> dict[str, dict[str, Any]]:
    """The recorded actions of (model, day): action -> {status, model_version, detail}."""
    with _connect(postgres_uri) as pg:
        rows = pg.execute(
            "select action, status, model_version, detail from ml.monitoring_actions "
            "where model = %s and action_date = %s",
            [model, day],
        ).fetchall()
    return {a: {"status": s, "model_version": v, "detail": d} for a, s, v, d in rows}
