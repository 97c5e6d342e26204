"""The seed lands in the real services: row counts match what was generated, every source can be
read back the way the platform will read it, and a re-seed replaces instead of duplicating."""

import json
import subprocess
import sys
import uuid
from datetime import date, timedelta

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from devstack import kafka
from devstack.seed import generate as gen
from devstack.seed import write
from include import migrations
from tests.conftest import scratch_database

pytestmark = pytest.mark.integration

PARAMS = gen.SeedParams(
    customers=1_000, start=date(2026, 9, 1), end=date(2026, 11, 20), seed=11, kafka_days=7, block_size=400
)
BUREAU_CONTRACT = pacsv.ConvertOptions(column_types=gen.BUREAU.remove(0))


@pytest.fixture(scope="module")
def scratch_db(stack, settings):
    """A database of its own with the core migrations, so the test never touches the demo data."""
    with scratch_database(settings, "seed_test") as conninfo:
        with psycopg.connect(conninfo) as pg:
            migrations.apply(pg, "core")
        yield conninfo


@pytest.fixture(scope="module")
def targets(stack, settings, scratch_db):
    """Every destination of this test is its own: database, topic, S3 prefix and HDFS folder."""
    run = uuid.uuid4().hex[:8]
    targets = write.Targets.from_settings(
        settings,
        postgres=scratch_db,
        topic=f"test-card-transactions-{run}",
        bureau_prefix=f"tests/seed-{run}/bureau",
        archive_root=f"/tests/seed-{run}/archive/transactions",
    )
    yield targets
    s3 = write.s3_client(targets)
    for key in write._s3_keys(s3, targets.bucket, targets.bureau_prefix + "/"):
        s3.delete_object(Bucket=targets.bucket, Key=key)
    write.hdfs_client(targets).delete(targets.archive_root.rsplit("/", 2)[0], recursive=True)
    kafka.delete_topics(targets.kafka, [targets.topic])


@pytest.fixture(scope="module")
def portfolio() -> gen.Portfolio:
    return gen.generate(PARAMS)


@pytest.fixture(scope="module")
def seeded(targets):
    """The summaries of a seed and of a re-seed; a stale bureau file is planted in between."""
    first = write.seed(PARAMS, targets)
    stale = f"{targets.bureau_prefix}/dt=2020-01-01/bureau_2020-01-01.csv"
    write.s3_client(targets).put_object(Bucket=targets.bucket, Key=stale, Body=b"customer_id\n1\n")
    second = write.seed(PARAMS, targets)
    return first, second


def test_postgres_holds_exactly_the_generated_rows_after_a_reseed(seeded, scratch_db, portfolio):
    first, second = seeded
    expected = {name: getattr(portfolio, name).num_rows for name in write.CORE_TABLES}
    assert first["postgres"]["rows"] == second["postgres"]["rows"] == expected
    with psycopg.connect(scratch_db) as pg:
        counted = {name: pg.execute(f"select count(*) from core.{name}").fetchone()[0] for name in write.CORE_TABLES}
        assert counted == expected
        total = pg.execute("select sum(balance) from core.statements").fetchone()[0]
        assert float(total) == pytest.approx(pc.sum(portfolio.statements["balance"]).as_py())
        last_change = pg.execute("select max(updated_at) from core.customers").fetchone()[0]
        assert last_change.date() <= PARAMS.end


def test_kafka_high_watermarks_add_up_to_the_events_of_the_window(seeded, targets, portfolio):
    from confluent_kafka import Consumer, TopicPartition

    first, second = seeded
    window = gen.kafka_window(PARAMS, portfolio.transactions)
    assert first["kafka"]["events"] == window.num_rows > 1_000
    assert first["kafka"]["late_events"] == gen.late_arrivals(window) > 0
    ranges = first["kafka"]["offsets"]
    assert sum(high - low for low, high in ranges.values()) == window.num_rows
    # Kafka cannot delete: the re-seed appended the window once more, right after the first.
    assert {p: low for p, (low, _) in second["kafka"]["offsets"].items()} == {p: hi for p, (_, hi) in ranges.items()}

    consumer = Consumer({**targets.kafka, "group.id": f"seed-test-{uuid.uuid4().hex[:8]}", "enable.auto.commit": False})
    partitions = consumer.list_topics(targets.topic, timeout=10).topics[targets.topic].partitions
    highs = [consumer.get_watermark_offsets(TopicPartition(targets.topic, p), timeout=10)[1] for p in partitions]
    assert sum(highs) == 2 * window.num_rows
    consumer.assign([TopicPartition(targets.topic, int(p), low) for p, (low, _) in ranges.items()])
    messages = []
    while len(messages) < window.num_rows:
        batch = consumer.consume(2_000, timeout=10)
        assert batch, f"only {len(messages)} of {window.num_rows} events came back"
        messages += [m for m in batch if not m.error() and m.offset() < ranges[str(m.partition())][1]]
    consumer.close()
    events = [json.loads(m.value()) for m in messages]
    assert sorted(e["txn_id"] for e in events) == sorted(window["txn_id"].to_pylist())
    assert all(m.key() == str(e["account_id"]).encode() for m, e in zip(messages, events, strict=True))
    assert set(events[0]) == set(gen.TRANSACTION_EVENT.names) and events[0]["schema_version"] == 1


