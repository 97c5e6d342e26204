"""Ingestion throughput against raw reads of the same source, side by side in one run.

- Postgres: `include.ingestion.postgres.land_table` (ADBC stream -> Parquet -> manifest
  commit) over N changed rows of a `core.customers`-shaped table, against a raw
  `COPY (the same query) TO STDOUT` drained by psycopg. Target: >= 0.5 of raw.
- Kafka: `include.ingestion.kafka.land_topic` (plan, consume, decode JSON, Parquet per
  day and offset range, manifests, checkpoint, offset commit) over N events of a fresh
  topic, against a raw confluent-kafka consume loop over the same partitions and offsets
  on the same broker (Apache Kafka, the local stack's). Target: >= 0.8 of raw, at 1M and 10M.
- HDFS archive: `include.ingestion.hdfs_archive.land_archive_month` (list, GETFILECHECKSUM,
  download over WebHDFS, size and checksum check, Parquet -> lake, manifest) over one month
  of N archived transactions in 4 Parquet files on the local HDFS (a real NameNode and
  DataNode), against a raw `hdfs` client download of the same files to local disk.
  Target: >= 0.7 of raw.

The rows live in a scratch schema `bench` of the core_postgres database, created and
dropped by the benchmark. The events go to a new topic `bench-card-transactions-<id>`
(4 partitions) on the kafka_default broker, deleted at the end.

The archive month goes to `/bench/archive-<id>/` on the webhdfs_default cluster, removed
afterwards.

    python -m bench.ingest [--rows 1000000] [--events 1000000 10000000] [--archive-rows 1000000]
                           [--only postgres|kafka|hdfs]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import psycopg

from devstack import airflow_settings, services
from include import lake as lk
from include.ingestion import hdfs_archive
from include.ingestion import kafka as kafka_ingest
from include.ingestion import postgres as pg_ingest

DAY = datetime(2026, 6, 1, tzinfo=UTC)
EVENTS = (1_000_000, 10_000_000)
ARCHIVE_ROWS = 1_000_000
ARCHIVE_FILES = 4
ARCHIVE_MONTH = date(2026, 6, 1)


def _dsn() -> str:
    conn = airflow_settings.load().connections["core_postgres"]
    auth = conn.login + (f":{conn.password}" if conn.password else "")
    return f"postgresql://{auth}@{conn.host}:{conn.port}/{conn.schema}"


def _prepare(dsn: str, rows: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute("drop schema if exists bench cascade")
        db.execute("create schema bench")
        db.execute("create table bench.customers (like core.customers including all)")
        db.execute(
            """insert into bench.customers
               select g, date '1970-01-01' + (g %% 15000), null, 20000 + (g %% 90000), 'employed', 'DE-BY',
                      %(day)s, %(day)s + (g %% 86400) * interval '1 second'
               from generate_series(1, %(rows)s) g""",
            {"day": DAY, "rows": rows},
        )
        db.execute("analyze bench.customers")


def _raw_copy_seconds(dsn: str) -> tuple[float, int]:
    query = pg_ingest.extract_sql("core", "customers").replace("core.customers", "bench.customers")
    query = query.replace("$1", "%s").replace("$2", "%s")
    query = "\n".join(line for line in query.splitlines() if not line.lstrip().startswith("--"))
    started, size = time.perf_counter(), 0
    with (
        psycopg.connect(dsn) as db,
        db.cursor().copy(f"copy ({query}) to stdout", (DAY, DAY + timedelta(days=1))) as copy,
    ):
        for block in copy:
            size += len(block)
    return time.perf_counter() - started, size


def _land_seconds(dsn: str) -> tuple[float, int]:
    original = pg_ingest.extract_sql
    with (
        tempfile.TemporaryDirectory() as root,
        mock.patch.object(
            pg_ingest, "extract_sql", lambda s, t: original(s, t).replace("core.customers", "bench.customers")
        ),
    ):
        started = time.perf_counter()
        landed = pg_ingest.land_table(
            lk.Lake.from_uri(f"file://{root}"), dsn, "core", "customers", DAY, DAY + timedelta(days=1), written_by={}
        )
        return time.perf_counter() - started, landed.rows


def _kafka_config() -> dict:
    extra = airflow_settings.load().connections["kafka_default"].extra
    return {k: v for k, v in extra.items() if k.startswith(("bootstrap.", "security.", "sasl.", "ssl."))}


def _produce(config: dict, topic: str, events: int) -> dict[int, tuple[int, int]]:
    """`events` card-transaction events over 3 days, as the seed produces them (lz4); the watermarks."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    producer = Producer({**config, "linger.ms": 50, "batch.num.messages": 10_000, "compression.type": "lz4"})
    for i in range(events):
        event = {
            "schema_version": 1,
            "txn_id": f"bench-{i:09d}",
            "account_id": 1_000 + i % 5_000,
            "event_time": (DAY + timedelta(seconds=i * 259_200 // events)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "amount": round(5 + (i * 7919 % 50_000) / 100, 2),
            "currency": "EUR",
            "mcc": ("5411", "5812", "5999", "4111")[i % 4],
            "channel": ("pos", "ecom", "atm")[i % 3],
            "country": "DE",
            "declined": i % 37 == 0,
        }
        while True:
            try:
                producer.produce(topic, key=str(event["account_id"]), value=json.dumps(event))
                break
            except BufferError:
                producer.poll(0.1)
    if producer.flush(120):
        raise RuntimeError(f"topic {topic}: events left undelivered")
    consumer = Consumer({**config, "group.id": f"{topic}-watermarks"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions}
    finally:
        consumer.close()


def _raw_consume_seconds(config: dict, topic: str, watermarks: dict[int, tuple[int, int]]) -> tuple[float, int]:
    """A plain consume loop over the same offsets, touching each message's value."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({**config, "group.id": f"{topic}-raw", "enable.auto.commit": False, "fetch.wait.max.ms": 50})
    started, size, count = time.perf_counter(), 0, 0
    try:
        for partition, (low, high) in watermarks.items():
            consumer.assign([TopicPartition(topic, partition, low)])
            position = low
            while position < high:
                # Ask for no more than is left: consume() waits for its count or the timeout.
                for message in consumer.consume(min(high - position, 100_000), timeout=1.0):
                    if message.error() is None:
                        size += len(message.value())
                        count += 1
                        position = message.offset() + 1
            consumer.unassign()
    finally:
        consumer.close()
    return time.perf_counter() - started, count


def _land_topic_seconds(config: dict, topic: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as root:
        started = time.perf_counter()
        summary = kafka_ingest.land_topic(
            lk.Lake.from_uri(f"file://{root}"), config, topic=topic, group_id=f"{topic}-landing", written_by={}
        )
        return time.perf_counter() - started, summary["events"]


def run_kafka(events: int) -> dict:
    from devstack import kafka

    for service in services.services():
        if service.name == "kafka":
            services.up(service)
    config = _kafka_config()
    topic = f"bench-card-transactions-{uuid.uuid4().hex[:8]}"
    # Steady state for both: first a small topic through each path (imports, e.g. pyarrow
    # importing pandas on first use, 0.4 s once per process, and connection setup).
    warm = f"{topic}-warmup"
    for name in (topic, warm):
        kafka.create_topic(config, name)
    try:
        watermarks = _produce(config, topic, events)
        held = sum(high - low for low, high in watermarks.values())
        if held != events:
            raise RuntimeError(f"topic {topic}: the broker holds {held} of {events} events (watermarks {watermarks})")
        warm_marks = _produce(config, warm, 1_000)
        _raw_consume_seconds(config, warm, warm_marks)
        _land_topic_seconds(config, warm)
        raw_s, consumed = _raw_consume_seconds(config, topic, watermarks)
        land_s, landed = _land_topic_seconds(config, topic)
    finally:
        groups = [f"{name}-{use}" for name in (topic, warm) for use in ("watermarks", "raw", "landing")]
        kafka.delete_topics(config, [topic, warm], groups=groups)
    assert consumed == landed == events, f"consumed {consumed}, landed {landed}, expected {events}"
    return {
        "figure": f"Kafka events/s, {events:,} events on Apache Kafka:"
        " land_topic (JSON -> Parquet per day and range, manifests, commit)",
        "project": f"{events / land_s:,.0f} events/s ({land_s:.2f} s)",
        "reference": f"raw confluent-kafka consume loop {events / raw_s:,.0f} events/s ({raw_s:.2f} s)",
        "ratio": f"{raw_s / land_s:.2f}",
    }


def _archive_file(first: int, rows: int) -> bytes:
    """`rows` archived card transactions of ARCHIVE_MONTH as one Parquet file (the archive's schema)."""
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = np.arange(first, first + rows)
    start = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp() * 1_000_000)
    table = pa.table(
        {
            "schema_version": pa.array(np.ones(rows, np.int32)),
            "txn_id": pa.array([f"bench-{i:09d}" for i in ids]),
            "account_id": pa.array(1_000 + ids % 5_000),
            "event_time": pa.array(start + ids * 2_592_000_000_000 // ARCHIVE_ROWS, pa.timestamp("us", tz="UTC")),
            "amount": pa.array(np.round(5 + (ids * 7919 % 50_000) / 100, 2)),
            "currency": pa.array(["EUR"] * rows),
            "mcc": pa.array(np.array(["5411", "5812", "5999", "4111"])[ids % 4]),
            "channel": pa.array(np.array(["pos", "ecom", "atm"])[ids % 3]),
            "country": pa.array(["DE"] * rows),
            "declined": pa.array(ids % 37 == 0),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _write_archive_month(client, root: str, rows: int) -> int:
    """ARCHIVE_FILES files of the month on HDFS; their total size in bytes."""
    folder, per_file, size = hdfs_archive.month_folder(root, ARCHIVE_MONTH), -(-rows // ARCHIVE_FILES), 0
    for n, first in enumerate(range(0, rows, per_file)):
        body = _archive_file(first, min(per_file, rows - first))
        client.write(f"{folder}/part-{n:05d}.parquet", data=body, overwrite=True)
        size += len(body)
    return size


def _raw_download_seconds(client, root: str) -> float:
    """The month's files downloaded by the `hdfs` client, nothing else."""
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        for file in hdfs_archive.list_month(client, root, ARCHIVE_MONTH):
            client.download(file.path, f"{scratch}/{file.path.rsplit('/', 1)[1]}", overwrite=True)
        return time.perf_counter() - started


def _land_month_seconds(client, root: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as lake_dir:
        started = time.perf_counter()
        landed = hdfs_archive.land_archive_month(
            lk.Lake.from_uri(f"file://{lake_dir}"), client, ARCHIVE_MONTH, written_by={}, root=root
        )
        return time.perf_counter() - started, landed["rows"]


def run_hdfs(rows: int = ARCHIVE_ROWS) -> dict:
    import hdfs

    for service in services.services():
        if service.name.startswith("hdfs-"):
            services.up(service)
    conn = airflow_settings.load().connections["webhdfs_default"]
    client = hdfs.InsecureClient(f"http://{conn.host}:{conn.port}", user=conn.login)
    base = f"/bench/archive-{uuid.uuid4().hex[:8]}"
    try:
        # Steady state for both: a small month through each path first (imports, connections).
        _write_archive_month(client, f"{base}/warmup", 10_000)
        _raw_download_seconds(client, f"{base}/warmup")
        _land_month_seconds(client, f"{base}/warmup")
        size = _write_archive_month(client, f"{base}/transactions", rows)
        raw_s = _raw_download_seconds(client, f"{base}/transactions")
        land_s, landed = _land_month_seconds(client, f"{base}/transactions")
    finally:
        client.delete(base, recursive=True)
    assert landed == rows, f"landed {landed} rows, expected {rows}"
    return {
        "figure": f"HDFS archive rows/s, {rows:,} rows in {ARCHIVE_FILES} Parquet files ({size / 1e6:.0f} MB)"
        " on a local NameNode + DataNode: land_archive_month (WebHDFS download, size + checksum check,"
        " Parquet -> lake, manifest)",
        "project": f"{rows / land_s:,.0f} rows/s ({land_s:.2f} s, {size / 1e6 / land_s:.0f} MB/s)",
        "reference": f"raw `hdfs` client download {rows / raw_s:,.0f} rows/s ({raw_s:.2f} s,"
        f" {size / 1e6 / raw_s:.0f} MB/s)",
        "ratio": f"{raw_s / land_s:.2f}",
    }


def run(rows: int = 1_000_000, events: tuple[int, ...] = EVENTS, archive_rows: int = ARCHIVE_ROWS) -> list[dict]:
    return [*run_postgres(rows), *(run_kafka(n) for n in events), run_hdfs(archive_rows)]


def run_postgres(rows: int = 1_000_000) -> list[dict]:
    for service in services.services():
        if service.name == "postgres":
            services.up(service)
    dsn = _dsn()
    _prepare(dsn, rows)
    try:
        _raw_copy_seconds(dsn)  # warm the buffer cache for both
        raw_s, raw_bytes = _raw_copy_seconds(dsn)
        land_s, landed = _land_seconds(dsn)
    finally:
        with psycopg.connect(dsn, autocommit=True) as db:
            db.execute("drop schema if exists bench cascade")
    assert landed == rows, f"landed {landed} rows, expected {rows}"
    return [
        {
            "figure": f"Postgres rows/s, {rows:,} rows: land_table (ADBC -> Parquet + manifest)",
            "project": f"{rows / land_s:,.0f} rows/s ({land_s:.2f} s)",
            "reference": f"raw COPY TO STDOUT {rows / raw_s:,.0f} rows/s ({raw_s:.2f} s, {raw_bytes / 1e6:.0f} MB)",
            "ratio": f"{raw_s / land_s:.2f}",
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, nargs="+", default=list(EVENTS))
    parser.add_argument("--archive-rows", type=int, default=ARCHIVE_ROWS)
    parser.add_argument("--only", choices=["postgres", "kafka", "hdfs"], help="one source only")
    args = parser.parse_args()
    rows = {
        None: lambda: run(args.rows, args.events, args.archive_rows),
        "postgres": lambda: run_postgres(args.rows),
        "kafka": lambda: [run_kafka(n) for n in args.events],
        "hdfs": lambda: [run_hdfs(args.archive_rows)],
    }[args.only]()
    for row in rows:
        print(f"{row['figure']}\n  project {row['project']}\n  reference {row['reference']}\n  ratio {row['ratio']}")


if __name__ == "__main__":
    main()
