"""`bin/airflow` drives this project's Airflow: settings applied from airflow_settings.yaml
show up in the CLI, and the DAG folder has no import error."""

import json
import subprocess

import pytest

from tests.conftest import ROOT, airflow_subprocess_env

pytestmark = pytest.mark.airflow


def cli(*args: str) -> str:
    result = subprocess.run(
        [str(ROOT / "bin" / "airflow"), *args],
        env=airflow_subprocess_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def applied(airflow_db, settings):
    result = subprocess.run(
        [str(ROOT / "bin" / "airflow-settings")],
        env=airflow_subprocess_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "applied" in result.stdout
    return settings


def json_rows(output: str) -> list[dict]:
    """The JSON array the CLI prints after whatever warnings Airflow logs to stdout first."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("["))
    return json.loads("\n".join(lines[start:]))


def test_connections_list_shows_every_declared_connection(applied):
    rows = {r["conn_id"]: r for r in json_rows(cli("connections", "list", "-o", "json"))}
    assert set(applied.connections) <= set(rows)
    assert {r["conn_type"] for r in rows.values()} >= {"postgres", "aws", "kafka", "webhdfs", "spark", "slack", "smtp"}
    (webhdfs,) = json_rows(cli("connections", "get", "webhdfs_default", "-o", "json"))
    assert int(webhdfs["port"]) == applied.connections["webhdfs_default"].port


def test_pools_list_shows_declared_pools_with_their_slots(applied):
    rows = {r["pool"]: r for r in json_rows(cli("pools", "list", "-o", "json"))}
    for name, (slots, _) in applied.pools.items():
        assert int(rows[name]["slots"]) == slots


def test_variables_are_loaded(applied):
    keys = {r["key"] for r in json_rows(cli("variables", "list", "-o", "json"))}
    assert set(applied.variables) <= keys


def test_applying_settings_twice_changes_nothing(applied):
    before = cli("connections", "list", "-o", "json")
    subprocess.run(
        [str(ROOT / "bin" / "airflow-settings")],
        env=airflow_subprocess_env(),
        check=True,
        capture_output=True,
        cwd=ROOT,
        timeout=300,
    )
    assert cli("connections", "list", "-o", "json") == before


def test_dag_folder_has_no_import_errors(airflow_db):
    assert json_rows(cli("dags", "list-import-errors", "-o", "json")) == []
