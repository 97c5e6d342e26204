"""Kafka landing is exactly once: every offset of the topic lands in the lake once, in the
day partition of its event time, whatever the landing was killed in the middle of.

Against the local Apache Kafka broker; every test creates a topic of its own (4
partitions, through the admin API) and deletes it at the end."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from devstack import kafka as broker
from include import lake as lk
from include.ingestion import kafka as kl
from include.lake import writer as lake_writer
from include.lake.store import list_files
from tests.conftest import ROOT, airflow_subprocess_env

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 20)  # the run's data interval start: events dated before it are late
RUN = {"dag_id": "ingest_card_transactions", "run_id": "test", "task_id": "land"}
CHUNK = 150  # small chunks, so that 2,000 events make many of them
PARTITIONS = 4


class Killed(BaseException):
    """The worker dies here (not an Exception: nothing may catch it on the way out)."""


def dies(*args, **kwargs):
    raise Killed


@pytest.fixture
def kafka(stack, settings) -> dict:
    bootstrap = settings.connections["kafka_default"].extra["bootstrap.servers"]
    return {"bootstrap.servers": bootstrap, "session.timeout.ms": 6000}


@pytest.fixture
def topic(kafka) -> Iterator[str]:
    name = f"test-card-transactions-{uuid.uuid4().hex[:8]}"
    broker.create_topic(kafka, name, partitions=PARTITIONS)
    yield name
    broker.delete_topics(kafka, [name], groups=[f"g-{name}", f"other-{name}", "other"])


@pytest.fixture
def lake(tmp_path) -> lk.Lake:
    return lk.Lake.from_uri(f"file://{tmp_path / 'lake'}")


def event(topic: str, i: int) -> dict:
    """70 % on DAY, 20 % the day before, 10 % two days before; some times near midnight."""
    day = DAY - timedelta(days=(0, 0, 0, 0, 0, 0, 0, 1, 1, 2)[i % 10])
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=(i * 7919) % 86_400)
    return {
        "schema_version": 1,
        "txn_id": f"{topic}-{i}",
        "account_id": 1000 + i % 97,
        "event_time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "amount": round(0.01 + (i * 37) % 50_000 / 100, 2),
        "currency": "EUR",
        "mcc": "5411",
        "channel": ("pos", "ecom", "atm")[i % 3],
        "country": "DE",
        "declined": i % 17 == 0,
    }


def event_day(body: dict) -> date:
    return datetime.fromisoformat(body["event_time"].replace("Z", "+00:00")).astimezone(UTC).date()


def produce(kafka: dict, topic: str, values: list, keys: list | None = None) -> None:
    producer = Producer({"bootstrap.servers": kafka["bootstrap.servers"], "enable.idempotence": True})
    for i, value in enumerate(values):
        encoded = json.dumps(value) if isinstance(value, dict) else value
        producer.produce(topic, key=str(keys[i] if keys else i % 97), value=encoded)
        producer.poll(0)
    assert producer.flush(10) == 0


def produce_events(kafka: dict, topic: str, start: int, end: int) -> list[dict]:
    events = [event(topic, i) for i in range(start, end)]
    produce(kafka, topic, events)
    return events


def land(lake: lk.Lake, kafka: dict, topic: str, **options) -> dict:
    options = {"group_id": f"g-{topic}", "late_before": DAY, "chunk_messages": CHUNK, **options}
    return kl.land_topic(lake, kafka, written_by=RUN, topic=topic, **options)


def group_offsets(kafka: dict, topic: str, group: str) -> tuple[dict[int, int], dict[int, int]]:
    """The group's committed offsets and the high watermarks, per partition."""
    consumer = Consumer({**kafka, "group.id": group})
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        committed = {tp.partition: tp.offset for tp in consumer.committed(partitions, timeout=10)}
        high = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in partitions}
    finally:
        consumer.close()
    return committed, high


