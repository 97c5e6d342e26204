"""The commit protocol's promises, through the lake API only, so that
tests/integration/test_lake_s3.py runs these same tests on S3 with its own `lake` fixture."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.lake import (
    Lake,
    LakeError,
    PartitionCorruptError,
    PartitionNotFoundError,
    copy_partition,
    data_file_uris,
    iter_batches,
    list_partitions,
    move_partition,
    partition_exists,
    read_json,
    read_manifest,
    read_partition,
    verify_partition,
    write_json,
    write_partition,
)
from include.lake import writer as lake_writer
from include.lake.store import list_files, put_bytes

DS = date(2026, 11, 20)
RUN = {"dag_id": "ingest_core", "run_id": "scheduled__2026-11-20", "task_id": "land", "try_number": 1}
WATERMARK = {"table": "core.accounts", "updated_at": {"from": "2026-11-20T00:00:00", "to": "2026-11-21T00:00:00"}}


def accounts(n: int, start: int = 0) -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table({"account_id": ids, "limit": [1000.0 + i for i in ids], "segment": [f"s{i % 3}" for i in ids]})


def write(lake: Lake, ref, data, **options):
    return write_partition(lake, ref, data, source_position=WATERMARK, written_by=RUN, **options)


def names_in(lake: Lake, ref) -> set[str]:
    return {info.base_name for info in list_files(lake, ref.relative)}


def raw(lake: Lake, ds: date = DS):
    return lake.partition("raw", "core", "accounts", ds=ds)


# ---------------------------------------------------------------- write and read


def test_round_trip_returns_the_rows_and_the_manifest_describes_them(lake):
    ref = raw(lake)
    manifest = write(lake, ref, accounts(10), code_version="abc123")

    assert read_partition(lake, ref).equals(accounts(10))
    assert read_manifest(lake, ref) == manifest
    assert manifest.row_count == 10
    assert manifest.schema == [
        {"name": "account_id", "type": "int64", "nullable": True},
        {"name": "limit", "type": "double", "nullable": True},
        {"name": "segment", "type": "string", "nullable": True},
    ]
    assert manifest.source_position == WATERMARK
    assert manifest.written_by == RUN
    assert manifest.code_version == "abc123"
    assert manifest.partition == "raw/core/accounts/ds=2026-11-20"
    assert names_in(lake, ref) == {"_manifest.json", *manifest.file_names}
    assert verify_partition(lake, ref) == manifest


def test_content_checksum_covers_the_files_bytes_in_manifest_order(lake):
    ref = raw(lake)
    manifest = write(lake, ref, accounts(25), rows_per_file=10)
    content = hashlib.sha256()
    for data_file in manifest.files:
        with lake.filesystem.open_input_stream(lake.path(f"{ref.relative}/{data_file.name}")) as f:
            data = f.read()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (data_file.size, data_file.sha256)
        content.update(data)
    assert manifest.content_sha256 == content.hexdigest()


def test_rows_are_split_into_files_of_rows_per_file(lake):
    ref = raw(lake)
    manifest = write(lake, ref, accounts(25), rows_per_file=10)
    assert [f.rows for f in manifest.files] == [10, 10, 5]
    assert all(f.name.startswith(f"part-{manifest.attempt}-") for f in manifest.files)
    assert read_partition(lake, ref).equals(accounts(25))
    assert [uri.rsplit("/", 1)[1] for uri in data_file_uris(lake, ref)] == manifest.file_names


def test_many_small_batches_are_streamed_into_files_and_row_groups(lake):
    ref = raw(lake)
    files_seen_midway = []

    def batches() -> Iterator[pa.RecordBatch]:
        for i in range(2000):
            if i == 1500:  # 75k rows produced so far: the first files must already be out
                files_seen_midway.append(len([n for n in names_in(lake, ref) if n.endswith(".parquet")]))
            yield from accounts(50, start=i * 50).to_batches()

    manifest = write(lake, ref, batches(), rows_per_file=30_000, rows_per_row_group=10_000)

    assert files_seen_midway[0] >= 2
    assert [f.rows for f in manifest.files] == [30_000, 30_000, 30_000, 10_000]
    first = lake.filesystem.open_input_file(lake.path(f"{ref.relative}/{manifest.files[0].name}"))
    assert pq.ParquetFile(first).metadata.num_row_groups == 3  # 600 batches regrouped, not 600 row groups
    assert sum(b.num_rows for b in iter_batches(lake, ref, columns=["account_id"], batch_size=7_000)) == 100_000


def test_iter_batches_streams_the_selected_columns(lake):
    ref = raw(lake)
    write(lake, ref, accounts(25), rows_per_file=10)
    batches = list(iter_batches(lake, ref, columns=["segment"], batch_size=4))
    assert max(b.num_rows for b in batches) == 4
    assert pa.Table.from_batches(batches).equals(accounts(25).select(["segment"]))


def test_empty_input_commits_an_empty_partition_with_its_schema(lake):
    ref = raw(lake)
    manifest = write(lake, ref, iter([]), schema=accounts(0).schema)
    assert partition_exists(lake, ref)
    assert manifest.row_count == 0
    assert len(manifest.files) == 1
    table = read_partition(lake, ref)
    assert table.num_rows == 0
    assert table.schema.equals(accounts(0).schema)
    assert list_partitions(lake, "raw", "core", "accounts") == [DS]


def test_rewriting_a_partition_replaces_it_and_removes_the_old_files(lake):
    ref = raw(lake)
    first = write(lake, ref, accounts(10))
    second = write(lake, ref, accounts(10), rows_per_file=4)  # the same day, re-run
    assert read_partition(lake, ref).num_rows == 10
    assert names_in(lake, ref) == {"_manifest.json", *second.file_names}
    assert not set(first.file_names) & names_in(lake, ref)


# ---------------------------------------------------------------- crashes


def test_a_source_failing_mid_write_leaves_the_committed_version_untouched(lake):
    ref = raw(lake)
    committed = write(lake, ref, accounts(10))

    def dies_midway() -> Iterator[pa.RecordBatch]:
        yield from accounts(30, start=100).to_batches(max_chunksize=10)
        raise ConnectionError("source went away")

    with pytest.raises(ConnectionError):
        write(lake, ref, dies_midway(), rows_per_file=10)

    assert read_manifest(lake, ref) == committed
    assert read_partition(lake, ref).equals(accounts(10))
    assert names_in(lake, ref) - {"_manifest.json", *committed.file_names}, "expected the attempt's leftovers"

    retried = write(lake, ref, accounts(30, start=100))
    assert read_partition(lake, ref).equals(accounts(30, start=100))
    assert names_in(lake, ref) == {"_manifest.json", *retried.file_names}


def test_a_crash_between_data_files_and_manifest_is_invisible_and_the_retry_cleans_up(lake, monkeypatch):
    ref = raw(lake)
    committed = write(lake, ref, accounts(10))

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(lake_writer, "put_bytes", killed)
        with pytest.raises(SystemExit):
            write(lake, ref, accounts(20, start=50), rows_per_file=5)

    assert read_manifest(lake, ref) == committed
    assert read_partition(lake, ref).equals(accounts(10))
    assert len(names_in(lake, ref)) == 1 + len(committed.files) + 4

    retried = write(lake, ref, accounts(20, start=50))
    assert read_partition(lake, ref).equals(accounts(20, start=50))
    assert names_in(lake, ref) == {"_manifest.json", *retried.file_names}


def test_a_crash_during_cleanup_leaves_the_new_version_committed(lake, monkeypatch):
    ref = raw(lake)
    first = write(lake, ref, accounts(10))

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(lake_writer, "list_files", killed)
        with pytest.raises(SystemExit):
            write(lake, ref, accounts(5, start=10))

    assert read_partition(lake, ref).equals(accounts(5, start=10))
    assert set(first.file_names) <= names_in(lake, ref)  # garbage, but unlisted
    third = write(lake, ref, accounts(3))
    assert names_in(lake, ref) == {"_manifest.json", *third.file_names}


# ---------------------------------------------------------------- what readers see


def test_a_partition_without_manifest_does_not_exist_for_readers(lake):
    committed, uncommitted = raw(lake, date(2026, 11, 19)), raw(lake)
    write(lake, committed, accounts(3))
    write(lake, uncommitted, accounts(3))
    lake.filesystem.delete_file(lake.path(f"{uncommitted.relative}/_manifest.json"))

    assert names_in(lake, uncommitted), "the data files are still there"
    assert not partition_exists(lake, uncommitted)
    assert read_manifest(lake, uncommitted) is None
    assert list_partitions(lake, "raw", "core", "accounts") == [date(2026, 11, 19)]
    with pytest.raises(PartitionNotFoundError, match=r"ds=2026-11-20: no _manifest\.json"):
        read_partition(lake, uncommitted)
    with pytest.raises(PartitionNotFoundError, match=r"ds=2026-11-20"):
        iter_batches(lake, uncommitted)


def test_list_partitions_returns_committed_days_in_order_and_nothing_for_an_unknown_dataset(lake):
    for day in (22, 20, 21):
        write(lake, raw(lake, date(2026, 11, day)), accounts(1))
    assert list_partitions(lake, "raw", "core", "accounts") == [date(2026, 11, d) for d in (20, 21, 22)]
    assert list_partitions(lake, "raw", "core", "cards") == []


def test_reading_an_unknown_column_names_the_partition_and_its_columns(lake):
    ref = raw(lake)
    write(lake, ref, accounts(3))
    with pytest.raises(LakeError, match=r"ds=2026-11-20: no column\(s\) \['balance'\], it has \['account_id'"):
        read_partition(lake, ref, columns=["balance"])


# ---------------------------------------------------------------- verification


def overwrite(lake: Lake, ref, name: str, data: bytes) -> None:
    with lake.filesystem.open_output_stream(lake.path(f"{ref.relative}/{name}")) as out:
        out.write(data)


def test_verify_catches_a_truncated_file(lake):
    ref = raw(lake)
    manifest = write(lake, ref, accounts(100))
    name, size = manifest.files[0].name, manifest.files[0].size
    with lake.filesystem.open_input_stream(lake.path(f"{ref.relative}/{name}")) as f:
        overwrite(lake, ref, name, f.read()[: size // 2])
    with pytest.raises(PartitionCorruptError, match=rf"{name} is {size // 2} bytes, the manifest says {size}"):
        verify_partition(lake, ref)


def test_verify_catches_a_changed_byte(lake):
    ref = raw(lake)
    manifest = write(lake, ref, accounts(100))
    name = manifest.files[0].name
    with lake.filesystem.open_input_stream(lake.path(f"{ref.relative}/{name}")) as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF
    overwrite(lake, ref, name, bytes(data))
    with pytest.raises(PartitionCorruptError, match=rf"{name} has sha256 .*, the manifest says"):
        verify_partition(lake, ref)


def test_verify_and_read_catch_a_missing_file(lake):
    ref = raw(lake)
    manifest = write(lake, ref, accounts(20), rows_per_file=10)
    lake.filesystem.delete_file(lake.path(f"{ref.relative}/{manifest.files[1].name}"))
    with pytest.raises(PartitionCorruptError, match=rf"ds=2026-11-20: {manifest.files[1].name} is listed .* missing"):
        verify_partition(lake, ref)
    with pytest.raises(PartitionCorruptError, match="listed in the manifest but missing"):
        read_partition(lake, ref)


# ---------------------------------------------------------------- copy, move, quarantine


def test_move_to_quarantine_publishes_the_data_with_its_reason_and_removes_the_source(lake):
    src = raw(lake)
    dst = lake.partition("quarantine", "core", "accounts", ds=DS)
    source = write(lake, src, accounts(20), rows_per_file=10)
    reason = {"check": "expect_column_values_to_not_be_null", "column": "limit", "unexpected": 3}

    moved = move_partition(lake, src, dst, reason, written_by={"task_id": "validate"})

    assert not partition_exists(lake, src)
    assert not list_files(lake, src.relative, recursive=True)
    assert read_partition(lake, dst).equals(accounts(20))
    assert read_json(lake, f"{dst.relative}/_reason.json") == reason
    assert names_in(lake, dst) == {"_manifest.json", "_reason.json", *moved.file_names}
    assert (moved.content_sha256, moved.row_count, moved.source_position) == (
        source.content_sha256,
        20,
        WATERMARK,
    )
    assert moved.extra["copied_from"]["partition"] == src.relative
    assert moved.extra["copied_from"]["written_by"] == RUN
    verify_partition(lake, dst)


def test_a_move_retried_after_the_source_manifest_was_deleted_finishes_the_cleanup(lake):
    src, dst = raw(lake), lake.partition("quarantine", "core", "accounts", ds=DS)
    write(lake, src, accounts(5))
    copied = copy_partition(lake, src, dst, reason={"check": "row_count"})
    lake.filesystem.delete_file(lake.path(f"{src.relative}/_manifest.json"))  # killed right after this

    assert move_partition(lake, src, dst, {"check": "row_count"}) == copied
    assert not list_files(lake, src.relative, recursive=True)
    assert read_partition(lake, dst).equals(accounts(5))


def test_moving_a_partition_that_was_never_committed_is_an_error(lake):
    src, dst = raw(lake), lake.partition("quarantine", "core", "accounts", ds=DS)
    with pytest.raises(PartitionNotFoundError, match=r"raw/core/accounts/ds=2026-11-20: no _manifest\.json"):
        move_partition(lake, src, dst, {"check": "x"})


def test_copy_to_validated_replaces_the_previous_copy_and_drops_a_stale_reason(lake):
    src = raw(lake)
    dst = lake.partition("validated", "core", "accounts", ds=DS)
    write(lake, src, accounts(5))
    copy_partition(lake, src, dst, reason={"check": "old"})
    write(lake, src, accounts(7))
    copied = copy_partition(lake, src, dst)
    assert read_partition(lake, dst).equals(accounts(7))
    assert names_in(lake, dst) == {"_manifest.json", *copied.file_names}
    assert partition_exists(lake, src)


# ---------------------------------------------------------------- documents


def test_json_documents_round_trip_and_replace_atomically(lake):
    path = "reports/training/credit_default/2026-11-20.json"
    uri = write_json(lake, path, {"roc_auc": 0.8})
    write_json(lake, path, {"roc_auc": 0.81})
    assert uri == f"{lake.root_uri}/{path}"
    assert read_json(lake, path) == {"roc_auc": 0.81}
    assert [info.base_name for info in list_files(lake, "reports/training/credit_default")] == ["2026-11-20.json"]
    assert read_json(lake, "reports/none.json") is None
    assert read_json(lake, "reports/none.json", default={}) == {}
    put_bytes(lake, "reports/broken.json", b"{")
    with pytest.raises(LakeError, match=r"reports/broken\.json: not valid JSON"):
        read_json(lake, "reports/broken.json")
