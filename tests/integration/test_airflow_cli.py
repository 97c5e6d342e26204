"""`bin/airflow` drives this project's Airflow: settings applied from airflow_settings.yaml
show up in the CLI, and the DAG folder has no import error."""

import json
import subprocess

import pytest

from tests.conftest import ROOT, airflow_subprocess_env

pytestmark = pytest.mark.airflow


def run(script: str, *args: str) -> str:
    """Run one of the project's bin/ scripts against the test Airflow home; its stdout."""
    result = subprocess.run(
        [str(ROOT / "bin" / script), *args],
        env=airflow_subprocess_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def cli(*args: str) -> str:
    return run("airflow", *args)


@pytest.fixture(scope="module")
def applied(airflow_db, settings):
    assert "applied" in run("airflow-settings")
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
    def snapshot() -> tuple[str, str, str]:
        export = cli("connections", "export", "-", "--file-format", "json")
        return export[export.index("{") :], cli("pools", "list", "-o", "json"), cli("variables", "list", "-o", "json")

    before = snapshot()
    run("airflow-settings")
    assert snapshot() == before


def test_dag_folder_has_no_import_errors(airflow_db):
    assert json_rows(cli("dags", "list-import-errors", "-o", "json")) == []
