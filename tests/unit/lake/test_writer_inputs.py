"""What write_partition accepts: tables, batch streams, schemas that need casting."""

import pyarrow as pa
import pytest

from include.lake import LakeError, read_partition, write_partition

SCHEMA = pa.schema([("account_id", pa.int64()), ("segment", pa.string())])


def write(lake, data, **options):
    ref = lake.partition("raw", "core", "accounts", ds="2026-11-20")
    return ref, write_partition(lake, ref, data, source_position={}, written_by={}, **options)


def test_batches_are_cast_to_the_given_schema_and_reordered_by_name(lake):
    narrow = pa.record_batch({"segment": ["a"], "account_id": pa.array([1], pa.int32())})
    ref, manifest = write(lake, [narrow], schema=SCHEMA)
    assert read_partition(lake, ref).equals(pa.table({"account_id": [1], "segment": ["a"]}, schema=SCHEMA))
    assert manifest.schema[0] == {"name": "account_id", "type": "int64", "nullable": True}


def test_a_batch_that_does_not_fit_the_schema_is_named(lake):
    good = pa.record_batch({"account_id": [1], "segment": ["a"]})
    bad = pa.record_batch({"account_id": ["x"], "segment": ["b"]})
    with pytest.raises(LakeError, match=r"ds=2026-11-20: batch 1 has columns \[account_id: string, segment: string\]"):
        write(lake, [good, bad])


def test_an_empty_input_without_schema_is_refused(lake):
    with pytest.raises(LakeError, match="no batches and no schema: pass schema="):
        write(lake, [])


def test_an_empty_table_brings_its_own_schema(lake):
    ref, manifest = write(lake, SCHEMA.empty_table())
    assert manifest.row_count == 0
    assert read_partition(lake, ref).schema.equals(SCHEMA)


def test_the_code_version_defaults_to_the_detected_one(lake, monkeypatch):
    monkeypatch.setattr("include.lake.writer.detect_code_version", lambda: "deadbeef")
    assert write(lake, SCHEMA.empty_table())[1].code_version == "deadbeef"


def test_rows_per_file_must_be_positive(lake):
    with pytest.raises(LakeError, match="rows_per_file and rows_per_row_group must be positive"):
        write(lake, SCHEMA.empty_table(), rows_per_file=0)
