"""Exactly-once landing of the `card-transactions` Kafka topic into the raw lake zone.

Each event lands in `raw/cards/card_transactions/ds=<event date, UTC>`, so a run's late
arrivals go to the older days they belong to. A run goes through four steps:

1. **Plan.** Per Kafka partition, the offsets [start, end) to land: start is where the
   lake's checkpoint says the last landing stopped (the consumer group's committed
   offset before the first landing; the low watermark if neither exists), end is the
   high watermark now. The plan is written to `_plans/<plan_id>.json` before anything
   lands, and a retry reuses an unfinished plan instead of taking a new snapshot: with
   a later high watermark its ranges would overlap ranges already landed.
2. **Land.** Each range is consumed at exactly those offsets (`assign` at start, stop
   at end), in batches of at most 20,000 messages, each decoded into typed Arrow and split
   by event date while the next one is consumed, and written in chunks of at most
   `chunk_messages` messages. Every day partition gets one file per range (the file name
   carries the range id, e.g. `p2-1000-1500`). Messages that are not a valid event go to
   `raw/cards/card_transactions_rejected/ds=<Kafka timestamp date>` with the reason.
3. **Append.** Every touched day partition is committed once, with its previous files
   and ranges plus the new ones (`include.lake.append`). A range a partition already
   lists is skipped: that is what makes a retry write nothing twice.
4. **Commit.** Only when every partition is committed: the end offsets go to the lake's
   checkpoint (`_offsets.json`), then to the consumer group (a synchronous commit), and
   the plan is deleted.

Killed anywhere, the retry reuses the plan, re-reads its ranges, skips what the
manifests already list and writes the rest: every offset lands exactly once.

Why a checkpoint in the lake besides the group's offsets: Kafka expires the committed
offsets of a group that has not committed for `offsets.retention.minutes` (7 days by
default: a paused DAG), and anyone can reset or reuse a group. Planning from the group
alone would then land everything again, or skip data. The lake records what it holds;
the group's offsets mirror it for lag monitoring, and a disagreement is logged.

One landing per topic at a time (in Airflow: `max_active_tis_per_dag=1` on the task):
two concurrent appends to one partition would lose one of the two commits.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, KafkaException, Message, TopicPartition

from include import lake as lk
from include.lake.append import RANGES_KEY
from include.lake.manifest import new_attempt_id, utc_now
from include.lake.store import list_files

log = logging.getLogger(__name__)

TOPIC = "card-transactions"
DATASET = ("cards", "card_transactions")
REJECTED_DATASET = ("cards", "card_transactions_rejected")
CHUNK_MESSAGES = 100_000  # per written chunk: bounds memory whatever the backlog
# Per consumed and decoded batch: a batch is decoded while the next one is consumed, so the
# smaller the batch, the less decoding is left after the last message arrives.
BATCH_MESSAGES = 20_000
MAX_CHUNK_MESSAGES = 1_000_000  # the largest chunk_messages accepted
IDLE_TIMEOUT_S = 30.0  # no message for this long while offsets are still expected: fail, don't hang
KAFKA_TIMEOUT_S = 10.0
KAFKA_RETRIES = 6  # retriable broker errors: about 12 s of back-off in all
# Broker answers that go away by themselves (librdkafka flags some, not these, as retriable):
# a group coordinator loading or moving (as when `__consumer_offsets` is first created), a
# partition leader being elected.
RETRIABLE_CODES = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
    }
)
SCHEMA_VERSION = 1
_PARSE_BLOCK = 1 << 20

# The event contract. The JSON reader types the values: a string where a number is
# expected, an unparseable timestamp or an integer with a fraction fails the message.
EVENT_SCHEMA = pa.schema(
    [
        pa.field("schema_version", pa.int32()),
        pa.field("txn_id", pa.string()),
        pa.field("account_id", pa.int64()),
        pa.field("event_time", pa.timestamp("us", tz="UTC")),
        pa.field("amount", pa.float64()),
        pa.field("currency", pa.string()),
        pa.field("mcc", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("country", pa.string()),
        pa.field("declined", pa.bool_()),
    ]
)
SCHEMA = EVENT_SCHEMA.append(pa.field("kafka_partition", pa.int32())).append(pa.field("kafka_offset", pa.int64()))
# Dictionaries only for the columns with few distinct values; offsets and event times grow
# within a Kafka partition, so their deltas are small. Transaction ids and amounts stay plain.
ENCODINGS = lk.Encodings(
    dictionary=("schema_version", "account_id", "currency", "mcc", "channel", "country", "declined", "kafka_partition"),
    delta=("event_time", "kafka_offset"),
)
REJECTED_SCHEMA = pa.schema(
    [
        pa.field("kafka_partition", pa.int32()),
        pa.field("kafka_offset", pa.int64()),
        pa.field("kafka_timestamp", pa.timestamp("ms", tz="UTC")),
        pa.field("key", pa.binary()),
        pa.field("value", pa.binary()),
        pa.field("error", pa.string()),
    ]
)
_PARSE_OPTIONS = pajson.ParseOptions(explicit_schema=EVENT_SCHEMA, unexpected_field_behavior="ignore")
_LINE_BREAKS = bytes.maketrans(b"\r\n", b"  ")


class LandingError(RuntimeError):
    """The topic, the consumer group or the lake's landing state is not what a landing needs."""


