"""Decoding a consumed chunk of the Kafka landing: the batch fast paths (one join, offsets
as a range) give the same rows as the per-message paths they skip."""

from __future__ import annotations

import json
from datetime import date

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, Message

from include.ingestion import kafka as kl

DAY = date(2026, 11, 20)


def value(i: int, **changes) -> bytes:
    body = {
        "schema_version": 1,
        "txn_id": f"t-{i}",
        "account_id": 1000 + i,
        "event_time": f"2026-11-20T10:00:{i % 60:02d}.000Z",
        "amount": 1.5 + i,
        "currency": "EUR",
        "mcc": "5411",
        "channel": "pos",
        "country": "DE",
        "declined": i % 2 == 0,
    }
    return json.dumps(body | changes).encode()


def message(offset: int, body: bytes | None) -> Message:
    return Message(
        topic="t",
        partition=2,
        offset=offset,
        key=b"k",
        value=body,
        timestamp=(TIMESTAMP_CREATE_TIME, 1_763_600_000_000),
    )


def test_a_batch_of_one_line_objects_is_joined_once():
    values = [value(i) for i in range(5)]
    assert kl._joined_lines(values) == b"\n".join(values)


@pytest.mark.parametrize(
    "odd",
    [None, b"", b"null", b" {}", b'{"a":\n1}', b'{"a":\r1}', value(9) + b"\n" + value(10)],
    ids=["tombstone", "empty", "not-an-object", "leading-space", "newline", "carriage-return", "two-lines"],
)
def test_a_batch_with_one_odd_value_anywhere_is_screened_per_message(odd):
    for at in (0, 2, 4):
        values = [value(i) for i in range(4)]
        values.insert(at, odd)
        assert kl._joined_lines(values) is None


def test_the_joined_and_the_screened_path_decode_the_good_values_alike():
    good = [value(i) for i in range(6)]
    fast, fast_accepted, fast_reasons = kl.decode_events(good)
    mixed = [*good[:3], None, b'{"a":\n1}', *good[3:]]  # screened: a tombstone, a multi-line value
    slow, slow_accepted, slow_reasons = kl.decode_events(mixed)

    assert fast_reasons == {}
    assert fast_accepted.to_pylist() == list(range(6))
    assert slow_accepted.to_pylist() == [0, 1, 2, 5, 6, 7]
    assert slow_reasons[3] == "no value (a tombstone)"
    assert "missing or null" in slow_reasons[4]
    assert slow.equals(fast)
    assert fast.schema == kl.EVENT_SCHEMA
    assert fast["txn_id"].to_pylist() == [f"t-{i}" for i in range(6)]


@pytest.mark.parametrize("offsets", [[10, 11, 12, 13, 14], [10, 11, 15, 16, 40]], ids=["contiguous", "gaps"])
def test_each_event_keeps_its_own_offset_and_partition(offsets):
    bodies = [value(1), value(2), b"{broken", value(3, schema_version=2), value(4)]
    events, rejected = kl._decode([message(o, b) for o, b in zip(offsets, bodies, strict=True)], 2, DAY)

    assert events["kafka_offset"].to_pylist() == [offsets[0], offsets[1], offsets[4]]
    assert events["kafka_partition"].to_pylist() == [2, 2, 2]
    assert events["txn_id"].to_pylist() == ["t-1", "t-2", "t-4"]
    assert events.schema == kl.SCHEMA
    assert rejected["kafka_offset"].to_pylist() == offsets[2:4]
    assert rejected["value"].to_pylist() == bodies[2:4]
    assert "schema_version 2" in rejected["error"][1].as_py()
