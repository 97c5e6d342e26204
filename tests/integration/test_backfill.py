"""A backfill over 7 days, run by the scheduler, lands exactly what 7 daily runs land.

The daily side calls the function each `land_<table>` task runs, for each day's interval:
`dags test` of the DAG is covered in test_ingestion_dags, and 7 more Airflow runs here
cost minutes on a 2-core machine without testing anything new.
"""

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest

from devstack.backfill import cli, run_backfills
from include import lake as lk
from include.ingestion.catalog import postgres_tables
from include.ingestion.postgres import land_table
from tests.conftest import isolated_airflow_env

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

DAYS = [date(2026, 1, 5) + timedelta(days=i) for i in range(7)]  # after the DAG start, before any demo data
API_PORT = "18080"  # not 8080, where a developer's `make airflow` may run


@pytest.fixture
def changed_customers(stack, settings):
    """A few customers changed on each of the 7 days, removed afterwards."""
    conn = settings.connections["core_postgres"]
    dsn = f"postgresql://{conn.login}@{conn.host}:{conn.port}/{conn.schema}"
    base = 9_200_000_000 + uuid.uuid4().int % 1_000_000 * 1000
    expected = {day: {base + 100 * n + i for i in range(n + 3)} for n, day in enumerate(DAYS)}
    with psycopg.connect(dsn) as db:
        for n, day in enumerate(DAYS):
            for i in range(n + 3):
                updated = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=2 * i, minutes=n)
                db.execute(
                    "insert into core.customers (customer_id, birth_date, income, employment_status, region,"
                    " created_at, updated_at) values (%s, '1990-01-01', 30000, 'student', 'DE-HH', %s, %s)",
                    [base + 100 * n + i, updated, updated],
                )
    yield expected
    with psycopg.connect(dsn) as db:
        db.execute("delete from core.customers where customer_id between %s and %s", [base, base + 999])


def partition_contents(lake_root: str) -> dict:
    lake = lk.Lake.from_uri(lake_root)
    contents = {}
    for table in ("customers", "accounts", "statements", "repayments"):
        for day in DAYS:
            rows = lk.read_partition(lake, lake.partition("raw", "core", table, ds=day)).to_pylist()
            contents[(table, day)] = sorted(json.dumps(r, default=str, sort_keys=True) for r in rows)
    return contents


@pytest.mark.timeout(900)
def test_backfill_with_the_scheduler_equals_the_daily_runs(airflow_db, settings, changed_customers, tmp_path):
    daily_root, backfill_root = f"file://{tmp_path / 'daily'}", f"file://{tmp_path / 'backfill'}"

    env = isolated_airflow_env(
        tmp_path / "airflow",
        AIRFLOW_VAR_LAKE_ROOT=backfill_root,
        AIRFLOW__API__PORT=API_PORT,
        AIRFLOW__API__BASE_URL=f"http://localhost:{API_PORT}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{API_PORT}/execution/",
    )
    cli("db", "migrate", env=env)
    states = run_backfills(
        {"ingest_postgres_core": (DAYS[0], DAYS[-1])}, env=env, log=tmp_path / "standalone.log", timeout_s=600
    )
    assert states["ingest_postgres_core"] == ["success"] * len(DAYS), f"backfill runs: {states}"

    conn = settings.connections["core_postgres"]
    dsn = f"postgresql://{conn.login}@{conn.host}:{conn.port}/{conn.schema}"
    daily_lake = lk.Lake.from_uri(daily_root)
    for day in DAYS:  # what each day's scheduled run does: every table over [day, day + 1)
        start = datetime.combine(day, time.min, UTC)
        for table in postgres_tables("core"):
            land_table(daily_lake, dsn, "core", table, start, start + timedelta(days=1), written_by={"run": "daily"})

    daily, backfilled = partition_contents(daily_root), partition_contents(backfill_root)
    assert backfilled == daily
    lake = lk.Lake.from_uri(backfill_root)
    for day, ids in changed_customers.items():
        landed = set(
            lk.read_partition(lake, lake.partition("raw", "core", "customers", ds=day))["customer_id"].to_pylist()
        )
        other_days = set().union(*(other for d, other in changed_customers.items() if d != day))
        assert ids <= landed, f"{day}: not every customer changed that day is in its partition"
        assert not other_days & landed, f"{day}: customers changed on other days are in its partition"
