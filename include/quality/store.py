"""`ml.data_quality_runs` in Postgres: every validation's verdict, and the history learned bounds come from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True)
class PastRun:
    """One earlier successful validation of a dataset's partition (the latest per day)."""

    ds: date
    row_count: int
    observed: dict[str, float]


def record_run(postgres_uri: str, row: dict[str, Any]) -> int:
    """Insert one validation's row (the keys of `ml.data_quality_runs`); returns its id."""
    row = {**row, "observed": Jsonb(row.get("observed") or {})}
    columns = ", ".join(row)
    values = ", ".join(f"%({name})s" for name in row)
    with psycopg.connect(postgres_uri) as pg:
        return pg.execute(
            f"insert into ml.data_quality_runs ({columns}) values ({values}) returning id", row
        ).fetchone()[0]


def history(postgres_uri: str, dataset: str, before: date, last: int) -> list[PastRun]:
    """The `last` most recent days before `before` whose current verdict is a pass, oldest first.

    A day re-validated after a fix counts with its latest verdict only; a day whose
    latest verdict is a failure does not count (bad data must not move the bounds).
    """
    sql = """
        select ds, row_count, observed from (
            select distinct on (ds) ds, success, row_count, observed
            from ml.data_quality_runs
            where dataset = %s and ds < %s
            order by ds, validated_at desc, id desc
        ) latest
        where success
        order by ds desc
        limit %s"""
    with psycopg.connect(postgres_uri) as pg:
        rows = pg.execute(sql, [dataset, before, last]).fetchall()
    return [
        PastRun(ds, count, observed if isinstance(observed, dict) else json.loads(observed))
        for ds, count, observed in reversed(rows)
    ]


def runs(postgres_uri: str, dataset: str, ds: date) -> list[dict[str, Any]]:
    """Every recorded validation of one partition, oldest first (for runbooks and tests)."""
    with psycopg.connect(postgres_uri) as pg, pg.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "select * from ml.data_quality_runs where dataset = %s and ds = %s order by validated_at, id", [dataset, ds]
        ).fetchall()
