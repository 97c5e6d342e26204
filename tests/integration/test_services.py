"""The local service stack speaks the real protocols, through the clients and the
Airflow hooks the platform uses."""

import io
import json
import socket
import time
import uuid
from pathlib import Path

import pytest

from devstack import services

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- Postgres


def test_postgres_round_trip_through_the_airflow_hook(stack):
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    hook = PostgresHook(postgres_conn_id="core_postgres")
    table = f"core.roundtrip_{uuid.uuid4().hex[:8]}"
    hook.run(f"create table {table} (id int primary key, name text)")
    try:
        hook.insert_rows(table, [(1, "a"), (2, "b")], target_fields=["id", "name"])
        assert hook.get_records(f"select id, name from {table} where id > %s order by id", parameters=[0]) == [
            (1, "a"),
            (2, "b"),
        ]
    finally:
        hook.run(f"drop table {table}")


def test_postgres_has_core_and_ml_schemas_from_migrations(stack):
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    rows = PostgresHook(postgres_conn_id="ml_postgres").get_records(
        "select table_schema || '.' || table_name from information_schema.tables "
        "where table_schema in ('core', 'ml') order by 1"
    )
    assert {"ml.scores", "ml.monitoring_metrics"} <= {r[0] for r in rows}
    applied = PostgresHook(postgres_conn_id="core_postgres").get_records(
        "select component from public.platform_schema_migrations"
    )
    assert {"core", "ml"} <= {r[0] for r in applied}


# ---------------------------------------------------------------- S3


def s3_client(settings):
    conn = settings.connections["lake_s3"]
    return conn.s3_client()


def test_s3_buckets_exist(stack, settings):
    names = {b["Name"] for b in s3_client(settings).list_buckets()["Buckets"]}
    assert {"lake", settings.variables["partner_drops_bucket"]} <= names


def test_s3_put_get_list_and_multipart_through_boto3(stack, settings):
    s3 = s3_client(settings)
    prefix = f"tests/{uuid.uuid4().hex}/"
    try:
        s3.put_object(Bucket="lake", Key=prefix + "a.txt", Body=b"hello")
        assert s3.get_object(Bucket="lake", Key=prefix + "a.txt")["Body"].read() == b"hello"

        part = b"x" * (5 * 1024 * 1024)  # S3's minimum size for every part but the last
        upload = s3.create_multipart_upload(Bucket="lake", Key=prefix + "big.bin")
        etags = [
            s3.upload_part(Bucket="lake", Key=prefix + "big.bin", UploadId=upload["UploadId"], PartNumber=n, Body=body)[
                "ETag"
            ]
            for n, body in ((1, part), (2, b"tail"))
        ]
        s3.complete_multipart_upload(
            Bucket="lake",
            Key=prefix + "big.bin",
            UploadId=upload["UploadId"],
            MultipartUpload={"Parts": [{"ETag": e, "PartNumber": n} for n, e in enumerate(etags, 1)]},
        )
        head = s3.head_object(Bucket="lake", Key=prefix + "big.bin")
        assert head["ContentLength"] == len(part) + 4
        assert head["ETag"].strip('"').endswith("-2")  # a real multipart ETag
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="lake", Prefix=prefix)["Contents"]]
        assert keys == [prefix + "a.txt", prefix + "big.bin"]
    finally:
        for key in ("a.txt", "big.bin"):
            s3.delete_object(Bucket="lake", Key=prefix + key)


def test_s3_through_the_airflow_hook(stack, settings):
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id="partner_s3")
    bucket = settings.variables["partner_drops_bucket"]
    # A prefix of the test's own: under bureau/ the platform's bureau DAG would land it.
    prefix = f"tests/{uuid.uuid4().hex}/"
    key = f"{prefix}bureau_2026-11-20.csv"
    try:
        hook.load_string("customer_id,bureau_score\n1,700\n", key=key, bucket_name=bucket)
        assert hook.check_for_key(key, bucket_name=bucket)
        assert hook.read_key(key, bucket_name=bucket).startswith("customer_id,")
        assert key in hook.list_keys(bucket_name=bucket, prefix=prefix)
        buffer = io.BytesIO()
        hook.get_conn().download_fileobj(bucket, key, buffer)
        assert buffer.getvalue().endswith(b"1,700\n")
    finally:
        hook.delete_objects(bucket, [key])


# ---------------------------------------------------------------- Kafka


def test_kafka_produce_then_consume_in_a_group_and_commit(stack, settings, request):
    from confluent_kafka import Consumer, Producer, TopicPartition

    from devstack import kafka as kafka_admin

    kafka = settings.connections["kafka_default"].extra
    topic = f"test-{uuid.uuid4().hex[:8]}"
    assert kafka_admin.create_topic(kafka, topic)
    assert not kafka_admin.create_topic(kafka, topic)  # exists: nothing to do
    with pytest.raises(RuntimeError, match="has 4 partitions, expected 3"):
        kafka_admin.create_topic(kafka, topic, partitions=3)
    request.addfinalizer(lambda: kafka_admin.delete_topics(kafka, [topic], groups=[group]))
    producer = Producer({"bootstrap.servers": kafka["bootstrap.servers"], "enable.idempotence": True})
    for i in range(100):
        producer.produce(topic, key=str(i % 7), value=json.dumps({"i": i}))
    assert producer.flush(10) == 0

    def consumer(group: str) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": kafka["bootstrap.servers"],
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "session.timeout.ms": 6000,
            }
        )

    group = f"g-{uuid.uuid4().hex[:8]}"
    first = consumer(group)
    partitions = [TopicPartition(topic, p) for p in first.list_topics(topic, timeout=10).topics[topic].partitions]
    high = {tp.partition: first.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions}
    assert sum(high.values()) == 100

    first.subscribe([topic])
    seen, deadline = [], time.monotonic() + 30
    while len(seen) < 100 and time.monotonic() < deadline:
        seen += [json.loads(m.value())["i"] for m in first.consume(200, 1.0) if not m.error()]
    first.commit(asynchronous=False)
    first.close()
    assert sorted(seen) == list(range(100))

    # A new member of the same group resumes from the committed offsets: nothing is left.
    second = consumer(group)
    committed = second.committed(partitions, timeout=10)
    assert {tp.partition: tp.offset for tp in committed} == high
    second.close()


