"""A source that is not there fails within seconds, naming the connection and what was tried."""

import json
import socket

import pytest

from orchestration.connectivity import ConnectionUnavailableError, require


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def open_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def define(monkeypatch, conn_id: str, **conn) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


def test_unreachable_postgres_names_the_connection_and_host_port(monkeypatch, closed_port):
    define(monkeypatch, "core_postgres", conn_type="postgres", host="127.0.0.1", port=closed_port, schema="platform")
    with pytest.raises(ConnectionUnavailableError) as error:
        require("core_postgres")
    assert str(error.value) == (
        f"connection core_postgres (postgres) is unreachable: tried 127.0.0.1:{closed_port} (Connection refused)"
    )


def test_kafka_is_reachable_through_any_bootstrap_server_and_names_all_it_tried(monkeypatch, closed_port, open_port):
    servers = f"127.0.0.1:{closed_port},localhost:{closed_port}"
    define(monkeypatch, "kafka_default", conn_type="kafka", extra={"bootstrap.servers": servers})
    with pytest.raises(ConnectionUnavailableError, match=r"connection kafka_default \(kafka\) is unreachable") as e:
        require("kafka_default")
    assert f"127.0.0.1:{closed_port} (" in str(e.value)
    assert f"localhost:{closed_port} (" in str(e.value)

    servers = f"127.0.0.1:{closed_port},127.0.0.1:{open_port}"
    define(monkeypatch, "kafka_default", conn_type="kafka", extra={"bootstrap.servers": servers})
    assert require("kafka_default").conn_id == "kafka_default"


def test_s3_endpoint_url_is_what_is_tried(monkeypatch, closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    define(monkeypatch, "partner_s3", conn_type="aws", login="k", password="s", extra={"endpoint_url": url})
    with pytest.raises(
        ConnectionUnavailableError, match=rf"partner_s3 \(aws\) is unreachable: tried 127.0.0.1:{closed_port}"
    ):
        require("partner_s3")


def test_webhdfs_host_and_port_are_what_is_tried(monkeypatch, closed_port):
    define(monkeypatch, "webhdfs_default", conn_type="webhdfs", host="127.0.0.1", port=closed_port)
    with pytest.raises(
        ConnectionUnavailableError, match=rf"webhdfs_default \(webhdfs\) is unreachable: tried 127.0.0.1:{closed_port}"
    ):
        require("webhdfs_default")


def test_connection_without_a_host_is_misconfigured(monkeypatch):
    define(monkeypatch, "core_postgres", conn_type="postgres", schema="platform")
    with pytest.raises(ConnectionUnavailableError, match=r"core_postgres \(postgres\) has no endpoint configured"):
        require("core_postgres")


def test_undefined_connection_says_where_to_define_it():
    with pytest.raises(ConnectionUnavailableError, match="connection no_such_conn is not defined: add it to"):
        require("no_such_conn")


def test_aws_without_endpoint_url_uses_aws_and_is_not_probed(monkeypatch):
    define(monkeypatch, "lake_s3", conn_type="aws", extra={"region_name": "eu-west-1"})
    assert require("lake_s3").conn_id == "lake_s3"
