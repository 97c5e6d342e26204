"""A backfill over 14 days, run by the scheduler, gives what 14 daily runs give.

Two DAGs, one after the other in the same isolated Airflow: `ingest_postgres_core` lands and
validates the core tables for each day, then `build_features` builds each day's features
from them (a run over [X, X + 1) builds D = X + 1, which needs the core tables through X:
run together, a feature run would race the ingestion of its day).

The daily side of ingestion calls the function each `land_<table>` task runs, for each
day's interval: `dags test` of the DAG is covered in test_ingestion_dags, and 14 more Airflow
runs here cost minutes on a 2-core machine without testing anything new. The daily side of
the features is the population the feature query scores, counted from the validated inputs,
and for the first and last day the job's query at D run again over the finished lake.
"""

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pyarrow.parquet as pq
import pytest

from devstack.backfill import cli, run_backfills
from include import lake as lk
from include.features import inputs, spark_engine
from include.features.definitions import CREDIT_DEFAULT, SCORING_SET, TRAINING_SET
from include.ingestion.catalog import postgres_tables
from include.ingestion.postgres import land_table
from tests.conftest import isolated_airflow_env, isolated_quality_history
from tests.unit.features.conftest import TinyLake, utc

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

DAYS = [date(2026, 1, 5) + timedelta(days=i) for i in range(14)]  # after the DAG start, before the demo's statements
API_PORT = "18080"  # not 8080, where a developer's `make airflow` may run
# Far from the demo data's ids. A Spark job's time is its start and plan, not these rows.
ACCOUNTS = range(8_100_000_000, 8_100_001_000)


def observation_days() -> list[date]:
    """The D each backfill run of build_features builds: the end of its interval [X, X + 1)."""
    return [x + timedelta(days=1) for x in DAYS]


@pytest.fixture
def changed_customers(stack, settings):
    """A few customers changed on each of the days, removed afterwards."""
    conn = settings.connections["core_postgres"]
    dsn = f"postgresql://{conn.login}@{conn.host}:{conn.port}/{conn.schema}"
    base = 9_200_000_000 + uuid.uuid4().int % 1_000_000 * 10_000
    expected = {day: {base + 100 * n + i for i in range(n + 3)} for n, day in enumerate(DAYS)}
    with psycopg.connect(dsn) as db:
        for n, day in enumerate(DAYS):
            for i in range(n + 3):
                updated = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=i, minutes=n)
                db.execute(
                    "insert into core.customers (customer_id, birth_date, income, employment_status, region,"
                    " created_at, updated_at) values (%s, '1990-01-01', 30000, 'student', 'DE-HH', %s, %s)",
                    [base + 100 * n + i, updated, updated],
                )
    yield expected
    with psycopg.connect(dsn) as db:
        db.execute("delete from core.customers where customer_id between %s and %s", [base, base + 9_999])


@pytest.fixture
def quality_history(settings, stack):
    """The gates' history in a scratch database: volume bands and learned bounds see only these days."""
    with isolated_quality_history(settings) as uri:
        yield uri


def validated_inputs(lake: lk.Lake) -> TinyLake:
    """The validated inputs the features need besides the ingested core days.

    The core tables' history before DAYS as one initial-load snapshot (the training dates,
    91 days back, read it), and every day of bureau and card transactions, empty. The core
    database holds demo accounts opened on DAYS, which the ingestion lands: the portfolio is
    large enough that they do not move the scoring set's volume out of the gate's band, and
    without any card activity the activity the gate learns its bounds from stays at zero.
    """
    tiny = TinyLake(lake, zone="validated")
    first_matured = CREDIT_DEFAULT.matured_date(observation_days()[0])
    opened = first_matured - timedelta(days=30)
    for account in ACCOUNTS:
        tiny.add(
            "core",
            "customers",
            opened,
            customer_id=account,
            birth_date=date(1990, 5, 5),
            gender="F",
            income=40_000.0,
            employment_status="employed",
            region="DE-BY",
            created_at=utc(opened),
            updated_at=utc(opened),
        )
        tiny.add(
            "core",
            "accounts",
            opened,
            account_id=account,
            customer_id=account,
            product="classic",
            credit_limit=5_000.0,
            status="active",
            opened_at=opened,
            updated_at=utc(opened),
        )
    tiny.publish(through=DAYS[-1], since=first_matured - timedelta(days=1), snapshot=DAYS[0] - timedelta(1))
    return tiny


def scored_accounts(lake: lk.Lake, d: date) -> int:
    """How many accounts the feature set at D holds, counted from the validated accounts files the job
    reads at D: those whose latest version before D is active (or that have none yet), opened before D.
    The training set at D also leaves out accounts already in default; these inputs have no statements
    before DAYS (nor do the demo's), so it holds the same accounts."""
    (accounts,) = (r for r in inputs.plan(lake, "validated", CREDIT_DEFAULT, d, complete=False) if r.name == "accounts")
    versions = pq.read_table([uri.removeprefix("file://") for uri in accounts.files]).to_pylist()
    start_of_d = datetime.combine(d, time.min, UTC)
    by_account: dict[int, list[dict]] = {}
    for version in versions:
        by_account.setdefault(version["account_id"], []).append(version)
    population = 0
    for own in by_account.values():
        own.sort(key=lambda v: v["updated_at"])
        known = [v for v in own if v["updated_at"] < start_of_d]
        latest = known[-1] if known else own[0]
        population += (latest["status"] == "active" or not known) and latest["opened_at"] < d
    return population