@dataclass(frozen=True)
class Plan:
    """The offset ranges one landing lands; persisted before anything lands, deleted when done."""

    plan_id: str
    topic: str
    group_id: str
    created_at: str
    ranges: tuple[lk.OffsetRange, ...]
    lost: tuple[lk.OffsetRange, ...] = ()  # deleted by retention before they could be landed

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "topic": self.topic,
            "group_id": self.group_id,
            "created_at": self.created_at,
            "ranges": [r.as_dict() for r in self.ranges],
            "lost": [r.as_dict() for r in self.lost],
        }

    @classmethod
    def from_dict(cls, body: dict[str, Any]) -> Plan:
        ranges, lost = (tuple(lk.OffsetRange.from_dict(r) for r in body[key]) for key in ("ranges", "lost"))
        return cls(body["plan_id"], body["topic"], body["group_id"], body["created_at"], ranges, lost)

    @property
    def created_date(self) -> date:
        return datetime.fromisoformat(self.created_at).astimezone(UTC).date()


def land_topic(
    lake: lk.Lake,
    kafka_config: dict[str, Any],
    *,
    written_by: dict[str, Any],
    late_before: date | None = None,
    topic: str = TOPIC,
    group_id: str | None = None,
    chunk_messages: int = CHUNK_MESSAGES,
    idle_timeout_s: float = IDLE_TIMEOUT_S,
) -> dict[str, Any]:
    """Land the topic's new events exactly once; returns a summary for XCom.

    `kafka_config` is a confluent-kafka configuration (the Airflow connection's extras);
    `group_id` defaults to its `group.id`. Events dated before `late_before` (say, the
    data interval's start date) are counted as late. The counts describe the plan, so a
    retry that finds everything landed already reports the same ones; `written` is the
    rows (events and rejected messages) this try wrote, 0 for such a retry.
    """
    group_id = group_id or kafka_config.get("group.id")
    if not group_id:
        raise LandingError(f"topic {topic}: no consumer group: pass group_id or set group.id in the connection")
    if not 1 <= chunk_messages <= MAX_CHUNK_MESSAGES:
        raise LandingError(f"topic {topic}: chunk_messages must be in [1, {MAX_CHUNK_MESSAGES}], got {chunk_messages}")
    consumer = Consumer(
        {
            # The partitions are read one after the other: the next one's first fetch waits
            # for the previous one's long poll at its end (500 ms by default).
            "fetch.wait.max.ms": 50,
            **kafka_config,
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            # A planned offset that retention deleted must fail the run, not silently jump.
            "auto.offset.reset": "error",
            # Only committed transactions land; the plan ends at the last stable offset.
            "isolation.level": "read_committed",
        }
    )
    try:
        plan, resumed = _plan(lake, consumer, topic, group_id)
        with ExitStack() as stack:
            landing = _Landing(lake, plan, stack, late_before, chunk_messages)
            # A batch is decoded and written while the next one is consumed (Arrow, Parquet and
            # librdkafka's wait release the GIL); one batch at a time, in order.
            with _cyclic_gc_paused(), ThreadPoolExecutor(1, thread_name_prefix="kafka-landing") as worker:
                pending: Future[None] | None = None
                for offsets in plan.ranges:
                    for batch in _consume(consumer, offsets, min(chunk_messages, BATCH_MESSAGES), idle_timeout_s):
                        if pending is not None:
                            pending.result()
                        pending = worker.submit(_land_batch, landing, offsets, batch, plan.created_date)
                if pending is not None:
                    pending.result()
            landing.flush()
            written = landing.commit(written_by)
        _finish(lake, consumer, plan)
    finally:
        consumer.close()
    summary = {
        "topic": topic,
        "group_id": group_id,
        "plan_id": plan.plan_id,
        "resumed": resumed,
        "ranges": [{"partition": r.partition, "start": r.start, "end": r.end} for r in plan.ranges],
        "events": sum(landing.per_ds.values()),
        "per_ds": {ds.isoformat(): rows for ds, rows in sorted(landing.per_ds.items())},
        "late": landing.late,
        "rejected": landing.rejected,
        "lost_to_retention": sum(r.end - r.start for r in plan.lost),
        "written": written,
        "partition_uris": [lake.partition("raw", *DATASET, ds=ds).uri for ds in sorted(landing.per_ds)],
    }
    log.info(
        "topic %s: %d events (%d late, %d rejected) landed in %d day partitions, %d rows written by this try",
        topic,
        summary["events"],
        summary["late"],
        summary["rejected"],
        len(summary["per_ds"]),
        written,
    )
    return summary