def test_kafka_through_the_airflow_hook(stack):
    from airflow.providers.apache.kafka.hooks.client import KafkaAdminClientHook

    ok, message = KafkaAdminClientHook(kafka_config_id="kafka_default").test_connection()
    assert ok, message


# ---------------------------------------------------------------- HDFS


def test_hdfs_takes_writes_once_up_and_reports_a_live_datanode(stack, settings):
    from devstack import hdfs

    conn = settings.connections["webhdfs_default"]
    state = hdfs.namesystem_state(conn.host, conn.port)
    assert state["NumLiveDataNodes"] >= 1
    assert state["FSState"] == "Operational"
    assert stack["hdfs-datanode"].healthy()


def test_hdfs_through_the_airflow_hook(stack, settings, tmp_path):
    from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

    hook = WebHDFSHook(webhdfs_conn_id="webhdfs_default")
    folder = f"/tests/services-{uuid.uuid4().hex[:8]}"
    local = tmp_path / "part.bin"
    local.write_bytes(b"archive bytes" * 1000)
    try:
        hook.load_file(str(local), f"{folder}/part.bin")
        assert hook.check_for_path(f"{folder}/part.bin")
        assert hook.read_file(f"{folder}/part.bin") == local.read_bytes()
        local.write_bytes(b"replaced")  # load_file again: upload beside, then replace
        hook.load_file(str(local), f"{folder}/part.bin", overwrite=True)
        assert hook.read_file(f"{folder}/part.bin") == b"replaced"
        client = hook.get_conn()
        status = client.status(f"{folder}/part.bin")
        assert (status["owner"], status["replication"]) == (settings.connections["webhdfs_default"].login, 1)
        assert client.list(folder) == ["part.bin"]
    finally:
        hook.get_conn().delete(folder, recursive=True)
    assert not hook.check_for_path(folder)


# ---------------------------------------------------------------- MLflow


def test_mlflow_logs_registers_and_sets_aliases(stack, settings, tmp_path):
    import mlflow
    from mlflow import MlflowClient

    class Constant(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input: list[int], params=None) -> list[float]:
            return [0.5] * len(model_input)

    conn = settings.connections["mlflow_default"]
    mlflow.set_tracking_uri(f"{conn.schema}://{conn.host}:{conn.port}")
    name = f"services_test_{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(name)  # its own: a deleted experiment's name cannot be set again
    artifact = tmp_path / "note.txt"
    artifact.write_text("artifact through the server's proxied store")
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("roc_auc", 0.81)
        mlflow.log_artifact(str(artifact))
        mlflow.pyfunc.log_model(name="model", python_model=Constant(), registered_model_name=name)
    client = MlflowClient()
    (version,) = [v.version for v in client.search_model_versions(f"name = '{name}'")]
    client.set_registered_model_alias(name, "champion", version)
    assert client.get_model_version_by_alias(name, "champion").run_id == run.info.run_id
    assert client.get_run(run.info.run_id).data.metrics["roc_auc"] == 0.81
    downloaded = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="note.txt")
    assert Path(downloaded).read_text() == artifact.read_text()
    model = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    assert list(model.predict([1, 2])) == [0.5, 0.5]


# ---------------------------------------------------------------- the manager itself


def test_up_twice_reuses_what_runs(stack):
    for service in services.services():
        assert services.up(service).startswith("reused"), service.name


def test_project_postgres_is_started_when_none_answers_and_stopped_by_down(stack, monkeypatch):
    import shutil

    from devstack import postgres as project_postgres

    # A cluster of the test's own: the stack's may be the project's cluster in .local/postgres.
    # Under the repository, not /tmp: the `postgres` user must be able to reach it.
    cluster = services.LOCAL / "test" / f"postgres-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(project_postgres, "CLUSTER", cluster)
    monkeypatch.setattr(project_postgres, "DATA", cluster / "data")
    monkeypatch.setattr(project_postgres, "SOCKETS", cluster / "sockets")
    monkeypatch.setattr(services, "RUN_DIR", cluster / "run")
    port = free_port()
    env = {"CORE_PG_PORT": str(port), "ML_PG_PORT": str(port)}
    postgres = next(s for s in services.services(env=env) if s.name == "postgres")
    assert not postgres.healthy()
    try:
        assert services.up(postgres).startswith("started")
        assert services.up(postgres) == "reused (ours)"
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="platform") as pg:
            assert pg.execute("select count(*) from public.platform_schema_migrations").fetchone()[0] >= 2
    finally:
        assert services.down(postgres).startswith("stopped")
    assert not postgres.healthy()
    assert services.down(postgres) == "not running"
    shutil.rmtree(cluster)


def test_down_leaves_a_service_it_did_not_start_alone(stack):
    # The machine's own PostgreSQL on 5432 was not started by this project.
    postgres = next(s for s in services.services() if s.name == "postgres")
    if services._read_pid(postgres) is not None:
        pytest.skip("this checkout started its own PostgreSQL")
    assert services.down(postgres) == "not ours, left alone"
    assert postgres.healthy()
