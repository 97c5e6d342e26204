"""The ingestion DAGs, run by Airflow itself (`bin/airflow dags test`) against the
local services, land what the sources hold for their data interval."""

import io
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include import lake as lk
from include import migrations
from include.ingestion import bureau, hdfs_archive
from tests.conftest import ROOT, airflow_subprocess_env, isolated_quality_history, scratch_database

pytestmark = [pytest.mark.integration, pytest.mark.airflow]


@pytest.fixture(scope="module", autouse=True)
def quality_history(settings, stack):
    """The quality gate's history in a scratch database (see `isolated_quality_history`)."""
    with isolated_quality_history(settings) as uri:
        yield uri


@pytest.fixture
def lake_root(tmp_path):
    return f"file://{tmp_path / 'lake'}"


def dags_test(dag_id: str, logical_date: str, lake_root: str, *args: str, **env: str) -> str:
    result = subprocess.run(
        [str(ROOT / "bin" / "airflow"), "dags", "test", dag_id, logical_date, *args],
        env=airflow_subprocess_env(AIRFLOW_VAR_LAKE_ROOT=lake_root, **env),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return result.stdout + result.stderr


def test_ingest_postgres_core_lands_each_table_for_its_day(airflow_db, stack, settings, lake_root):
    day = datetime(2030, 4, 1, tzinfo=UTC)  # after the DAG start
    # A core database of the test's own, not the user's (the gate's history is the module's).
    with scratch_database(settings, "core_dagtest") as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as db:
            migrations.apply(db, "core")
            for i in range(7):
                updated = day + timedelta(hours=3 * i + 1)
                db.execute(
                    "insert into core.customers (customer_id, birth_date, income, employment_status, region,"
                    " created_at, updated_at) values (%s, '1975-05-05', 42000, 'employed', 'DE-BE', %s, %s)",
                    [100 + i, updated, updated],
                )
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
        uri = f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"
        # A manual run covers the last complete interval before its date: 2030-04-01.
        dags_test("ingest_postgres_core", "2030-04-02", lake_root, AIRFLOW_CONN_CORE_POSTGRES=uri)
    lake = lk.Lake.from_uri(lake_root)
    customers = lk.read_partition(lake, lake.partition("raw", "core", "customers", ds=day.date()))
    assert sorted(customers.column("customer_id").to_pylist()) == [100 + i for i in range(7)]
    for table in ("accounts", "statements", "repayments"):  # nothing changed that day: typed, empty partitions
        assert lk.read_manifest(lake, lake.partition("raw", "core", table, ds=day.date())).row_count == 0
    # The quality gate passed every table's partition and published it to validated/.
    validated = lk.read_partition(lake, lake.partition("validated", "core", "customers", ds=day.date()))
    assert validated.equals(customers)
    for table in ("accounts", "statements", "repayments"):
        assert lk.partition_exists(lake, lake.partition("validated", "core", table, ds=day.date()))


def test_ingest_s3_bureau_waits_for_the_file_then_lands_it(airflow_db, stack, settings, lake_root):
    conn = settings.connections["partner_s3"]
    s3 = conn.s3_client()
    bucket, ds = settings.variables["partner_drops_bucket"], date(2030, 4, 2)
    body = b"customer_id,bureau_score,open_loans,total_debt,max_dpd_12m,inquiries_6m\n7,710,1,99.5,0,2\n"
    s3.put_object(Bucket=bucket, Key=bureau.object_key(ds), Body=body)
    lake = lk.Lake.from_uri(lake_root)
    known = pa.table({"customer_id": pa.array([7], pa.int64())})  # the quality gate's reference set
    reference = lake.partition("validated", "core", "customers", ds=ds)
    lk.write_partition(lake, reference, known, source_position={}, written_by={})
    try:
        dags_test("ingest_s3_bureau", (ds + timedelta(days=1)).isoformat(), lake_root)
    finally:
        s3.delete_object(Bucket=bucket, Key=bureau.object_key(ds))
    landed = lk.read_partition(lake, lake.partition("raw", "partner", "bureau", ds=ds))
    assert landed.to_pylist() == [
        {
            "customer_id": 7,
            "bureau_score": 710,
            "open_loans": 1,
            "total_debt": 99.5,
            "max_dpd_12m": 0,
            "inquiries_6m": 2,
        }
    ]
    assert lk.read_partition(lake, lake.partition("validated", "partner", "bureau", ds=ds)).equals(landed)


def test_ingest_s3_bureau_catch_up_lands_and_validates_each_day_before_its_own(airflow_db, stack, settings, lake_root):
    conn = settings.connections["partner_s3"]
    s3 = conn.s3_client()
    bucket, days = settings.variables["partner_drops_bucket"], [date(2030, 4, 10) + timedelta(days=i) for i in range(3)]
    for i, day in enumerate(days):
        body = f"customer_id,bureau_score,open_loans,total_debt,max_dpd_12m,inquiries_6m\n7,{700 + i},1,99.5,0,2\n"
        s3.put_object(Bucket=bucket, Key=bureau.object_key(day), Body=body.encode())
    lake = lk.Lake.from_uri(lake_root)
    known = pa.table({"customer_id": pa.array([7], pa.int64())})
    lk.write_partition(
        lake, lake.partition("validated", "core", "customers", ds=days[0]), known, source_position={}, written_by={}
    )
    try:
        # The run of the last day; the param lands the two days before it in the same run.
        conf = f'{{"catch_up_from": "{days[0]}"}}'
        dags_test("ingest_s3_bureau", str(days[-1] + timedelta(days=1)), lake_root, "--conf", conf)
    finally:
        for day in days:
            s3.delete_object(Bucket=bucket, Key=bureau.object_key(day))
    assert lk.list_partitions(lake, "validated", "partner", "bureau") == days
    scores = [lk.read_partition(lake, lake.partition("validated", "partner", "bureau", ds=d)) for d in days]
    assert [t.column("bureau_score").to_pylist() for t in scores] == [[700], [701], [702]]


def test_ingest_hdfs_archive_lands_the_interval_month(airflow_db, stack, settings, lake_root):
    import hdfs

    webhdfs = settings.connections["webhdfs_default"]
    client = hdfs.InsecureClient(f"http://{webhdfs.host}:{webhdfs.port}", user=webhdfs.login)
    month = date(2030, 3, 1)
    root = f"/tests/archive-{uuid.uuid4().hex[:8]}"  # not the user's archive: the variable names it
    folder = hdfs_archive.month_folder(root, month)
    at = pa.scalar(datetime(2030, 3, 14, 12, tzinfo=UTC), pa.timestamp("us", tz="UTC"))
    archive = pa.table(
        {
            "schema_version": pa.array([1, 1, 1], pa.int32()),
            "txn_id": ["a", "b", "c"],
            "account_id": pa.array([11, 12, 11], pa.int64()),
            "event_time": pa.array([at.value] * 3, pa.timestamp("us", tz="UTC")),
            "amount": [12.5, 40.0, 33.2],
            "currency": ["EUR"] * 3,
            "mcc": ["5411", "5812", "5411"],
            "channel": ["pos", "ecom", "pos"],
            "country": ["DE"] * 3,
            "declined": [False, False, True],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(archive, buffer)
    client.write(f"{folder}/part-00000.parquet", data=buffer.getvalue(), overwrite=True)
    lake = lk.Lake.from_uri(lake_root)
    known = pa.table({"account_id": pa.array([11, 12], pa.int64())})  # the quality gate's reference set
    reference = lake.partition("validated", "core", "accounts", ds=month)
    lk.write_partition(lake, reference, known, source_position={}, written_by={})
    try:
        # A manual run on 2030-04-02 06:00 covers the interval starting 2030-03-02: March.
        dags_test("ingest_hdfs_archive", "2030-04-02T06:00:00+00:00", lake_root, AIRFLOW_VAR_HDFS_ARCHIVE_ROOT=root)
    finally:
        client.delete(root, recursive=True)
    assert lk.read_partition(lake, lake.partition("raw", "archive", "transactions", ds=month)).num_rows == 3
    assert lk.read_partition(lake, lake.partition("validated", "archive", "transactions", ds=month)).num_rows == 3


def test_ingest_kafka_transactions_lands_new_events_once(airflow_db, stack, settings, lake_root):
    import json

    from confluent_kafka import Producer

    from devstack import kafka as broker

    kafka = settings.connections["kafka_default"].extra
    # A topic of this test's own: the platform's topic is the user's (the variable names it).
    topic = f"dagtest-card-transactions-{uuid.uuid4().hex[:8]}"
    broker.create_topic(kafka, topic)
    producer = Producer({"bootstrap.servers": kafka["bootstrap.servers"]})
    txn_ids = [f"dagtest-{uuid.uuid4()}" for _ in range(50)]
    for i, txn_id in enumerate(txn_ids):
        event = {
            "schema_version": 1,
            "txn_id": txn_id,
            "account_id": 10 + i % 5,
            "event_time": f"2030-05-01T10:{i % 60:02d}:00.000Z",
            "amount": 12.5,
            "currency": "EUR",
            "mcc": "5411",
            "channel": "pos",
            "country": "DE",
            "declined": False,
        }
        producer.produce(topic, key=str(event["account_id"]), value=json.dumps(event))
    assert producer.flush(10) == 0

    try:
        dags_test(
            "ingest_kafka_transactions",
            "2030-05-01T12:00:00+00:00",
            lake_root,
            AIRFLOW_VAR_CARD_TRANSACTIONS_TOPIC=topic,
        )
    finally:
        broker.delete_topics(kafka, [topic])
    lake = lk.Lake.from_uri(lake_root)
    landed = lk.read_partition(lake, lake.partition("raw", "cards", "card_transactions", ds=date(2030, 5, 1)))
    ids = landed.column("txn_id").to_pylist()
    assert set(txn_ids) <= set(ids)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("dag_id", "task_id", "conn_id", "conn"),
    [
        ("ingest_hdfs_archive", "land_archive_month", "webhdfs_default", {"conn_type": "webhdfs", "host": "127.0.0.1"}),
        ("ingest_kafka_transactions", "land_card_transactions", "kafka_default", {"conn_type": "kafka"}),
    ],
)
def test_unreachable_source_fails_the_task_naming_the_connection_and_endpoint(
    airflow_db, lake_root, dag_id, task_id, conn_id, conn
):
    import json
    import socket

    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if conn["conn_type"] == "kafka":
        conn = {**conn, "extra": {"bootstrap.servers": f"127.0.0.1:{port}"}}
    else:
        conn = {**conn, "port": port}
    result = subprocess.run(
        [str(ROOT / "bin" / "airflow"), "tasks", "test", dag_id, task_id, "2030-05-02T06:00:00+00:00"],
        env=airflow_subprocess_env(
            AIRFLOW_VAR_LAKE_ROOT=lake_root, **{f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn)}
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    output = result.stdout + result.stderr
    # `tasks test` exits 0 whatever the task does: its state is in the log.
    assert "new_state=up_for_retry" in output, output[-3000:]
    assert (
        f"ConnectionUnavailableError: connection {conn_id} ({conn['conn_type']}) is unreachable: tried 127.0.0.1:{port}"
        in output
    ), output[-3000:]


def tasks_test(dag_id: str, task_id: str, logical_date: str, lake_root: str, archive_root: str) -> str:
    """`bin/airflow tasks test`; it exits 0 whatever the task does, so the output says how it ended."""
    result = subprocess.run(
        [str(ROOT / "bin" / "airflow"), "tasks", "test", dag_id, task_id, logical_date],
        env=airflow_subprocess_env(AIRFLOW_VAR_LAKE_ROOT=lake_root, AIRFLOW_VAR_HDFS_ARCHIVE_ROOT=archive_root),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    return result.stdout + result.stderr


def test_archive_task_fails_naming_the_connection_while_the_namenode_is_down_and_its_retry_lands(
    airflow_db, stack, settings, lake_root
):
    import hdfs

    from devstack import services

    namenode, datanode = stack["hdfs-namenode"], stack["hdfs-datanode"]
    if services._read_pid(namenode) is None:
        pytest.skip("the NameNode on this port was not started by this checkout: not ours to stop")
    webhdfs = settings.connections["webhdfs_default"]
    client = hdfs.InsecureClient(f"http://{webhdfs.host}:{webhdfs.port}", user=webhdfs.login)
    month = date(2030, 4, 1)  # a run at 2030-05-02 06:00 covers the interval starting 2030-04-02: April
    root = f"/tests/archive-{uuid.uuid4().hex[:8]}"
    folder = hdfs_archive.month_folder(root, month)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"txn_id": ["a", "b"], "amount": [1.0, 2.0]}), buffer)
    client.write(f"{folder}/part-00000.parquet", data=buffer.getvalue(), overwrite=True)
    try:
        try:
            assert services.down(namenode).startswith("stopped")
            down = tasks_test("ingest_hdfs_archive", "land_archive_month", "2030-05-02T06:00:00+00:00", lake_root, root)
        finally:
            assert services.up(namenode).startswith("started")
            assert services.up(datanode).startswith("reused (ours")  # registered again with the new NameNode
        assert "new_state=up_for_retry" in down, down[-3000:]
        assert (
            "ConnectionUnavailableError: connection webhdfs_default (webhdfs) is unreachable:"
            f" tried {webhdfs.host}:{webhdfs.port} (Connection refused)" in down
        ), down[-3000:]
        retry = tasks_test("ingest_hdfs_archive", "land_archive_month", "2030-05-02T06:00:00+00:00", lake_root, root)
        assert "new_state=success" in retry, retry[-3000:]
    finally:
        client.delete(root, recursive=True)
    lake = lk.Lake.from_uri(lake_root)
    assert lk.read_partition(lake, lake.partition("raw", "archive", "transactions", ds=month)).num_rows == 2