# ---------------------------------------------------------------- 1. plan


def plans_dir(lake: lk.Lake) -> str:
    return f"{lake.dataset('raw', *DATASET)}/_plans"


def checkpoint_path(lake: lk.Lake) -> str:
    return f"{lake.dataset('raw', *DATASET)}/_offsets.json"


def read_checkpoint(lake: lk.Lake, topic: str) -> dict[int, int]:
    """Partition -> the offset up to which the lake holds the topic (empty before the first landing)."""
    topics = lk.read_json(lake, checkpoint_path(lake), default={}).get("topics", {})
    return {int(p): int(offset) for p, offset in topics.get(topic, {}).items()}


def unfinished_plan(lake: lk.Lake, topic: str) -> Plan | None:
    """The plan a landing of `topic` left unfinished, if any."""
    plans = []
    for info in list_files(lake, plans_dir(lake)):
        if info.base_name.startswith(".") or not info.base_name.endswith(".json"):
            continue  # a temporary file of an interrupted write_json
        body = lk.read_json(lake, f"{plans_dir(lake)}/{info.base_name}")
        if body["topic"] == topic:
            plans.append(Plan.from_dict(body))
    if len(plans) > 1:
        raise LandingError(
            f"topic {topic}: {len(plans)} unfinished plans in {lake.uri(plans_dir(lake))} "
            f"({', '.join(p.plan_id for p in plans)}); expected at most one: were two landings running at once?"
        )
    return plans[0] if plans else None


