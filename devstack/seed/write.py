"""Writers: the generated portfolio into the real sources, held the way production systems hold it.

- Postgres `core` (customers, accounts, statements, repayments): COPY in one transaction
  that first truncates the four tables, so readers see the old seed or the new one.
- Kafka `card-transactions`: the events of the last `kafka_days` (the topic's retention),
  JSON, key = account_id, in the order they reached Kafka: mostly event-time order, with
  the few per cent of late arrivals produced after later events. The message timestamp
  is the arrival time.
- S3 `partner-drops/bureau/dt=YYYY-MM-DD/bureau_YYYY-MM-DD.csv`: the bureau's daily file
  of the customers it refreshed that day (each customer monthly, 1-5 days after the
  bank's statement, so about 1/30 of the book per file, and every day has one).
- HDFS `/data/archive/transactions/year=YYYY/month=MM/part-00000.parquet`: the events
  older than the Kafka window, one file per month.

Re-seeding replaces what the seed owns: the four core tables, every object under the
bureau prefix (new files overwrite, files of days no longer seeded are deleted), and
the archive folder (written next to it under a hidden name, then swapped in). Kafka
cannot delete records, so a re-seed appends the window again: the summary gives the
offset range written per partition, and tests use a topic of their own. The topic is
created (with `devstack.kafka.PARTITIONS` partitions) if it does not exist yet.

Blocks of customers stream through the writers: Postgres takes each block at once, the
bureau days and archive months accumulate in local files, and the Kafka window (the only
part held in memory, bounded by `kafka_days`) is sorted into arrival order at the end.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from devstack import airflow_settings
from devstack.seed import defects, encode
from devstack.seed import generate as gen

SOURCES = ("postgres", "kafka", "s3", "hdfs")
TOPIC = "card-transactions"
BUREAU_PREFIX = "bureau"
ARCHIVE_ROOT = "/data/archive/transactions"
CORE_TABLES = ("customers", "accounts", "statements", "repayments")  # parents first, for the foreign keys
KAFKA_SLICE = 50_000  # events encoded to JSON at a time


class WriteError(RuntimeError):
    """A source refused the seed; the message names the source and what happened."""


@dataclass(frozen=True)
class Targets:
    """Where the seed goes; `from_settings` reads it from airflow_settings.yaml (the platform's connections)."""

    postgres: str  # libpq connection string
    s3: dict[str, Any]  # boto3 client arguments
    bucket: str
    kafka: dict[str, Any]  # librdkafka producer settings
    webhdfs_url: str
    hdfs_user: str | None
    topic: str = TOPIC
    bureau_prefix: str = BUREAU_PREFIX
    archive_root: str = ARCHIVE_ROOT

    @classmethod
    def from_settings(cls, settings: airflow_settings.Settings | None = None, **overrides: Any) -> Targets:
        from psycopg.conninfo import make_conninfo

        settings = settings or airflow_settings.load()
        conns = settings.connections
        pg, s3, kafka, webhdfs = (
            conns["core_postgres"],
            conns["partner_s3"],
            conns["kafka_default"],
            conns["webhdfs_default"],
        )
        postgres = make_conninfo(
            host=pg.host or "127.0.0.1", port=pg.port or 5432, user=pg.login, password=pg.password, dbname=pg.schema
        )
        # Only what a producer understands: the connection also carries consumer settings.
        producer = {k: v for k, v in kafka.extra.items() if k.startswith(("bootstrap.", "security.", "sasl.", "ssl."))}
        found: dict[str, Any] = {
            "postgres": postgres,
            "s3": {
                "endpoint_url": s3.extra.get("endpoint_url"),
                "aws_access_key_id": s3.login,
                "aws_secret_access_key": s3.password,
                "region_name": s3.extra.get("region_name"),
            },
            "bucket": settings.variables["partner_drops_bucket"],
            "kafka": producer,
            "topic": settings.variables["card_transactions_topic"],
            "archive_root": settings.variables["hdfs_archive_root"],
            "webhdfs_url": f"http://{webhdfs.host or '127.0.0.1'}:{webhdfs.port or 9870}",
            "hdfs_user": webhdfs.login,
        }
        return cls(**{**found, **overrides})


@dataclass(frozen=True)
class BadBatch:
    """Deliver `day`'s data of `source` with `defect` instead of the clean delivery.

    source "bureau": that day's CSV; "transactions": the archive file of the month holding `day`.
    """

    defect: str
    day: date
    source: str = defects.BUREAU

    def __post_init__(self) -> None:
        defects.check(self.defect, self.source)


class Writer(Protocol):
    def add(self, block: gen.Portfolio) -> None: ...
    def finish(self) -> dict[str, Any]: ...
    def abort(self) -> None: ...


# ---------------------------------------------------------------- Postgres


class PostgresWriter:
    """COPY each block into core, all in one transaction that starts by truncating the tables.

    A block's COPY runs in a background thread while the next block is generated: the
    server's work (parsing, indexes, foreign keys) overlaps with the generator's.
    """

    def __init__(self, conninfo: str) -> None:
        import psycopg

        self.pg = psycopg.connect(conninfo)
        self.rows = dict.fromkeys(CORE_TABLES, 0)
        self.pg.execute("truncate " + ", ".join(f"core.{t}" for t in CORE_TABLES))
        self.copier = ThreadPoolExecutor(1, thread_name_prefix="seed-copy")
        self.in_flight: Future[None] | None = None

    def add(self, block: gen.Portfolio) -> None:
        self._wait()  # one block in flight at most: memory stays at two blocks
        self.in_flight = self.copier.submit(self._copy, block)

    def _copy(self, block: gen.Portfolio) -> None:
        with self.pg.cursor() as cursor:
            for name in CORE_TABLES:
                table: pa.Table = getattr(block, name)
                columns = ", ".join(table.column_names)
                with cursor.copy(f"copy core.{name} ({columns}) from stdin (format csv)") as copy:
                    copy.write(encode.csv_bytes(table, header=False))
                self.rows[name] += table.num_rows

    def _wait(self) -> None:
        if self.in_flight is not None:
            in_flight, self.in_flight = self.in_flight, None
            in_flight.result()

    def finish(self) -> dict[str, Any]:
        self._wait()
        self.copier.shutdown()
        self.pg.commit()
        self.pg.autocommit = True
        self.pg.execute("analyze " + ", ".join(f"core.{t}" for t in CORE_TABLES))
        database = self.pg.info.dbname
        self.pg.close()
        return {"database": database, "rows": self.rows}

    def abort(self) -> None:
        self.copier.shutdown(cancel_futures=True)  # waits for a COPY under way
        self.pg.close()  # without a commit: the transaction, truncate included, rolls back


# ---------------------------------------------------------------- S3: the bureau's daily files


def bureau_key(prefix: str, day: date) -> str:
    return f"{prefix}/dt={day}/bureau_{day}.csv"


def s3_client(targets: Targets) -> Any:
    import boto3

    return boto3.client("s3", **targets.s3)


class BureauWriter:
    """Collects each day's rows in a local CSV, then uploads one object per day and deletes stale ones."""

    def __init__(self, targets: Targets, workdir: Path, seed: int, bad: BadBatch | None) -> None:
        self.targets, self.seed = targets, seed
        self.bad = bad if bad and bad.source == defects.BUREAU else None
        self.folder = workdir / "bureau"
        self.folder.mkdir()
        self.rows = 0

    def add(self, block: gen.Portfolio) -> None:
        for day, rows in gen.bureau_days(block.bureau):
            path = self.folder / f"{day}.csv"
            header = not path.exists()
            with path.open("ab") as file:
                file.write(encode.csv_bytes(rows, header=header))
            self.rows += rows.num_rows

    def finish(self) -> dict[str, Any]:
        files = {date.fromisoformat(p.stem): p for p in sorted(self.folder.glob("*.csv"))}
        if self.bad and self.bad.day not in files:
            raise WriteError(f"bad batch: no bureau delivery on {self.bad.day} to replace (seeded: {_span(files)})")
        s3, bucket, prefix = s3_client(self.targets), self.targets.bucket, self.targets.bureau_prefix
        bodies = {bureau_key(prefix, day): (day, path) for day, path in files.items()}

        def upload(key: str) -> None:
            day, path = bodies[key]
            body = path.read_bytes()
            if self.bad and day == self.bad.day:
                body = self._defective(body, day)
            s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/csv")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(upload, bodies))
        stale = [key for key in _s3_keys(s3, bucket, prefix + "/") if key not in bodies]
        for i in range(0, len(stale), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[i : i + 1000]]})
        return {
            "bucket": bucket,
            "prefix": prefix,
            "files": len(bodies),
            "rows": self.rows,
            "days": _span(files),
            "deleted_stale": len(stale),
            **({"bad_batch": _describe(self.bad, bureau_key(prefix, self.bad.day))} if self.bad else {}),
        }

    def _defective(self, body: bytes, day: date) -> bytes:
        assert self.bad is not None
        contract = pacsv.ConvertOptions(column_types=gen.BUREAU.remove(gen.BUREAU.get_field_index("dt")))
        rows = pacsv.read_csv(pa.py_buffer(body), convert_options=contract)
        return defects.bureau_csv(rows, self.bad.defect, self.seed, datetime.combine(day, clock(6), UTC))

    def abort(self) -> None:
        """Nothing was uploaded yet: uploads happen in `finish`."""