def test_s3_has_one_bureau_file_per_day_and_nothing_stale(seeded, targets, portfolio):
    first, second = seeded
    days = [PARAMS.start + timedelta(days=i) for i in range((PARAMS.end - PARAMS.start).days + 1)]
    keys = write._s3_keys(write.s3_client(targets), targets.bucket, targets.bureau_prefix + "/")
    assert keys == [write.bureau_key(targets.bureau_prefix, d) for d in days]
    assert first["s3"]["files"] == second["s3"]["files"] == len(days)
    assert first["s3"]["rows"] == second["s3"]["rows"] == portfolio.bureau.num_rows
    assert second["s3"]["deleted_stale"] == 1

    body = write.s3_client(targets).get_object(Bucket=targets.bucket, Key=keys[-1])["Body"].read()
    rows = pacsv.read_csv(pa.py_buffer(body), convert_options=BUREAU_CONTRACT)
    assert rows.equals(dict(gen.bureau_days(portfolio.bureau))[PARAMS.end])


def test_hdfs_has_a_readable_parquet_file_per_month(seeded, targets, portfolio):
    first, second = seeded
    archive = gen.archive(PARAMS, portfolio.transactions)
    expected = {f"{y}-{m:02d}": t.num_rows for y, m, t in gen.archive_months(archive)}
    assert first["hdfs"]["months"] == second["hdfs"]["months"] == expected
    client = write.hdfs_client(targets)
    assert client.list(targets.archive_root) == ["year=2026"]
    assert client.list(f"{targets.archive_root}/year=2026") == ["month=09", "month=10", "month=11"]
    for key, rows in expected.items():
        year, month = map(int, key.split("-"))
        with client.read(write.archive_path(targets.archive_root, year, month)) as reader:
            table = pq.read_table(pa.py_buffer(reader.read()))
        assert table.num_rows == rows
        assert table.schema.equals(gen.TRANSACTION_EVENT)
        assert table.schema.field("event_time").type == pa.timestamp("us", tz="UTC")
    assert len(client.list(targets.archive_root.rsplit("/", 1)[0])) == 1  # no staging folder left behind


def test_a_bad_batch_replaces_only_that_days_bureau_file(seeded, targets):
    day = date(2026, 10, 15)
    summary = write.seed(PARAMS, targets, ["s3"], write.BadBatch("null_keys", day))
    assert summary["s3"]["bad_batch"]["path"] == write.bureau_key(targets.bureau_prefix, day)
    s3 = write.s3_client(targets)

    def read(d: date) -> pa.Table:
        body = s3.get_object(Bucket=targets.bucket, Key=write.bureau_key(targets.bureau_prefix, d))["Body"].read()
        return pacsv.read_csv(pa.py_buffer(body), convert_options=BUREAU_CONTRACT)

    assert read(day)["customer_id"].null_count > 0
    assert read(day + timedelta(days=1))["customer_id"].null_count == 0


def test_a_bad_batch_of_transactions_replaces_that_months_archive_file(seeded, targets):
    summary = write.seed(PARAMS, targets, ["hdfs"], write.BadBatch("corrupt_file", date(2026, 9, 20), "transactions"))
    assert summary["hdfs"]["bad_batch"]["path"] == write.archive_path(targets.archive_root, 2026, 9)
    client = write.hdfs_client(targets)
    with client.read(write.archive_path(targets.archive_root, 2026, 9)) as reader, pytest.raises(pa.ArrowInvalid):
        pq.read_table(pa.py_buffer(reader.read()))
    with client.read(write.archive_path(targets.archive_root, 2026, 10)) as reader:
        assert pq.read_table(pa.py_buffer(reader.read())).num_rows == summary["hdfs"]["months"]["2026-10"]


def test_the_command_line_prints_the_summary(stack, settings):
    topic = f"test-card-transactions-{uuid.uuid4().hex[:8]}"
    range_ = ["--customers", "200", "--start", "2026-11-01", "--end", "2026-11-20", "--kafka-days", "3"]
    result = subprocess.run(
        [sys.executable, "-m", "devstack.seed", *range_, "--only", "kafka", "--topic", topic],
        capture_output=True,
        text=True,
        check=True,
    )
    kafka.delete_topics(settings.connections["kafka_default"].extra, [topic])
    summary = json.loads(result.stdout)
    assert summary["kafka"]["topic"] == topic and summary["kafka"]["events"] > 0
    assert sum(summary["kafka"]["per_day"].values()) == summary["kafka"]["events"]
    assert set(summary["seconds"]) == {"generate", "kafka", "total"}
    assert "block 1/1" in result.stderr