def _plan(lake: lk.Lake, consumer: Consumer, topic: str, group_id: str) -> tuple[Plan, bool]:
    """The unfinished plan if there is one (and True), else a new one, persisted (and False)."""
    checkpoint = read_checkpoint(lake, topic)
    plan = unfinished_plan(lake, topic)
    if plan is None:
        plan = _snapshot(consumer, topic, group_id, checkpoint)
        lk.write_json(lake, f"{plans_dir(lake)}/{plan.plan_id}.json", plan.as_dict())
        log.info("topic %s: plan %s: %s", topic, plan.plan_id, _describe(plan.ranges))
        return plan, False
    if plan.group_id != group_id:
        raise LandingError(
            f"topic {topic}: unfinished plan {plan.plan_id} was made for consumer group {plan.group_id}, "
            f"this landing uses {group_id}: run it with group {plan.group_id} to finish the plan first"
        )
    for offsets in plan.ranges:
        # Before the plan's checkpoint write the lake is at its start, after it at its end.
        if checkpoint.get(offsets.partition, offsets.start) not in (offsets.start, offsets.end):
            raise LandingError(
                f"topic {topic} partition {offsets.partition}: the lake's checkpoint is at offset "
                f"{checkpoint[offsets.partition]}, unfinished plan {plan.plan_id} covers [{offsets.start}, "
                f"{offsets.end}): the lake's landing state was changed by something else"
            )
    log.info("topic %s: resuming unfinished plan %s: %s", topic, plan.plan_id, _describe(plan.ranges))
    return plan, True


def _snapshot(consumer: Consumer, topic: str, group_id: str, checkpoint: dict[int, int]) -> Plan:
    """Per partition: from the lake's checkpoint (else the group's offset, else the log start) to the end now."""
    partitions = _partitions(consumer, topic)
    committed = {tp.partition: tp.offset for tp in _kafka(consumer.committed, partitions, timeout=KAFKA_TIMEOUT_S)}
    ranges, lost = [], []
    for tp in partitions:
        low, high = _kafka(consumer.get_watermark_offsets, tp, timeout=KAFKA_TIMEOUT_S, cached=False)
        group_offset = committed[tp.partition] if committed[tp.partition] >= 0 else None
        start = checkpoint.get(tp.partition, low if group_offset is None else group_offset)
        if group_offset is not None and group_offset != start:
            log.warning(
                "topic %s partition %d: consumer group %s is at offset %d, the lake holds up to %d: "
                "landing from the lake's position",
                *(topic, tp.partition, group_id, group_offset, start),
            )
        if start > high:
            raise LandingError(
                f"topic {topic} partition {tp.partition}: the lake holds offsets up to {start}, but the partition "
                f"ends at {high}: was the topic deleted and created again?"
            )
        if start < low:
            log.error(
                "topic %s partition %d: offsets [%d, %d) were deleted by retention before they were landed",
                *(topic, tp.partition, start, low),
            )
            lost.append(lk.OffsetRange(topic, tp.partition, start, low))
            start = low
        ranges.append(lk.OffsetRange(topic, tp.partition, start, high))
    return Plan(new_attempt_id(), topic, group_id, utc_now(), tuple(ranges), tuple(lost))


def _partitions(consumer: Consumer, topic: str) -> list[TopicPartition]:
    metadata = _kafka(consumer.list_topics, topic, timeout=KAFKA_TIMEOUT_S).topics.get(topic)
    if metadata is None or metadata.error is not None or not metadata.partitions:
        error = metadata.error if metadata is not None else "not in the cluster's metadata"
        raise LandingError(f"topic {topic}: cannot land it: {error}")
    return [TopicPartition(topic, p) for p in sorted(metadata.partitions)]


def _kafka(call: Any, *args: Any, **kwargs: Any) -> Any:
    """`call`, retried while the broker answers with a retriable error (a group coordinator
    still loading or moving, a leader election): each try has its own timeout."""
    for attempt in range(1, KAFKA_RETRIES + 1):
        try:
            return call(*args, **kwargs)
        except KafkaException as exc:
            error = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            retriable = error is not None and (error.retriable() or error.code() in RETRIABLE_CODES)
            if not retriable or attempt == KAFKA_RETRIES:
                raise LandingError(f"Kafka {call.__name__}{args}: {exc}") from exc
            log.info("Kafka %s: %s (retriable), try %d of %d", call.__name__, error.str(), attempt, KAFKA_RETRIES)
            time.sleep(min(0.2 * 2**attempt, 5.0))
    raise AssertionError("unreachable")