def _s3_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


# ---------------------------------------------------------------- HDFS: the monthly archive


def archive_path(root: str, year: int, month: int) -> str:
    return f"{root}/year={year}/month={month:02d}/part-00000.parquet"


def hdfs_client(targets: Targets) -> Any:
    import hdfs

    return hdfs.InsecureClient(targets.webhdfs_url, user=targets.hdfs_user)


class ArchiveWriter:
    """Appends each block's events to a local Parquet file per month, then swaps the folder in on HDFS."""

    def __init__(self, targets: Targets, params: gen.SeedParams, workdir: Path, bad: BadBatch | None) -> None:
        self.targets, self.params = targets, params
        self.bad = bad if bad and bad.source == defects.TRANSACTIONS else None
        self.folder = workdir / "archive"
        self.folder.mkdir()
        self.months: dict[tuple[int, int], pq.ParquetWriter] = {}
        self.rows: dict[tuple[int, int], int] = {}

    def add(self, block: gen.Portfolio) -> None:
        for year, month, events in gen.archive_months(gen.archive(self.params, block.transactions)):
            key = (year, month)
            if key not in self.months:
                path = self.folder / f"{year}-{month:02d}.parquet"
                self.months[key] = pq.ParquetWriter(path, gen.TRANSACTION_EVENT, compression="zstd")
                self.rows[key] = 0
            self.months[key].write_table(events)
            self.rows[key] += events.num_rows

    def finish(self) -> dict[str, Any]:
        for writer in self.months.values():
            writer.close()
        bad_month = (self.bad.day.year, self.bad.day.month) if self.bad else None
        if bad_month and bad_month not in self.months:
            raise WriteError(f"bad batch: no archive month {bad_month[0]}-{bad_month[1]:02d} to replace")
        client, root = hdfs_client(self.targets), self.targets.archive_root.rstrip("/")
        parent, name = root.rsplit("/", 1)
        staging = f"{parent}/_{name}.staging-{uuid.uuid4().hex[:8]}"  # '_': hidden from Spark and Hive readers
        try:
            for year, month in sorted(self.months):
                path = self.folder / f"{year}-{month:02d}.parquet"
                body = self._defective(path) if (year, month) == bad_month else path.read_bytes()
                client.write(archive_path(staging, year, month), data=body, overwrite=True)
            if not self.months:
                client.makedirs(staging)
            if client.status(root, strict=False):
                client.delete(root, recursive=True)
            client.rename(staging, root)
        finally:
            if client.status(staging, strict=False):
                client.delete(staging, recursive=True)
        return {
            "root": root,
            "files": len(self.months),
            "rows": sum(self.rows.values()),
            "months": {f"{y}-{m:02d}": n for (y, m), n in sorted(self.rows.items())},
            **({"bad_batch": _describe(self.bad, archive_path(root, *bad_month))} if self.bad and bad_month else {}),
        }

    def _defective(self, path: Path) -> bytes:
        assert self.bad is not None
        day = self.bad.day
        # The archive of a month is written once the month is over.
        closed_at = datetime(day.year + day.month // 12, day.month % 12 + 1, 1, 2, tzinfo=UTC)
        return defects.archive_parquet(pq.read_table(path), self.bad.defect, self.params.seed, closed_at)

    def abort(self) -> None:
        for writer in self.months.values():
            writer.close()


# ---------------------------------------------------------------- Kafka: the recent window


class KafkaWriter:
    """Produces the window's events in arrival order, once every block is generated."""

    def __init__(self, targets: Targets, params: gen.SeedParams) -> None:
        self.targets, self.params = targets, params
        self.windows: list[pa.Table] = []

    def add(self, block: gen.Portfolio) -> None:
        self.windows.append(gen.kafka_window(self.params, block.transactions))

    def finish(self) -> dict[str, Any]:
        from confluent_kafka import Producer

        from devstack import kafka

        kafka.create_topic(self.targets.kafka, self.targets.topic)
        events = pa.concat_tables(self.windows) if self.windows else gen.TRANSACTIONS.empty_table()
        self.windows = []
        # The blocks' windows interleave in time: produce in global arrival order, a slice at a
        # time, without a second sorted copy of the whole window.
        order = pc.sort_indices(events, gen.ARRIVAL_ORDER)
        failures: list[str] = []
        producer = Producer(
            {
                **self.targets.kafka,
                "linger.ms": 50,
                "batch.num.messages": 10_000,
                "compression.type": "lz4",
                "enable.idempotence": True,  # no duplicates from retries, order kept per partition
                "queue.buffering.max.messages": 500_000,
                "delivery.report.only.error": True,
                "on_delivery": lambda err, _msg: failures.append(str(err)) if err else None,
            }
        )
        before = self._high_watermarks()
        for offset in range(0, events.num_rows, KAFKA_SLICE):
            _produce(producer, self.targets.topic, events.take(order.slice(offset, KAFKA_SLICE)))
        left = producer.flush(120)
        if left or failures:
            raise WriteError(
                f"kafka topic {self.targets.topic}: {left} events undelivered, {len(failures)} failed"
                + (f" (first error: {failures[0]})" if failures else "")
            )
        after = self._high_watermarks()
        return {
            "topic": self.targets.topic,
            "events": events.num_rows,
            "late_events": gen.late_arrivals(events),
            "window": [str(self.params.kafka_from), str(self.params.end)],
            "per_day": _events_per_day(events),
            "offsets": {str(p): [before.get(p, 0), high] for p, high in sorted(after.items())},
        }

    def _high_watermarks(self) -> dict[int, int]:
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({**self.targets.kafka, "group.id": "devstack-seed", "enable.auto.commit": False})
        try:
            topic = consumer.list_topics(self.targets.topic, timeout=10).topics.get(self.targets.topic)
            if topic is None or topic.error is not None:
                return {}
            return {
                p: consumer.get_watermark_offsets(TopicPartition(self.targets.topic, p), timeout=10)[1]
                for p in topic.partitions
            }
        finally:
            consumer.close()

    def abort(self) -> None:
        self.windows = []


def _events_per_day(events: pa.Table) -> dict[str, int]:
    """Events by their UTC event day, as the landing partitions them."""
    days = pc.value_counts(pc.cast(events["event_time"], pa.date32()))
    return {str(d["values"]): d["counts"] for d in sorted(days.to_pylist(), key=lambda d: d["values"])}


def _produce(producer: Any, topic: str, events: pa.Table) -> None:
    # The producer API takes one message per call; everything else here is vectorised.
    values = encode.json_events(events.select(gen.TRANSACTION_EVENT.names)).to_pylist()
    keys = events["account_id"].cast(pa.string()).to_pylist()
    stamps = (events["arrival_time"].cast(pa.int64()).to_numpy() // 1000).tolist()
    for value, key, stamp in zip(values, keys, stamps, strict=True):
        while True:
            try:
                producer.produce(topic, value=value, key=key, timestamp=stamp)
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                producer.poll(0.1)
    producer.poll(0)


# ---------------------------------------------------------------- the whole seed


@dataclass
class _Timed:
    """A writer with the seconds spent in it."""

    name: str
    writer: Writer
    seconds: float = field(default=0.0)

    def call(self, method: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return method(*args)
        finally:
            self.seconds += time.perf_counter() - started


def seed(
    params: gen.SeedParams,
    targets: Targets,
    sources: Iterable[str] = SOURCES,
    bad_batch: BadBatch | None = None,
    log: Callable[[str], None] = lambda _line: None,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Generate the portfolio block by block into the chosen sources; returns the summary (rows per source)."""
    sources = list(dict.fromkeys(sources))
    unknown = set(sources) - set(SOURCES)
    if unknown:
        raise WriteError(f"unknown source(s) {sorted(unknown)}: expected some of {', '.join(SOURCES)}")
    if bad_batch and _SOURCE_OF_DEFECTS[bad_batch.source] not in sources:
        raise WriteError(f"bad batch for {bad_batch.source} needs the source {_SOURCE_OF_DEFECTS[bad_batch.source]}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seed-", dir=workdir) as tmp:
        writers: list[_Timed] = []
        generated: dict[str, int] = {}
        generate_seconds = 0.0
        try:
            for name in sources:
                writers.append(_Timed(name, _writer(name, params, targets, Path(tmp), bad_batch)))
            for block in range(params.blocks):
                t0 = time.perf_counter()
                portfolio = gen.generate_block(params, block)
                generate_seconds += time.perf_counter() - t0
                for name, count in portfolio.counts().items():
                    generated[name] = generated.get(name, 0) + count
                for timed in writers:
                    timed.call(timed.writer.add, portfolio)
                log(f"block {block + 1}/{params.blocks}: {portfolio.customers.num_rows} customers")
            summary: dict[str, Any] = {"params": params.as_dict(), "generated": generated}
            for timed in writers:
                log(f"finishing {timed.name}")
                summary[timed.name] = timed.call(timed.writer.finish)
        except BaseException:
            for timed in writers:
                timed.writer.abort()
            raise
    summary["seconds"] = {
        "generate": round(generate_seconds, 2),
        **{t.name: round(t.seconds, 2) for t in writers},
        "total": round(time.perf_counter() - started, 2),
    }
    return summary


_SOURCE_OF_DEFECTS = {defects.BUREAU: "s3", defects.TRANSACTIONS: "hdfs"}


def _writer(name: str, params: gen.SeedParams, targets: Targets, workdir: Path, bad: BadBatch | None) -> Writer:
    if name == "postgres":
        return PostgresWriter(targets.postgres)
    if name == "kafka":
        return KafkaWriter(targets, params)
    if name == "s3":
        return BureauWriter(targets, workdir, params.seed, bad)
    return ArchiveWriter(targets, params, workdir, bad)


def _span(days: Iterable[date]) -> list[str]:
    ordered = sorted(days)
    return [str(ordered[0]), str(ordered[-1])] if ordered else []


def _describe(bad: BadBatch, where: str) -> dict[str, str]:
    return {"defect": bad.defect, "day": str(bad.day), "source": bad.source, "path": where}