def landed(lake: lk.Lake, dataset: tuple[str, ...] = kl.DATASET) -> dict[date, list[dict]]:
    """Every committed row by day, each partition checked against its manifest and its ranges."""
    rows = {}
    for day in lk.list_partitions(lake, "raw", *dataset):
        ref = lake.partition("raw", *dataset, ds=day)
        manifest = lk.verify_partition(lake, ref)
        rows[day] = lk.read_partition(lake, ref).to_pylist()
        ranges = manifest.source_position["kafka_ranges"]
        assert sum(r["rows"] for r in ranges) == manifest.row_count == len(rows[day])
    return rows


def assert_exactly_once(lake: lk.Lake, kafka: dict, topic: str, events: list[dict]) -> None:
    by_day = landed(lake)
    txn_ids = [row["txn_id"] for rows in by_day.values() for row in rows]
    assert len(txn_ids) == len(set(txn_ids)), "an event landed twice"
    assert set(txn_ids) == {e["txn_id"] for e in events}
    assert {day: len(rows) for day, rows in by_day.items()} == Counter(event_day(e) for e in events)
    assert all(row["event_time"].date() == day for day, rows in by_day.items() for row in rows)
    committed, high = group_offsets(kafka, topic, f"g-{topic}")
    assert committed == high
    assert kl.read_checkpoint(lake, topic) == high
    assert kl.unfinished_plan(lake, topic) is None
    assert not unlisted_files(lake), "orphan files left"


def unlisted_files(lake: lk.Lake) -> set[str]:
    """Data files of the dataset that no committed manifest lists: leftovers of killed attempts."""
    listed = set()
    for day in lk.list_partitions(lake, "raw", *kl.DATASET):
        ref = lake.partition("raw", *kl.DATASET, ds=day)
        listed |= {f"{ref.relative}/{name}" for name in lk.read_manifest(lake, ref).file_names}
    dataset = lake.dataset("raw", *kl.DATASET)
    on_disk = {
        info.path.removeprefix(f"{lake.root}/")
        for info in list_files(lake, dataset, recursive=True)
        if info.base_name.endswith(".parquet")
    }
    return on_disk - listed


# ---------------------------------------------------------------- landing


def test_every_event_lands_once_in_its_event_day_and_the_high_watermarks_are_committed(lake, kafka, topic):
    events = produce_events(kafka, topic, 0, 2000)

    summary = land(lake, kafka, topic)

    assert_exactly_once(lake, kafka, topic, events)
    per_day = Counter(event_day(e) for e in events)
    assert summary["events"] == 2000
    assert summary["per_ds"] == {day.isoformat(): n for day, n in sorted(per_day.items())}
    assert summary["late"] == sum(n for day, n in per_day.items() if day < DAY) == 600
    assert (summary["rejected"], summary["written"], summary["resumed"]) == (0, 2000, False)
    assert sum(r["end"] - r["start"] for r in summary["ranges"]) == 2000
    assert summary["partition_uris"] == [lake.partition("raw", *kl.DATASET, ds=d).uri for d in sorted(per_day)]
    row = next(r for r in landed(lake)[DAY] if r["txn_id"] == f"{topic}-0")
    assert row["event_time"] == datetime(2026, 11, 20, tzinfo=UTC)
    assert (row["amount"], row["declined"], row["channel"]) == (0.01, True, "pos")
    manifest = lk.read_manifest(lake, lake.partition("raw", *kl.DATASET, ds=DAY))
    assert all(
        f"-p{r['partition']}-{r['start']}-{r['end']}-" in " ".join(manifest.file_names) for r in summary["ranges"]
    )