def _describe(ranges: tuple[lk.OffsetRange, ...]) -> str:
    return ", ".join(f"{r.id} ({r.end - r.start} offsets)" for r in ranges) or "no partitions"


# ---------------------------------------------------------------- 2. land


def _consume(
    consumer: Consumer, offsets: lk.OffsetRange, batch_messages: int, idle_timeout_s: float
) -> Iterator[list[Message]]:
    """The messages at offsets [start, end) of one partition, in batches of at most `batch_messages`."""
    if offsets.start >= offsets.end:
        return
    consumer.assign([TopicPartition(offsets.topic, offsets.partition, offsets.start)])
    try:
        position, batch, deadline = offsets.start, [], time.monotonic() + idle_timeout_s
        while position < offsets.end:
            wanted = min(offsets.end - position, batch_messages - len(batch))
            messages = consumer.consume(wanted, timeout=1.0)
            if messages:
                deadline = time.monotonic() + idle_timeout_s
                # The usual batch, all messages of the range and no error: taken whole, with
                # no Python call per message (the offsets of one partition only increase).
                if messages[-1].offset() < offsets.end and not any(map(Message.error, messages)):
                    batch += messages
                    position = messages[-1].offset() + 1
                else:
                    position = _take(messages, offsets, batch, position)
            elif time.monotonic() > deadline:
                raise LandingError(
                    f"topic {offsets.topic} partition {offsets.partition}: no message for {idle_timeout_s:.0f} s "
                    f"at offset {position}, expected offsets up to {offsets.end - 1} (planned {offsets.id}); "
                    "a retry resumes the same plan"
                )
            if len(batch) >= batch_messages or (batch and position >= offsets.end):
                yield batch
                batch = []
    finally:
        consumer.unassign()


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while messages are consumed, back on after.

    confluent-kafka makes one Message object per event. Refcounting frees them (they are in
    no reference cycle), but the collector tracks them: every 700 of them start a collection,
    and the full ones walk every object of the process, the messages still held included.
    Measured on 400,000 events (2 cores, loaded): 1.94 s of CPU with the collector, 1.54 s
    without. The landing of 400,000 events left 155 objects in reference cycles, which the
    first collection after it frees. pyspark's broadcast unpickling pauses it the same way.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _take(messages: list[Message], offsets: lk.OffsetRange, batch: list[Message], position: int) -> int:
    """Add the range's messages to `batch` one by one (a batch with an error, an end of
    partition, or offsets past the range); returns the position after them."""
    for message in messages:
        error = message.error()
        if error is not None and error.code() == KafkaError._PARTITION_EOF:
            # The end of the log as it is now, past our end: the offsets left are gaps
            # (transaction markers, compaction), not messages still to come.
            if message.offset() >= offsets.end:
                return offsets.end
            continue
        if error is not None:
            raise LandingError(f"topic {offsets.topic} partition {offsets.partition}: {error}")
        if message.offset() >= offsets.end:
            return offsets.end
        batch.append(message)
        position = message.offset() + 1
    return position


def _land_batch(landing: _Landing, offsets: lk.OffsetRange, batch: list[Message], fallback_day: date) -> None:
    landing.add(offsets, len(batch), *_decode(batch, offsets.partition, fallback_day))


