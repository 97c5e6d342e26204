"""Wire formats: the Kafka event JSON and the CSV the writers send."""

import json
from datetime import UTC, datetime

import pyarrow as pa

from devstack.seed import encode
from devstack.seed import generate as gen


def test_an_event_encodes_to_the_documented_json(portfolio):
    events = portfolio.transactions.select(gen.TRANSACTION_EVENT.names).slice(0, 200)
    messages = encode.json_events(events).to_pylist()
    first = json.loads(messages[0])
    assert list(first) == gen.TRANSACTION_EVENT.names
    assert first["schema_version"] == 1
    assert isinstance(first["account_id"], int) and isinstance(first["declined"], bool)
    when = events["event_time"][0].as_py()
    assert first["event_time"] == when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    assert all(isinstance(json.loads(m)["amount"], float) for m in messages)  # 100.0, never 100
    assert [json.loads(m)["txn_id"] for m in messages] == events["txn_id"].to_pylist()


def test_json_escapes_quotes_and_writes_nulls():
    table = pa.table(
        {
            "text": pa.array(['say "hi"\\', None]),
            "when": pa.array([datetime(2026, 11, 20, 13, 45, 12, 123456, tzinfo=UTC), None], pa.timestamp("us", "UTC")),
        }
    )
    assert [json.loads(m) for m in encode.json_events(table).to_pylist()] == [
        {"text": 'say "hi"\\', "when": "2026-11-20T13:45:12.123Z"},
        {"text": None, "when": None},
    ]


def test_csv_has_a_plain_header_and_survives_empty_chunks():
    rows = pa.table({"customer_id": [1, 2], "total_debt": [10.5, 0.0]})
    empty = rows.slice(0, 0)
    assert encode.csv_bytes(pa.concat_tables([empty, rows, empty])) == b"customer_id,total_debt\n1,10.5\n2,0\n"
    assert encode.csv_bytes(empty) == b"customer_id,total_debt\n"
    assert encode.csv_bytes(rows, header=False) == b"1,10.5\n2,0\n"
