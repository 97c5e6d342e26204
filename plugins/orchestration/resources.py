"""The lake and source endpoints as configured in Airflow (variable `lake_root`, connections).

Tasks call these at run time: the same task code reads a local `file://` lake or an
`s3://` one, a local Postgres or a managed one, depending on configuration only. Each
source's connection is checked first (`connectivity.require`): a missing, misconfigured or
unreachable one fails the task within seconds, naming the connection id and the host:port
tried, instead of a client library's retries and an error that names neither.
"""

from __future__ import annotations

from typing import Any


def lake():
    """`include.lake.Lake` for the `lake_root` variable; S3 credentials from the `lake_s3` connection."""
    from airflow.sdk import Variable

    from include.lake import Lake

    root = Variable.get("lake_root")
    if not root.startswith("s3://"):
        return Lake.from_uri(root)
    from orchestration.spark import lake_s3_options

    s3 = lake_s3_options()
    return Lake.from_uri(
        root, endpoint_url=s3.endpoint_url, access_key=s3.access_key, secret_key=s3.secret_key, region=s3.region
    )


def postgres_uri(conn_id: str) -> str:
    """A libpq URI for the connection (what ADBC takes; PostgresHook.get_uri adds a SQLAlchemy dialect)."""
    from urllib.parse import quote

    from orchestration.connectivity import require

    conn = require(conn_id)
    auth = quote(conn.login or "", safe="") + (f":{quote(conn.password, safe='')}" if conn.password else "")
    return f"postgresql://{auth}@{conn.host}:{conn.port or 5432}/{quote(conn.schema or '', safe='')}"


def s3_client(conn_id: str):
    """A boto3 S3 client for the connection, through the amazon provider's hook."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from orchestration.connectivity import require

    require(conn_id)
    return S3Hook(aws_conn_id=conn_id).get_conn()


def webhdfs_client(conn_id: str):
    """An `hdfs` client for the connection, through the provider's WebHDFSHook."""
    from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

    from orchestration.connectivity import require

    require(conn_id)
    return WebHDFSHook(webhdfs_conn_id=conn_id).get_conn()


def kafka_config(conn_id: str) -> dict[str, Any]:
    """The connection's librdkafka configuration (its extra), as the Kafka provider keeps it."""
    from orchestration.connectivity import require

    return dict(require(conn_id).extra_dejson)


def written_by(context: dict[str, Any]) -> dict[str, Any]:
    """Which DAG run wrote a partition, for its manifest."""
    ti = context["ti"]
    return {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "try_number": ti.try_number}


def mlflow_tracking_uri(conn_id: str = "mlflow_default") -> str:
    """The MLflow tracking server's URI from its (http) connection: scheme in `schema`, host and port."""
    from orchestration.connectivity import require

    conn = require(conn_id)
    return f"{conn.schema or 'http'}://{conn.host}:{conn.port or 5000}"