def _decode(messages: list[Message], partition: int, fallback_day: date) -> tuple[pa.Table, pa.Table]:
    """The valid events of one batch (SCHEMA) and the rejected messages with their reasons (REJECTED_SCHEMA)."""
    values = list(map(Message.value, messages))
    events, accepted, reasons = decode_events(values)
    first, last = messages[0].offset(), messages[-1].offset()
    if last - first + 1 == len(messages):  # no gap (increasing offsets): no call per message
        offsets = pa.array(np.arange(first, last + 1, dtype=np.int64))
    else:
        offsets = pa.array(list(map(Message.offset, messages)), pa.int64())
    events = events.append_column(
        SCHEMA.field("kafka_partition"), pa.repeat(pa.scalar(partition, pa.int32()), events.num_rows)
    )
    events = events.append_column(SCHEMA.field("kafka_offset"), offsets.take(accepted))
    bad = sorted(reasons)
    rejected = [messages[i] for i in bad]
    rejected_table = pa.table(
        {
            "kafka_partition": [partition] * len(rejected),
            "kafka_offset": [m.offset() for m in rejected],
            "kafka_timestamp": [_timestamp_ms(m, fallback_day) for m in rejected],
            "key": [m.key() for m in rejected],
            "value": [m.value() for m in rejected],
            "error": [reasons[i] for i in bad],
        },
        schema=REJECTED_SCHEMA,
    )
    return events, rejected_table


def decode_events(values: list[bytes | None]) -> tuple[pa.Table, pa.Array, dict[int, str]]:
    """Typed events (EVENT_SCHEMA) of the valid values, their indices in `values`, and index -> reason of the others.

    The values are parsed together by Arrow's JSON reader (several times faster than
    `json.loads` per message). A block that fails is split in halves until each bad
    value stands alone, so a few bad messages cost a few extra parses, not a slow path.
    """
    reasons: dict[int, str] = {}
    joined = _joined_lines(values)
    if joined is not None:  # the usual batch: no per-message screening or copies
        lines, indices = values, np.arange(len(values), dtype=np.int64)
    else:
        screened, kept = _screen(values, reasons)
        lines, indices = screened, np.array(kept, dtype=np.int64)
    block = max(_PARSE_BLOCK, 2 * max(map(len, lines), default=0))
    parsed: list[tuple[int, pa.Table]] = []
    for position, result in _parse(lines, 0, block, joined):
        if isinstance(result, str):
            reasons[int(indices[position])] = result
        else:
            parsed.append((position, result))
    table = pa.concat_tables([t for _, t in parsed]) if parsed else EVENT_SCHEMA.empty_table()
    positions = [np.arange(start, start + t.num_rows, dtype=np.int64) for start, t in parsed]
    accepted = pa.array(indices[np.concatenate(positions)] if positions else indices[:0])

    valid = pc.equal(table["schema_version"], SCHEMA_VERSION)
    for name in EVENT_SCHEMA.names:
        valid = pc.and_(valid, pc.is_valid(table[name]))
    valid = pc.fill_null(valid, False)
    if not pc.all(valid).as_py() and table.num_rows:
        for row in pc.indices_nonzero(pc.invert(valid)).to_pylist():
            reasons[accepted[row].as_py()] = _invalid_reason(table, row)
        table, accepted = table.filter(valid), accepted.filter(valid)
    return table, accepted, reasons


