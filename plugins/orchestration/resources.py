"""The lake and source endpoints as configured in Airflow (variable `lake_root`, connections).

Tasks call these at run time: the same task code reads a local `file://` lake or an
`s3://` one, a local Postgres or a managed one, depending on configuration only.
"""

from __future__ import annotations

from typing import Any


def lake():
    """`include.lake.Lake` for the `lake_root` variable; S3 credentials from the `lake_s3` connection."""
    from airflow.sdk import BaseHook, Variable

    from include.lake import Lake

    root = Variable.get("lake_root")
    if not root.startswith("s3://"):
        return Lake.from_uri(root)
    conn = BaseHook.get_connection("lake_s3")
    extra = conn.extra_dejson
    return Lake.from_uri(
        root,
        endpoint_url=extra.get("endpoint_url"),
        access_key=conn.login,
        secret_key=conn.password,
        region=extra.get("region_name"),
    )


def postgres_uri(conn_id: str) -> str:
    """A libpq URI for the connection (what ADBC takes; PostgresHook.get_uri adds a SQLAlchemy dialect)."""
    from urllib.parse import quote

    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    auth = quote(conn.login or "", safe="") + (f":{quote(conn.password, safe='')}" if conn.password else "")
    return f"postgresql://{auth}@{conn.host}:{conn.port or 5432}/{quote(conn.schema or '', safe='')}"


def written_by(context: dict[str, Any]) -> dict[str, Any]:
    """Which DAG run wrote a partition, for its manifest."""
    ti = context["ti"]
    return {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": ti.task_id, "try_number": ti.try_number}
