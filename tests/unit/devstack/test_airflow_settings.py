import json
import textwrap

import pytest

from devstack import airflow_settings
from devstack.airflow_settings import SettingsError, expand


def write(tmp_path, body: str):
    path = tmp_path / "airflow_settings.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def test_expand_uses_environment_then_default():
    assert expand("${A:-x}", {"A": "set"}, "f") == "set"
    assert expand("${A:-x}", {}, "f") == "x"
    assert expand("${A:-}", {}, "f") == ""


def test_expand_resolves_nested_defaults_innermost_first():
    assert expand("${LAKE:-file://${ROOT}/lake}", {"ROOT": "/srv"}, "f") == "file:///srv/lake"


def test_expand_names_the_field_and_variable_when_required_variable_is_missing():
    with pytest.raises(SettingsError, match=r"conn\.password: environment variable TOKEN is not set"):
        expand("${TOKEN}", {}, "conn.password")


def test_connection_fields_are_typed_after_expansion(tmp_path):
    path = write(
        tmp_path,
        """
        airflow:
          connections:
            - conn_id: db
              conn_type: postgres
              conn_host: ${DB_HOST:-127.0.0.1}
              conn_port: ${DB_PORT:-5432}
              conn_extra:
                disable_ssl: ${SSL_OFF:-true}
                note: plain
        """,
    )
    conn = airflow_settings.load(path, env={"DB_PORT": "6543"}).connections["db"]
    assert (conn.host, conn.port) == ("127.0.0.1", 6543)
    assert conn.extra == {"disable_ssl": True, "note": "plain"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("connections: [{conn_id: a}]", r"airflow\.connections\[0\] \(a\): missing 'conn_type'"),
        ("connections: [{conn_type: http}]", r"airflow\.connections\[0\]: missing 'conn_id'"),
        (
            "connections: [{conn_id: a, conn_type: http, conn_port: eighty}]",
            r"airflow\.connections\[0\] \(a\)\.conn_port: expected an integer, got 'eighty'",
        ),
        (
            "connections: [{conn_id: a, conn_type: http, hostname: x}]",
            r"airflow\.connections\[0\] \(a\): unknown field\(s\) \['hostname'\]",
        ),
        (
            "connections: [{conn_id: a, conn_type: http}, {conn_id: a, conn_type: http}]",
            r"airflow\.connections\[1\] \(a\): conn_id declared twice",
        ),
        ("pools: [{pool_name: gpu, pool_slot: many}]", r"airflow\.pools\[0\] \(gpu\)\.pool_slot: expected an integer"),
        ("variables: [{variable_value: x}]", r"airflow\.variables\[0\]: missing 'variable_name'"),
    ],
)
def test_malformed_settings_name_the_file_and_field(tmp_path, body, message):
    path = write(tmp_path, "airflow:\n  " + body + "\n")
    with pytest.raises(SettingsError, match=r"airflow_settings\.yaml: " + message):
        airflow_settings.load(path, env={})


def test_file_without_airflow_section_is_rejected(tmp_path):
    with pytest.raises(SettingsError, match="top-level 'airflow:'"):
        airflow_settings.load(write(tmp_path, "connections: []\n"), env={})


def test_as_env_gives_airflow_connection_json_and_variables():
    settings = airflow_settings.Settings(
        connections={"lake_s3": airflow_settings.Connection("lake_s3", "aws", login="k", extra={"region_name": "r"})},
        pools={},
        variables={"lake_root": "file:///lake"},
    )
    env = airflow_settings.as_env(settings)
    assert json.loads(env["AIRFLOW_CONN_LAKE_S3"]) == {"conn_type": "aws", "login": "k", "extra": {"region_name": "r"}}
    assert env["AIRFLOW_VAR_LAKE_ROOT"] == "file:///lake"


def test_project_settings_declare_every_platform_connection_pool_and_variable():
    settings = airflow_settings.load(env={})
    assert set(settings.connections) >= {
        "core_postgres",
        "ml_postgres",
        "lake_s3",
        "partner_s3",
        "kafka_default",
        "webhdfs_default",
        "spark_default",
        "mlflow_default",
        "slack_api_default",
        "smtp_default",
    }
    assert {"gpu", "spark"} <= set(settings.pools)
    assert {"environment", "lake_root", "alert_email_to", "alert_slack_channel"} <= set(settings.variables)
    # Alerts are off on a fresh checkout: nothing is sent until a destination is configured.
    assert settings.variables["alert_email_to"] == settings.variables["alert_slack_channel"] == ""


def test_project_settings_commit_no_secret():
    raw = airflow_settings.SETTINGS_FILE.read_text()
    document = airflow_settings.yaml.safe_load(raw)
    for conn in document["airflow"]["connections"]:
        password = conn.get("conn_password")
        if password is not None:
            assert password.startswith("${"), f"{conn['conn_id']}: conn_password must come from the environment"
    assert "${SLACK_API_TOKEN:-}" in raw