def _joined_lines(values: list[bytes | None]) -> bytes | None:
    """The values joined with newlines if every value is one line that starts like a JSON
    object, else None: checked on the joined bytes, at C speed, instead of per message."""
    try:
        joined = b"\n".join(values)
    except TypeError:  # a tombstone (None)
        return None
    lengths = np.fromiter(map(len, values), np.int64, len(values))
    data = np.frombuffer(joined, np.uint8)
    # numpy counts the line breaks in a third of the time bytes.count takes.
    if not lengths.all() or b"\r" in joined or np.count_nonzero(data == ord("\n")) != len(values) - 1:
        return None
    starts = np.zeros(len(values), np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    return joined if bool((data[starts] == ord("{")).all()) else None


def _screen(values: list[bytes | None], reasons: dict[int, str]) -> tuple[list[bytes], list[int]]:
    """The values that may be JSON objects, one line each, and their indices; reasons for the others."""
    lines, indices = [], []
    for i, value in enumerate(values):
        if value is None:
            reasons[i] = "no value (a tombstone)"
            continue
        if b"\n" in value or b"\r" in value:
            value = value.translate(_LINE_BREAKS)  # whitespace in JSON; one message must stay one line
        # Arrow's JSON reader (pyarrow 25) crashes the process on a block that starts with
        # a bare `null`: only values that start like an object get to it.
        if not value.startswith(b"{") and not value.lstrip(b" \t").startswith(b"{"):
            reasons[i] = "not a JSON object"
            continue
        lines.append(value)
        indices.append(i)
    return lines, indices


def _parse(
    lines: list[bytes], start: int, block: int, joined: bytes | None = None
) -> Iterator[tuple[int, pa.Table | str]]:
    """(position of its first line, table) per block that parses; (position, reason) per line
    that does not. `joined`: the lines joined with newlines, where the caller has them."""
    if not lines:
        return
    try:
        table = pajson.read_json(
            pa.BufferReader(b"\n".join(lines) if joined is None else joined),
            # One thread: the batch is already parsed beside the consuming thread, and Arrow's
            # pool only adds threads contending for the same cores (20,000 events: 38 ms of
            # CPU on the pool against 31 ms on one thread).
            read_options=pajson.ReadOptions(block_size=block, use_threads=False),
            parse_options=_PARSE_OPTIONS,
        )
        table.validate(full=True)  # the reader does not check UTF-8
        if table.num_rows == len(lines):
            yield start, table
            return
        error = "not exactly one JSON object"
    except pa.ArrowException as exc:
        error = f"not a valid event: {exc}"
    if len(lines) == 1:
        yield start, error[:500]
        return
    half = len(lines) // 2
    yield from _parse(lines[:half], start, block)
    yield from _parse(lines[half:], start + half, block)


def _invalid_reason(table: pa.Table, row: int) -> str:
    version = table["schema_version"][row].as_py()
    if version is not None and version != SCHEMA_VERSION:
        return f"schema_version {version}, expected {SCHEMA_VERSION}"
    missing = [name for name in EVENT_SCHEMA.names if not table[name][row].is_valid]
    return f"missing or null: {', '.join(missing)}"


def _timestamp_ms(message: Message, fallback_day: date) -> int:
    kind, ms = message.timestamp()
    if kind == TIMESTAMP_NOT_AVAILABLE or ms < 0:  # the plan's day, so that a retry picks the same partition
        return int(datetime(fallback_day.year, fallback_day.month, fallback_day.day, tzinfo=UTC).timestamp() * 1000)
    return ms


class _Landing:
    """The day partitions one plan appends to, events and rejected messages, committed together."""

    def __init__(
        self, lake: lk.Lake, plan: Plan, stack: ExitStack, late_before: date | None, chunk_messages: int
    ) -> None:
        self._lake, self._plan, self._stack, self._late_before = lake, plan, stack, late_before
        self._appends: dict[tuple[tuple[str, ...], date], lk.PartitionAppend] = {}
        # Decoded rows of one range not written yet, per partition: written once they come
        # from `chunk_messages` messages or the range changes (row groups of a chunk's size).
        self._chunk_messages, self._messages = chunk_messages, 0
        self._range: lk.OffsetRange | None = None
        self._buffered: dict[tuple[tuple[str, ...], date], list[pa.Table]] = {}
        self.per_ds: dict[date, int] = {}
        self.late = 0
        self.rejected = 0

    def add(self, offsets: lk.OffsetRange, messages: int, events: pa.Table, rejected: pa.Table) -> None:
        """The decoded events and rejected messages of `messages` messages of `offsets`."""
        if offsets != self._range:
            self.flush()
            self._range = offsets
        for ds, rows in _by_day(events, "event_time"):
            self.per_ds[ds] = self.per_ds.get(ds, 0) + rows.num_rows
            if self._late_before is not None and ds < self._late_before:
                self.late += rows.num_rows
            self._buffered.setdefault((DATASET, ds), []).append(rows)
        for ds, rows in _by_day(rejected, "kafka_timestamp"):
            self.rejected += rows.num_rows
            for reason in rows["error"].to_pylist()[:3]:
                log.warning("topic %s partition %d: rejected a message: %s", offsets.topic, offsets.partition, reason)
            self._buffered.setdefault((REJECTED_DATASET, ds), []).append(rows)
        self._messages += messages
        if self._messages >= self._chunk_messages:
            self.flush()

    def flush(self) -> None:
        """Write the buffered rows (before a commit, and whenever a chunk is complete)."""
        if self._range is not None:
            for dataset, ds in sorted(self._buffered):
                self._write(dataset, ds, self._range, pa.concat_tables(self._buffered[(dataset, ds)]))
        self._buffered, self._messages = {}, 0

    def _write(self, dataset: tuple[str, ...], ds: date, offsets: lk.OffsetRange, rows: pa.Table) -> None:
        append = self._appends.get((dataset, ds))
        if append is None:
            ref = self._lake.partition("raw", *dataset, ds=ds)
            events = dataset == DATASET
            append = self._appends[(dataset, ds)] = self._stack.enter_context(
                lk.PartitionAppend(
                    self._lake,
                    ref,
                    SCHEMA if events else REJECTED_SCHEMA,
                    encodings=ENCODINGS if events else lk.Encodings(),
                )
            )
        if not append.landed(offsets):
            append.write(offsets, rows)

    def commit(self, written_by: dict[str, Any]) -> int:
        """Commit every partition written to; returns the rows this try wrote."""
        written = 0
        for key in sorted(self._appends):
            append = self._appends[key]
            rows = append.rows_written
            manifest = append.commit(written_by={**written_by, "plan_id": self._plan.plan_id})
            if manifest is not None:
                written += rows
                log.info(
                    "%s: appended %d rows (%d rows, %d ranges in all)",
                    append.ref.uri,
                    rows,
                    manifest.row_count,
                    len(manifest.source_position[RANGES_KEY]),
                )
        return written


def _by_day(table: pa.Table, column: str) -> Iterator[tuple[date, pa.Table]]:
    if not table.num_rows:
        return
    days = pc.cast(table[column], pa.date32())
    unique = sorted(pc.unique(days).to_pylist())
    if len(unique) == 1:  # the usual batch: one day, nothing to copy
        yield unique[0], table
        return
    for day in unique:
        yield day, table.filter(pc.equal(days, day))


# ---------------------------------------------------------------- 4. commit


def _finish(lake: lk.Lake, consumer: Consumer, plan: Plan) -> None:
    """Every range is in the lake: record the end offsets in the lake, then in Kafka, then drop the plan."""
    _write_checkpoint(lake, plan)
    _commit_offsets(consumer, plan)
    lake.filesystem.delete_file(lake.path(f"{plans_dir(lake)}/{plan.plan_id}.json"))


def _write_checkpoint(lake: lk.Lake, plan: Plan) -> None:
    state = lk.read_json(lake, checkpoint_path(lake), default={})
    topics = state.get("topics", {})
    topics[plan.topic] = {**topics.get(plan.topic, {}), **{str(r.partition): r.end for r in plan.ranges}}
    lk.write_json(lake, checkpoint_path(lake), {"topics": topics, "plan_id": plan.plan_id, "updated_at": utc_now()})


def _commit_offsets(consumer: Consumer, plan: Plan) -> None:
    if not plan.ranges:
        return
    offsets = [TopicPartition(r.topic, r.partition, r.end) for r in plan.ranges]
    for tp in _kafka(consumer.commit, offsets=offsets, asynchronous=False):
        if tp.error is not None:
            raise LandingError(f"topic {tp.topic} partition {tp.partition}: committing offset {tp.offset}: {tp.error}")
    log.info("topic %s: committed offsets of group %s: %s", plan.topic, plan.group_id, _describe(plan.ranges))
