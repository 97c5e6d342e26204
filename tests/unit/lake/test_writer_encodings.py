"""Per-column Parquet encodings: written as asked, read back unchanged, wrong names refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.lake import Encodings, LakeError, OffsetRange, PartitionAppend, read_partition, write_partition

SCHEMA = pa.schema(
    [
        ("txn_id", pa.string()),
        ("currency", pa.string()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("kafka_offset", pa.int64()),
    ]
)
ENCODINGS = Encodings(dictionary=("currency",), delta=("event_time", "kafka_offset"))


def rows(n: int) -> pa.Table:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    return pa.table(
        {
            "txn_id": [f"t-{i}" for i in range(n)],
            "currency": ["EUR", "USD"] * (n // 2),
            "event_time": [start + timedelta(seconds=i) for i in range(n)],
            "kafka_offset": list(range(1000, 1000 + n)),
        },
        schema=SCHEMA,
    )


def encodings_of(lake, ref, manifest) -> dict[str, set[str]]:
    """Column -> the Parquet encodings of its chunk in the partition's first file."""
    path = lake.path(f"{ref.relative}/{manifest.files[0].name}")
    with lake.filesystem.open_input_file(path) as source:
        group = pq.ParquetFile(source).metadata.row_group(0)
        return {group.column(i).path_in_schema: set(group.column(i).encodings) for i in range(group.num_columns)}


def test_written_columns_use_the_encodings_asked_for_and_read_back_unchanged(lake):
    ref = lake.partition("raw", "cards", "card_transactions", ds="2026-11-20")
    manifest = write_partition(lake, ref, rows(1000), source_position={}, written_by={}, encodings=ENCODINGS)

    used = encodings_of(lake, ref, manifest)
    assert "RLE_DICTIONARY" in used["currency"]
    assert "RLE_DICTIONARY" not in used["txn_id"]
    assert used["event_time"] >= {"DELTA_BINARY_PACKED"} and "RLE_DICTIONARY" not in used["event_time"]
    assert used["kafka_offset"] >= {"DELTA_BINARY_PACKED"} and "RLE_DICTIONARY" not in used["kafka_offset"]
    assert read_partition(lake, ref).equals(rows(1000))


def test_by_default_every_column_is_dictionary_encoded(lake):
    ref = lake.partition("raw", "cards", "card_transactions", ds="2026-11-20")
    manifest = write_partition(lake, ref, rows(10), source_position={}, written_by={})

    assert all("RLE_DICTIONARY" in used for used in encodings_of(lake, ref, manifest).values())


def test_an_append_writes_its_files_with_its_encodings(lake):
    ref = lake.partition("raw", "cards", "card_transactions", ds="2026-11-20")
    with PartitionAppend(lake, ref, SCHEMA, encodings=ENCODINGS) as append:
        append.write(OffsetRange("card-transactions", 0, 1000, 2000), rows(1000))
        manifest = append.commit(written_by={})

    assert encodings_of(lake, ref, manifest)["kafka_offset"] >= {"DELTA_BINARY_PACKED"}
    assert read_partition(lake, ref).equals(rows(1000))


@pytest.mark.parametrize(
    ("encodings", "message"),
    [
        (Encodings(dictionary=("currency", "ccy")), "columns not in the schema: ccy"),
        (Encodings(delta=("offset",)), "columns not in the schema: offset"),
        (
            Encodings(dictionary=("kafka_offset",), delta=("kafka_offset",)),
            "columns both dictionary- and delta-encoded: kafka_offset",
        ),
    ],
    ids=["unknown-dictionary-column", "unknown-delta-column", "both"],
)
def test_encodings_that_do_not_fit_the_schema_are_refused_naming_the_partition(lake, encodings, message):
    ref = lake.partition("raw", "cards", "card_transactions", ds="2026-11-20")
    with pytest.raises(LakeError, match=rf"ds=2026-11-20: encodings name {message}"):
        write_partition(lake, ref, rows(10), source_position={}, written_by={}, encodings=encodings)
    with pytest.raises(LakeError, match=rf"ds=2026-11-20: encodings name {message}"):
        PartitionAppend(lake, ref, SCHEMA, encodings=encodings)
