"""Whether an Airflow connection answers: a fast reachability check every task makes before
it opens a source (`require`), and the provider hook's own test (`probe`, the healthcheck)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

DEFAULT_PORTS = {"postgres": 5432, "kafka": 9092, "webhdfs": 9870, "http": 80, "aws": 443}
REACH_TIMEOUT_S = 5.0


class ConnectionUnavailableError(RuntimeError):
    """A connection is missing, misconfigured or unreachable; the message names its id and endpoint."""


def endpoints(conn) -> list[tuple[str, int]]:
    """The host:port pairs a connection's clients open: Kafka's bootstrap servers, an S3
    `endpoint_url` (none: AWS's regional endpoints), or the connection's host and port."""
    extra = conn.extra_dejson
    if conn.conn_type == "kafka":
        servers = [s.strip() for s in str(extra.get("bootstrap.servers", "")).split(",") if s.strip()]
        return [_host_port(s, conn) for s in servers]
    if conn.conn_type == "aws":
        url = extra.get("endpoint_url")
        if not url:
            return []
        parts = urlsplit(url)
        return [(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))]
    return [(conn.host or "", conn.port or DEFAULT_PORTS.get(conn.conn_type, 0))]


def _host_port(server: str, conn) -> tuple[str, int]:
    host, _, port = server.rpartition(":")
    if not host or not port.isdigit():
        return server, DEFAULT_PORTS.get(conn.conn_type, 0)
    return host.strip("[]"), int(port)


def require(conn_id: str, timeout: float = REACH_TIMEOUT_S):
    """The Airflow connection `conn_id`, once one of its endpoints accepts a TCP connection.

    Fails within `timeout` seconds per endpoint, instead of a client's own (often minutes of)
    retries, with ConnectionUnavailableError naming the connection, its type and every
    host:port tried: a closed port, an unknown host, or a connection that is not defined
    or has no endpoint.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException as exc:
        raise ConnectionUnavailableError(
            f"connection {conn_id} is not defined: add it to airflow_settings.yaml"
            f" or set AIRFLOW_CONN_{conn_id.upper()}"
        ) from exc
    targets = endpoints(conn)
    if conn.conn_type != "aws" and (not targets or not all(host and port for host, port in targets)):
        raise ConnectionUnavailableError(
            f"connection {conn_id} ({conn.conn_type}) has no endpoint configured: got {targets or 'none'}"
        )
    failures = []
    for host, port in targets:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return conn
        except OSError as exc:
            failures.append(f"{host}:{port} ({exc.strerror or exc})")
    if failures:
        raise ConnectionUnavailableError(
            f"connection {conn_id} ({conn.conn_type}) is unreachable: tried {', '.join(failures)}"
        )
    return conn


def probe(conn_id: str) -> str:
    """Run the provider hook's `test_connection()` where it tests the endpoint itself.

    S3 connections list buckets instead (the AWS hook's test asks STS, which an S3-only
    endpoint such as MinIO does not serve), MLflow gets a GET of `/health`, WebHDFS a
    status of `/`.

    Raises ConnectionUnavailableError naming the connection, its endpoint and the reason.
    """
    conn = require(conn_id)
    endpoint = conn.extra_dejson.get("endpoint_url") or conn.extra_dejson.get("bootstrap.servers")
    endpoint = endpoint or f"{conn.host}:{conn.port}"
    try:
        ok, message = _test(conn)
    except Exception as exc:  # noqa: BLE001 (hooks raise anything from socket to HTTP errors)
        ok, message = False, f"{type(exc).__name__}: {exc}"
    if not ok:
        raise ConnectionUnavailableError(
            f"connection {conn_id} ({conn.conn_type} at {endpoint}) does not answer: {message}"
        )
    return f"{conn_id}: ok ({message})"


def _test(conn) -> tuple[bool, str]:
    if conn.conn_type == "aws":
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        buckets = S3Hook(aws_conn_id=conn.conn_id).get_conn().list_buckets()["Buckets"]
        return True, f"{len(buckets)} buckets"
    if conn.conn_type == "http":
        from airflow.providers.http.hooks.http import HttpHook

        response = HttpHook(method="GET", http_conn_id=conn.conn_id).run("health")
        return response.ok, f"HTTP {response.status_code}"
    hook = conn.get_hook()
    if conn.conn_type == "webhdfs":
        return hook.check_for_path("/"), "status of /"
    return hook.test_connection()