def test_batches_smaller_than_the_written_chunk_land_once_in_row_groups_of_the_chunk(lake, kafka, topic, monkeypatch):
    monkeypatch.setattr(kl, "BATCH_MESSAGES", 40)  # decoded 40 messages at a time, written 150 at a time
    events = produce_events(kafka, topic, 0, 2000)
    decode, batches = kl._decode, []

    def counted(messages, *args):
        batches.append(len(messages))
        return decode(messages, *args)

    monkeypatch.setattr(kl, "_decode", counted)
    summary = land(lake, kafka, topic)

    assert max(batches) == 40 and sum(batches) == 2000
    assert (summary["events"], summary["written"]) == (2000, 2000)
    assert_exactly_once(lake, kafka, topic, events)
    for day in landed(lake):
        ref = lake.partition("raw", *kl.DATASET, ds=day)
        for name in lk.read_manifest(lake, ref).file_names:
            offsets = next(r for r in summary["ranges"] if f"-p{r['partition']}-{r['start']}-{r['end']}-" in name)
            with lake.filesystem.open_input_file(lake.path(f"{ref.relative}/{name}")) as file:
                row_groups = pq.ParquetFile(file).metadata.num_row_groups
            # One row group per written chunk of 150 messages, not one per decoded batch of 40.
            assert row_groups <= -(-(offsets["end"] - offsets["start"]) // 150), (name, row_groups)


def test_a_rerun_without_new_events_lands_nothing_and_new_events_land_alone(lake, kafka, topic):
    events = produce_events(kafka, topic, 0, 2000)
    land(lake, kafka, topic)
    manifests = {day: lk.read_manifest(lake, lake.partition("raw", *kl.DATASET, ds=day)) for day in landed(lake)}

    again = land(lake, kafka, topic)
    assert (again["events"], again["written"], again["per_ds"]) == (0, 0, {})
    assert manifests == {day: lk.read_manifest(lake, lake.partition("raw", *kl.DATASET, ds=day)) for day in manifests}

    events += produce_events(kafka, topic, 2000, 2500)
    more = land(lake, kafka, topic)
    assert (more["events"], more["written"]) == (500, 500)
    assert_exactly_once(lake, kafka, topic, events)


def test_events_with_times_in_other_zones_land_on_their_utc_day(lake, kafka, topic):
    produce(
        kafka,
        topic,
        [
            event(topic, 0) | {"event_time": "2026-11-20T00:30:00+01:00"},  # 2026-11-19T23:30Z
            event(topic, 1) | {"event_time": "2026-11-20T23:59:59.999Z"},
            event(topic, 2) | {"event_time": "2026-11-20T23:30:00-01:00"},  # 2026-11-21T00:30Z
        ],
    )
    summary = land(lake, kafka, topic)
    assert summary["per_ds"] == {"2026-11-19": 1, "2026-11-20": 1, "2026-11-21": 1}
    assert summary["late"] == 1


def test_malformed_messages_are_rejected_with_their_reason_and_the_rest_lands(lake, kafka, topic):
    good = [event(topic, i) for i in range(5)]
    bad = {
        b"not json": "not a JSON object",
        b"null": "not a JSON object",
        b"{broken": "not a valid event",
        json.dumps(event(topic, 90) | {"amount": "12.34"}).encode(): "Column(/amount) changed from number to string",
        json.dumps(event(topic, 91) | {"account_id": 1.5}).encode(): "Failed to convert JSON to int64",
        json.dumps(event(topic, 92) | {"event_time": "yesterday"}).encode(): "couldn't parse:yesterday",
        json.dumps({k: v for k, v in event(topic, 93).items() if k != "txn_id"}).encode(): "missing or null: txn_id",
        json.dumps(event(topic, 94) | {"schema_version": 2}).encode(): "schema_version 2, expected 1",
        json.dumps(event(topic, 95)).encode() * 2: "not exactly one JSON object",
    }
    pretty = json.dumps(event(topic, 5), indent=2).encode()  # valid JSON over several lines
    values = [*good[:3], *bad, None, pretty, *good[3:]]
    produce(kafka, topic, values, keys=[0] * len(values))  # one partition: the order is kept

    summary = land(lake, kafka, topic)

    assert (summary["events"], summary["rejected"]) == (6, len(bad) + 1)
    assert sorted(r["txn_id"] for rows in landed(lake).values() for r in rows) == sorted(
        f"{topic}-{i}" for i in range(6)
    )
    rejected = [row for rows in landed(lake, kl.REJECTED_DATASET).values() for row in rows]
    assert [row["value"] for row in rejected] == [*bad, None]
    for row, expected in zip(rejected, [*bad.values(), "no value (a tombstone)"], strict=True):
        assert expected in row["error"]
    assert [row["kafka_offset"] for row in rejected] == list(range(3, 3 + len(bad) + 1))
    assert land(lake, kafka, topic)["rejected"] == 0  # landed once, like the events


# ---------------------------------------------------------------- crashes


def test_a_crash_before_the_manifests_leaves_nothing_visible_and_the_retry_reuses_the_plan(
    lake, kafka, topic, monkeypatch
):
    events = produce_events(kafka, topic, 0, 2000)
    commit = lake_writer.put_bytes
    calls = []

    def dies_at_the_second_manifest(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise Killed
        commit(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(lake_writer, "put_bytes", dies_at_the_second_manifest)
        with pytest.raises(Killed):
            land(lake, kafka, topic)

    # One day was committed; the others' files are there, but not for readers; nothing went to Kafka.
    assert len(landed(lake)) == 1
    assert unlisted_files(lake)
    committed, _ = group_offsets(kafka, topic, f"g-{topic}")
    assert set(committed.values()) == {-1001}
    plan = kl.unfinished_plan(lake, topic)
    assert plan is not None

    # Events arriving meanwhile are not in the retried plan: its ranges are the snapshot's.
    later = produce_events(kafka, topic, 2000, 2300)
    retry = land(lake, kafka, topic)
    assert (retry["plan_id"], retry["resumed"], retry["events"]) == (plan.plan_id, True, 2000)
    assert retry["written"] == 2000 - 200  # the day committed before the crash was skipped
    assert sorted(r["txn_id"] for rows in landed(lake).values() for r in rows) == sorted(e["txn_id"] for e in events)
    committed, _ = group_offsets(kafka, topic, f"g-{topic}")
    assert committed == {r.partition: r.end for r in plan.ranges}

    assert land(lake, kafka, topic)["events"] == 300
    assert_exactly_once(lake, kafka, topic, events + later)


@pytest.mark.parametrize(
    "hook",
    ["before the lake's checkpoint", "before the offset commit", "after the offset commit"],
)
def test_a_crash_after_the_manifests_makes_the_retry_write_nothing(lake, kafka, topic, monkeypatch, hook):
    events = produce_events(kafka, topic, 0, 2000)
    commit_offsets = kl._commit_offsets

    def commits_then_dies(consumer, plan):
        commit_offsets(consumer, plan)
        raise Killed

    name, replacement = {
        "before the lake's checkpoint": ("_write_checkpoint", dies),
        "before the offset commit": ("_commit_offsets", dies),
        "after the offset commit": ("_commit_offsets", commits_then_dies),
    }[hook]
    with monkeypatch.context() as patch:
        patch.setattr(kl, name, replacement)
        with pytest.raises(Killed):
            land(lake, kafka, topic)
    manifests = {day: lk.read_manifest(lake, lake.partition("raw", *kl.DATASET, ds=day)) for day in landed(lake)}
    assert sum(m.row_count for m in manifests.values()) == 2000

    retry = land(lake, kafka, topic)

    assert (retry["resumed"], retry["events"], retry["written"]) == (True, 2000, 0)
    assert manifests == {day: lk.read_manifest(lake, lake.partition("raw", *kl.DATASET, ds=day)) for day in manifests}
    assert_exactly_once(lake, kafka, topic, events)


def test_crashes_in_the_middle_of_consuming_again_and_again_then_a_complete_run(lake, kafka, topic, monkeypatch):
    events = produce_events(kafka, topic, 0, 2000)
    decode = kl._decode
    plan_ids, later = set(), []

    for dies_at in (1, 4, 9):  # 150-message chunks: in partition 0, 1 and 2
        chunks = []

        def dies_at_chunk(*args, dies_at=dies_at, chunks=chunks):
            chunks.append(1)
            if len(chunks) == dies_at:
                raise Killed
            return decode(*args)

        with monkeypatch.context() as patch:
            patch.setattr(kl, "_decode", dies_at_chunk)
            with pytest.raises(Killed):
                land(lake, kafka, topic)
        assert landed(lake) == {}
        assert dies_at == 1 or unlisted_files(lake)
        plan_ids.add(kl.unfinished_plan(lake, topic).plan_id)
        later += produce_events(kafka, topic, 10_000 + dies_at, 10_001 + dies_at)  # the plan must not grow

    assert len(plan_ids) == 1
    completed = land(lake, kafka, topic)
    assert (completed["plan_id"] in plan_ids, completed["events"]) == (True, 2000)
    assert land(lake, kafka, topic)["events"] == len(later)
    assert_exactly_once(lake, kafka, topic, events + later)


# The landing as a worker runs it, with storage made slow (each partition commit takes
# 0.2 s more), so that a kill after the first committed partition lands before the last.
CHILD = """
import logging, sys, time
from datetime import date
from devstack import kafka as broker
from include import lake as lk
from include.ingestion import kafka as kl
from include.lake import append
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
commit = append.commit
append.commit = lambda *args, **kwargs: (commit(*args, **kwargs), time.sleep(0.2))
root, bootstrap, topic, chunk = sys.argv[1:]
kl.land_topic(
    lk.Lake.from_uri(root), {"bootstrap.servers": bootstrap, "session.timeout.ms": 6000},
    written_by={"dag_id": "killed"}, topic=topic, group_id=f"g-{topic}", late_before=date(2026, 11, 20),
    chunk_messages=int(chunk),
)
print("LANDED", flush=True)
"""


def test_a_landing_process_killed_at_random_moments_still_lands_every_event_once(lake, kafka, topic):
    events = produce_events(kafka, topic, 0, 2000)
    rnd = random.Random(topic)  # noqa: S311 (a kill moment, not a secret)
    kills = []
    # Right after the plan, at the first committed day partition, and at a random moment
    # while the resumed plan is being consumed.
    for trigger, delay in (("plan ", 0.0), ("appended", 0.0), ("plan ", rnd.uniform(0.05, 0.4))):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, lake.root_uri, kafka["bootstrap.servers"], topic, "50"],
            cwd=ROOT,
            env=airflow_subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        killer = threading.Timer(delay, child.kill)
        output = []
        for line in child.stdout:
            output.append(line)
            if trigger in line and not killer.is_alive() and not killer.finished.is_set():
                killer.start()
        child.wait(timeout=30)
        killer.cancel()
        child.stdout.close()
        kills.append(child.returncode)
        assert child.returncode in (-9, 0), "".join(output)
        # Whatever it got to, readers see whole partitions and no event twice.
        txn_ids = [row["txn_id"] for rows in landed(lake).values() for row in rows]
        assert len(txn_ids) == len(set(txn_ids))

    assert kills[:2] == [-9, -9]
    land(lake, kafka, topic)
    assert_exactly_once(lake, kafka, topic, events)


# ---------------------------------------------------------------- the lake's checkpoint


def test_the_lakes_checkpoint_wins_over_a_reset_or_expired_consumer_group(lake, kafka, topic):
    events = produce_events(kafka, topic, 0, 1000)
    land(lake, kafka, topic)
    consumer = Consumer({**kafka, "group.id": f"g-{topic}"})
    consumer.commit(offsets=[TopicPartition(topic, p, 0) for p in range(4)], asynchronous=False)
    consumer.close()

    assert land(lake, kafka, topic)["events"] == 0  # not 1,000 duplicates
    assert land(lake, kafka, topic, group_id=f"other-{topic}")["events"] == 0
    assert_exactly_once(lake, kafka, topic, events)


def test_an_unfinished_plan_is_finished_by_its_own_group_only(lake, kafka, topic, monkeypatch):
    produce_events(kafka, topic, 0, 100)
    with monkeypatch.context() as patch:
        patch.setattr(kl, "_commit_offsets", dies)
        with pytest.raises(Killed):
            land(lake, kafka, topic)
    with pytest.raises(kl.LandingError, match=f"was made for consumer group g-{topic}, this landing uses other"):
        land(lake, kafka, topic, group_id="other")
    assert land(lake, kafka, topic)["resumed"]


def test_offsets_deleted_by_retention_before_landing_are_reported(lake, kafka, topic):
    produce_events(kafka, topic, 0, 100)
    land(lake, kafka, topic)
    produce_events(kafka, topic, 100, 1100)
    checkpoint = kl.read_checkpoint(lake, topic)
    _, high = group_offsets(kafka, topic, f"g-{topic}")
    # What retention does to an old segment: partition 0's log start moves past the checkpoint.
    cut = TopicPartition(topic, 0, (checkpoint[0] + high[0]) // 2)
    admin = AdminClient({"bootstrap.servers": kafka["bootstrap.servers"]})
    admin.delete_records([cut])[cut].result(timeout=30)

    summary = land(lake, kafka, topic, chunk_messages=1000)

    low = next(r["start"] for r in summary["ranges"] if r["partition"] == 0)
    assert checkpoint[0] < low == cut.offset
    assert summary["lost_to_retention"] == cut.offset - checkpoint[0]
    new_offsets = sum(high[p] - checkpoint.get(p, 0) for p in high)
    assert summary["events"] == new_offsets - summary["lost_to_retention"]


# ---------------------------------------------------------------- transactions and broker restarts


def transactional_producer(kafka: dict, topic: str) -> Producer:
    producer = Producer({"bootstrap.servers": kafka["bootstrap.servers"], "transactional.id": f"txn-{topic}"})
    producer.init_transactions(30)
    return producer


def in_transaction(producer: Producer, topic: str, events: list[dict], *, end: str | None = "commit") -> None:
    """Produce `events` in one transaction, then commit it, abort it, or (end=None) leave it open."""
    producer.begin_transaction()
    for body in events:
        producer.produce(topic, key=str(body["account_id"]), value=json.dumps(body))
    producer.flush(30)
    if end == "commit":
        producer.commit_transaction(30)
    elif end == "abort":
        producer.abort_transaction(30)


def test_a_transactional_topic_lands_exactly_the_committed_events(lake, kafka, topic):
    producer = transactional_producer(kafka, topic)
    first, aborted, second = ([event(topic, i) for i in range(a, b)] for a, b in ((0, 600), (600, 900), (900, 1500)))
    in_transaction(producer, topic, first)
    in_transaction(producer, topic, aborted, end="abort")
    in_transaction(producer, topic, second)

    summary = land(lake, kafka | {"isolation.level": "read_committed"}, topic)

    assert summary["events"] == len(first) + len(second)
    # The aborted records and the commit/abort markers take offsets that hold no event.
    assert sum(r["end"] - r["start"] for r in summary["ranges"]) > len(first) + len(aborted) + len(second)
    assert_exactly_once(lake, kafka, topic, first + second)


def test_an_open_transaction_is_not_waited_for_and_lands_once_committed(lake, kafka, topic):
    producer = transactional_producer(kafka, topic)
    committed, pending = [event(topic, i) for i in range(500)], [event(topic, i) for i in range(500, 800)]
    in_transaction(producer, topic, committed)
    in_transaction(producer, topic, pending, end=None)

    # The plan ends at the last stable offset: no wait for records that may still be aborted.
    first = land(lake, kafka, topic, idle_timeout_s=10)
    assert first["events"] == len(committed)

    producer.commit_transaction(30)
    second = land(lake, kafka, topic, idle_timeout_s=10)
    assert second["events"] == len(pending)
    assert_exactly_once(lake, kafka, topic, committed + pending)


def test_the_broker_restarting_mid_landing_ends_in_a_retry_that_lands_everything_once(
    lake, kafka, topic, stack, monkeypatch
):
    from devstack import services

    broker = stack["kafka"]
    if not services._read_pid(broker):
        pytest.skip("the Kafka broker was not started by this project: it is not restarted by tests")
    events = produce_events(kafka, topic, 0, 3000)
    batches = 0
    land_batch = kl._land_batch

    def broker_stops_after_the_first_batch(*args, **kwargs):
        nonlocal batches
        batches += 1
        land_batch(*args, **kwargs)
        if batches == 1:
            assert services.down(broker).startswith("stopped")

    monkeypatch.setattr(kl, "_land_batch", broker_stops_after_the_first_batch)
    try:
        with pytest.raises(kl.LandingError):
            land(lake, kafka, topic, idle_timeout_s=5)
    finally:
        assert services.up(broker).startswith("started")
    monkeypatch.setattr(kl, "_land_batch", land_batch)

    retry = land(lake, kafka, topic)

    assert retry["resumed"]
    assert_exactly_once(lake, kafka, topic, events)
