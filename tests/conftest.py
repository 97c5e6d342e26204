"""Shared fixtures: the local service stack and an isolated Airflow home for tests.

The tests run against the real services (`make services-up` starts the same ones):
whatever already answers is reused, whatever this session had to start is stopped
again at the end. Airflow runs with its own home under `.local/test/airflow`, so the
tests never touch the developer's local Airflow, and reads connections and variables
from `airflow_settings.yaml` through `AIRFLOW_CONN_*` / `AIRFLOW_VAR_*`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from devstack import airflow_settings
from devstack.airflow_env import airflow_env

ROOT = Path(__file__).resolve().parent.parent
TEST_AIRFLOW_HOME = ROOT / ".local" / "test" / "airflow"

# Before anything imports airflow: its configuration is read once per process.
_SETTINGS = airflow_settings.load()
os.environ.update(airflow_env(TEST_AIRFLOW_HOME, base={**os.environ, "AIRFLOW_HOME": str(TEST_AIRFLOW_HOME)}))
os.environ.update(airflow_settings.as_env(_SETTINGS))


@pytest.fixture(scope="session")
def settings() -> airflow_settings.Settings:
    return _SETTINGS


@pytest.fixture(scope="session")
def stack(settings):
    """Every local service, healthy; yields {name: Service}.

    What a user can see on the services is recorded once they are up and compared at the end
    (`tests/support/user_state.py`): anything a test left behind fails the session, named."""
    from devstack import services
    from tests.support import user_state

    started = []
    for service in services.services():
        if services.up(service).startswith("started"):
            started.append(service)
    by_name = {s.name: s for s in services.services()}
    before = user_state.snapshot(settings, lambda name: by_name[name].healthy())
    hdfs_test_folder_existed = user_state.hdfs_test_folder_exists(settings)
    yield by_name
    try:
        user_state.remove_empty_test_folder(settings, hdfs_test_folder_existed)
        after = user_state.snapshot(settings, lambda name: by_name[name].healthy())
    finally:
        for service in reversed(started):
            services.down(service)
    left = user_state.leftovers(before, after)
    assert not left, "the tests left these in the services a user sees:\n  " + "\n  ".join(left)


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole test session (unit and integration tests share it: a
    second session in the same process would be the first one, `getOrCreate`)."""
    from include.features.spark_engine import session

    spark = session(
        "features-tests",
        master="local[1]",
        conf={"spark.sql.shuffle.partitions": "2", "spark.ui.enabled": "false", "spark.driver.memory": "1g"},
    )
    yield spark
    spark.stop()


def airflow_subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of an Airflow subprocess: the test Airflow home plus `extra`."""
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


def isolated_airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of an Airflow with its own home and metadata database at `home`.

    For tests that run the scheduler: nothing from other tests' runs can be in its way.
    Connections and variables still come from the AIRFLOW_CONN_* / AIRFLOW_VAR_* variables.
    """
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__") and k != "AIRFLOW_HOME"}
    return {**airflow_env(home, base=base), "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated metadata database in the test Airflow home."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env=airflow_subprocess_env(),
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return TEST_AIRFLOW_HOME


@contextmanager
def scratch_database(settings: airflow_settings.Settings, prefix: str) -> Iterator[str]:
    """A throwaway database on the core_postgres server, dropped afterwards; yields its conninfo."""
    import psycopg

    conn = settings.connections["core_postgres"]
    admin = {"host": conn.host, "port": conn.port, "user": conn.login, "password": conn.password or None}
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(**admin, dbname="postgres", autocommit=True) as pg:
        pg.execute(f'create database "{name}"')
    try:
        yield psycopg.conninfo.make_conninfo(**{k: v for k, v in admin.items() if v is not None}, dbname=name)
    finally:
        with psycopg.connect(**admin, dbname="postgres", autocommit=True) as pg:
            pg.execute(f'drop database "{name}" with (force)')


@contextmanager
def isolated_quality_history(settings: airflow_settings.Settings) -> Iterator[str]:
    """Point `ml_postgres` (the gate's history and verdicts) at a scratch database for a block of
    DAG runs: volume bands and learned bounds must not see a demo's or another test's days."""
    import psycopg

    from include import migrations

    with scratch_database(settings, "ml_history") as conninfo, pytest.MonkeyPatch.context() as patch:
        with psycopg.connect(conninfo, autocommit=True) as pg:
            migrations.apply(pg, "ml")
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
        uri = f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
        patch.setenv("AIRFLOW_CONN_ML_POSTGRES", uri)
        yield uri


@pytest.fixture(scope="module")
def tracking_uri(stack, settings) -> str:
    """The local MLflow server's URI, set as this process's tracking URI."""
    import mlflow

    conn = settings.connections["mlflow_default"]
    uri = f"{conn.schema}://{conn.host}:{conn.port}"
    mlflow.set_tracking_uri(uri)
    return uri
