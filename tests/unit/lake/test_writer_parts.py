"""write_partition_parts: Parquet files published as they are, beside encoded batches."""

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from include.lake import (
    LakeError,
    ParquetAsIs,
    partition_exists,
    read_partition,
    verify_partition,
    write_partition_parts,
)

SCHEMA = pa.schema([("account_id", pa.int64()), ("segment", pa.string())])


def parquet_file(path, first, rows, schema=SCHEMA):
    table = pa.table({"account_id": range(first, first + rows), "segment": ["a"] * rows}).cast(schema)
    pq.write_table(table, path, compression="snappy")
    return path


def write(lake, parts, **options):
    ref = lake.partition("raw", "core", "accounts", ds="2026-11-20")
    manifest = write_partition_parts(lake, ref, parts, schema=SCHEMA, source_position={}, written_by={}, **options)
    return ref, manifest


def test_an_as_is_file_is_published_byte_for_byte_with_its_footer_row_count(lake, tmp_path):
    source = parquet_file(tmp_path / "in.parquet", 0, 300)
    ref, manifest = write(lake, [ParquetAsIs(source)])
    [data_file] = manifest.files
    published = lake.path(f"{ref.relative}/{data_file.name}")
    with lake.filesystem.open_input_stream(published) as stream:
        assert stream.read() == source.read_bytes()
    assert manifest.row_count == data_file.rows == 300
    assert read_partition(lake, ref).column("account_id").to_pylist() == list(range(300))
    verify_partition(lake, ref)  # sizes and hashes recorded as for encoded files


def test_as_is_files_and_batches_keep_their_order(lake, tmp_path):
    batches = [pa.record_batch({"account_id": pa.array([100, 101], pa.int32()), "segment": ["b", "b"]})]
    parts = [
        ParquetAsIs(parquet_file(tmp_path / "a.parquet", 0, 3)),
        batches,
        ParquetAsIs(parquet_file(tmp_path / "c.parquet", 200, 2)),
    ]
    ref, manifest = write(lake, parts)
    assert [f.rows for f in manifest.files] == [3, 2, 2]
    table = read_partition(lake, ref)
    assert table.schema.equals(SCHEMA)
    assert table.column("account_id").to_pylist() == [0, 1, 2, 100, 101, 200, 201]
    verify_partition(lake, ref)


def test_an_as_is_file_of_another_schema_is_refused_and_nothing_is_committed(lake, tmp_path):
    other = parquet_file(
        tmp_path / "x.parquet", 0, 3, pa.schema([("account_id", pa.int32()), ("segment", pa.string())])
    )
    with pytest.raises(LakeError, match=r"x\.parquet: has columns \[account_id: int32, segment: string\]"):
        write(lake, [ParquetAsIs(other, where="hdfs:/x.parquet")])
    assert not partition_exists(lake, lake.partition("raw", "core", "accounts", ds="2026-11-20"))


def test_a_file_that_is_not_parquet_is_refused_by_name(lake, tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(LakeError, match=r"hdfs:/broken\.parquet: not a readable Parquet file"):
        write(lake, [ParquetAsIs(broken, where="hdfs:/broken.parquet")])


def test_a_rerun_replaces_the_as_is_files(lake, tmp_path):
    source = parquet_file(tmp_path / "in.parquet", 0, 5)
    write(lake, [ParquetAsIs(source)])
    ref, manifest = write(lake, [ParquetAsIs(source)])
    names = {info.base_name for info in lake.filesystem.get_file_info(pafs.FileSelector(lake.path(ref.relative)))}
    assert names == {"_manifest.json", *manifest.file_names}
    assert read_partition(lake, ref).num_rows == 5