def partition_contents(lake_root: str) -> dict:
    lake = lk.Lake.from_uri(lake_root)
    contents = {}
    for table in ("customers", "accounts", "statements", "repayments"):
        for day in DAYS:
            rows = lk.read_partition(lake, lake.partition("raw", "core", table, ds=day)).to_pylist()
            contents[(table, day)] = sorted(json.dumps(r, default=str, sort_keys=True) for r in rows)
    return contents


@pytest.mark.timeout(1800)
def test_backfill_with_the_scheduler_equals_the_daily_runs(
    airflow_db, settings, quality_history, changed_customers, spark, tmp_path
):
    daily_root, backfill_root = f"file://{tmp_path / 'daily'}", f"file://{tmp_path / 'backfill'}"
    lake = lk.Lake.from_uri(backfill_root)
    validated_inputs(lake)

    env = isolated_airflow_env(  # after `quality_history`: the env copies its connection
        tmp_path / "airflow",
        AIRFLOW_VAR_LAKE_ROOT=backfill_root,
        AIRFLOW__API__PORT=API_PORT,
        AIRFLOW__API__BASE_URL=f"http://localhost:{API_PORT}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{API_PORT}/execution/",
    )
    cli("db", "migrate", env=env)
    slots, description = settings.pools["spark"]  # the Spark jobs wait for a slot of it
    cli("pools", "set", "spark", str(slots), description, env=env)
    log = tmp_path / "standalone.log"
    states = run_backfills({"ingest_postgres_core": (DAYS[0], DAYS[-1])}, env=env, log=log, timeout_s=600)
    assert states["ingest_postgres_core"] == ["success"] * len(DAYS), f"backfill runs: {states}"
    states = run_backfills({"build_features": (DAYS[0], DAYS[-1])}, env=env, log=log, timeout_s=1200)
    assert states["build_features"] == ["success"] * len(DAYS), f"backfill runs: {states}"

    conn = settings.connections["core_postgres"]
    dsn = f"postgresql://{conn.login}@{conn.host}:{conn.port}/{conn.schema}"
    daily_lake = lk.Lake.from_uri(daily_root)
    for day in DAYS:  # what each day's scheduled run does: every table over [day, day + 1)
        start = datetime.combine(day, time.min, UTC)
        for table in postgres_tables("core"):
            land_table(daily_lake, dsn, "core", table, start, start + timedelta(days=1), written_by={"run": "daily"})

    daily, backfilled = partition_contents(daily_root), partition_contents(backfill_root)
    assert backfilled == daily
    for day, ids in changed_customers.items():
        landed = set(
            lk.read_partition(lake, lake.partition("raw", "core", "customers", ds=day))["customer_id"].to_pylist()
        )
        other_days = set().union(*(other for d, other in changed_customers.items() if d != day))
        assert ids <= landed, f"{day}: not every customer changed that day is in its partition"
        assert not other_days & landed, f"{day}: customers changed on other days are in its partition"

    # Each run built its D from the validated core days the ingestion backfill published.
    version = f"v{CREDIT_DEFAULT.version}"
    for d in observation_days():
        scoring = lk.read_manifest(lake, lake.partition("features", SCORING_SET, version, ds=d))
        assert scoring is not None, f"no committed scoring partition for {d}"
        assert scoring.row_count == scored_accounts(lake, d) > 0, f"{d}: scoring rows"
        assert scoring.written_by["dag_id"] == "build_features"
        # Airflow 3 names a run by its run_after, the end of its interval: D.
        assert scoring.written_by["run_id"].startswith(f"backfill__{d}"), scoring.written_by
        matured = CREDIT_DEFAULT.matured_date(d)
        training = lk.read_manifest(lake, lake.partition("features", TRAINING_SET, version, ds=matured))
        assert training is not None, f"no committed training partition for {matured}"
        assert training.row_count == scored_accounts(lake, matured) > 0, f"{matured}: training rows"
    # What a daily run at D would have built: the job's query at D over the lake as it is now,
    # every later day landed. Point in time, that is what each backfill run built at D.
    for d in (observation_days()[0], observation_days()[-1]):
        matured = CREDIT_DEFAULT.matured_date(d)
        for kind, feature_set, day in (("scoring", SCORING_SET, d), ("training", TRAINING_SET, matured)):
            frame, _ = spark_engine.build(spark, lake, "validated", CREDIT_DEFAULT, day, kind)
            rebuilt = frame.toArrow().sort_by("account_id")
            backfilled = lk.read_partition(lake, lake.partition("features", feature_set, version, ds=day))
            assert backfilled.sort_by("account_id").equals(rebuilt), f"{kind} {day}: backfilled != rebuilt"
    # Every partition passed its gate: nothing quarantined.
    assert not (tmp_path / "backfill" / "quarantine").exists()
