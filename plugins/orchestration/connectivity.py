"""Whether an Airflow connection answers, through its provider's hook."""

from __future__ import annotations


class ConnectionUnavailableError(RuntimeError):
    pass


def probe(conn_id: str) -> str:
    """Run the provider hook's `test_connection()` where it tests the endpoint itself.

    S3 connections list buckets instead (the AWS hook's test asks STS, which an S3-only
    endpoint such as MinIO does not serve), MLflow gets a GET of `/health`, WebHDFS a
    status of `/`.

    Raises ConnectionUnavailableError naming the connection, its endpoint and the reason.
    """
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
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
