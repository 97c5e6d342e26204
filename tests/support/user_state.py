"""What a user can see on the local stack, recorded before the tests and compared after them.

The suite reuses whatever services run (a user's `make demo` stack, say); every test works in
names of its own and removes them. This is the check that they did: one snapshot of each
service when the session's stack is up, one at the end, and every difference named.

Recorded, per service that answers:
- MLflow: registered models (with their version counts) and active experiments (with their
  run counts);
- Kafka: topics (not the broker's internal ones) with the sum of their end offsets;
- S3: buckets with their object counts;
- HDFS: files, folders and bytes under each folder of `/`;
- Postgres: the databases on the server, and the row count of every table of the `core` and
  `ml` schemas of the platform's database;
- the local lake (`lake_root` when it is `file://`): its committed partitions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from devstack import airflow_settings

Snapshot = dict[str, dict[str, Any]]
TESTS_HDFS_FOLDER = "/tests"


def _mlflow_models(settings: airflow_settings.Settings) -> dict[str, Any]:
    from mlflow.tracking import MlflowClient

    client = _mlflow_client(settings, MlflowClient)
    models, token = {}, None
    while True:
        page = client.search_registered_models(max_results=200, page_token=token)
        for model in page:
            models[model.name] = len(client.search_model_versions(f"name = '{model.name}'", max_results=1000))
        token = page.token
        if not token:
            return models


def _mlflow_experiments(settings: airflow_settings.Settings) -> dict[str, Any]:
    from mlflow.tracking import MlflowClient

    client = _mlflow_client(settings, MlflowClient)
    experiments = {}
    for experiment in client.search_experiments(max_results=1000):
        runs = client.search_runs([experiment.experiment_id], max_results=5000)
        experiments[experiment.name] = len(runs)
    return experiments


def _mlflow_client(settings: airflow_settings.Settings, client_class: type) -> Any:
    conn = settings.connections["mlflow_default"]
    return client_class(tracking_uri=f"{conn.schema}://{conn.host}:{conn.port}")


def _kafka_topics(settings: airflow_settings.Settings) -> dict[str, Any]:
    from confluent_kafka import Consumer, TopicPartition

    bootstrap = settings.connections["kafka_default"].extra["bootstrap.servers"]
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tests-user-state"})
    try:
        topics = {}
        for name, topic in consumer.list_topics(timeout=10).topics.items():
            if name.startswith("__"):
                continue
            ends = (consumer.get_watermark_offsets(TopicPartition(name, p), timeout=10)[1] for p in topic.partitions)
            topics[name] = sum(ends)
        return topics
    finally:
        consumer.close()


def _s3_buckets(settings: airflow_settings.Settings) -> dict[str, Any]:
    s3 = settings.connections["lake_s3"].s3_client()
    counts = {}
    for bucket in s3.list_buckets().get("Buckets", []):
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"])
        counts[bucket["Name"]] = sum(page.get("KeyCount", 0) for page in pages)
    return counts


def _hdfs_client(settings: airflow_settings.Settings):
    import hdfs

    conn = settings.connections["webhdfs_default"]
    return hdfs.InsecureClient(f"http://{conn.host}:{conn.port}", user=conn.login)


def _hdfs(settings: airflow_settings.Settings) -> dict[str, Any]:
    client = _hdfs_client(settings)
    state = {}
    for name in client.list("/"):
        summary = client.content(f"/{name}")
        state[f"/{name}"] = {k: summary[k] for k in ("fileCount", "directoryCount", "length")}
    return state


def remove_empty_test_folder(settings: airflow_settings.Settings, existed_before: bool) -> None:
    """`/tests` on HDFS, where tests make folders of their own, if the session created it and
    every test removed its folder (a non-empty one stays, and the comparison names it)."""
    import hdfs

    client = _hdfs_client(settings)
    if not existed_before and client.status(TESTS_HDFS_FOLDER, strict=False) is not None:
        with contextlib.suppress(hdfs.HdfsError):  # not empty: left for the comparison to name
            client.delete(TESTS_HDFS_FOLDER)


def hdfs_test_folder_exists(settings: airflow_settings.Settings) -> bool:
    return _hdfs_client(settings).status(TESTS_HDFS_FOLDER, strict=False) is not None


def _postgres(settings: airflow_settings.Settings) -> dict[str, Any]:
    import psycopg

    conn = settings.connections["core_postgres"]
    params = {"host": conn.host, "port": conn.port, "user": conn.login, "password": conn.password or None}
    with psycopg.connect(**params, dbname=conn.schema, autocommit=True) as db:
        state: dict[str, Any] = {
            f"database {name}": "exists"
            for (name,) in db.execute("select datname from pg_database where not datistemplate")
        }
        tables = db.execute(
            "select schemaname, tablename from pg_tables where schemaname in ('core', 'ml') order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            state[f"{schema}.{table}"] = db.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
    return state


def _lake(settings: airflow_settings.Settings) -> dict[str, Any]:
    root = urlparse(settings.variables["lake_root"])
    if root.scheme != "file" or not Path(root.path).is_dir():
        return {}
    lake = Path(root.path)
    return {str(m.parent.relative_to(lake)): m.stat().st_mtime_ns for m in lake.rglob("_manifest.json")}


# Each part of the snapshot, and the service that must answer for it to be taken.
PARTS: dict[str, tuple[str, Callable[[airflow_settings.Settings], dict[str, Any]]]] = {
    "MLflow registered models (versions)": ("mlflow", _mlflow_models),
    "MLflow experiments (runs)": ("mlflow", _mlflow_experiments),
    "Kafka topics (end offsets)": ("kafka", _kafka_topics),
    "S3 buckets (objects)": ("s3", _s3_buckets),
    "HDFS": ("hdfs-namenode", _hdfs),
    "Postgres (databases; core and ml rows)": ("postgres", _postgres),
    "local lake partitions (manifest mtime)": ("", _lake),
}


def snapshot(settings: airflow_settings.Settings, healthy: Callable[[str], bool]) -> Snapshot:
    """Every part whose service answers now (`healthy(name)`)."""
    return {part: probe(settings) for part, (service, probe) in PARTS.items() if not service or healthy(service)}


def leftovers(before: Snapshot, after: Snapshot) -> list[str]:
    """One line per thing the tests added, removed or changed, in the parts recorded before."""
    lines = []
    for part, old in before.items():
        new = after.get(part, {})
        for key in sorted(set(old) | set(new)):
            if key not in old:
                lines.append(f"{part}: {key} added ({new[key]})")
            elif key not in new:
                lines.append(f"{part}: {key} removed (was {old[key]})")
            elif old[key] != new[key]:
                lines.append(f"{part}: {key} changed from {old[key]} to {new[key]}")
    return lines
