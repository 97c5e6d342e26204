"""Appending offset ranges: each range lands at most once, and a crash anywhere leaves the
previous version visible and nothing behind after the next commit."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from include.lake import (
    Lake,
    LakeError,
    OffsetRange,
    PartitionAppend,
    PartitionCorruptError,
    append_range,
    read_manifest,
    read_partition,
    verify_partition,
    write_partition,
)
from include.lake import writer as lake_writer
from include.lake.store import list_files

RUN = {"dag_id": "ingest_kafka", "run_id": "scheduled__2026-11-20T13:00:00", "task_id": "land"}
TOPIC = "card-transactions"
SCHEMA = pa.schema([("txn_id", pa.string()), ("kafka_offset", pa.int64())])


def events(start: int, end: int) -> pa.Table:
    offsets = list(range(start, end))
    return pa.table({"txn_id": [f"t{o}" for o in offsets], "kafka_offset": offsets}, schema=SCHEMA)


def offsets(start: int, end: int, partition: int = 2) -> OffsetRange:
    return OffsetRange(TOPIC, partition, start, end)


def ref_of(lake: Lake, ds: str = "2026-11-20"):
    return lake.partition("raw", "cards", "card_transactions", ds=ds)


def names_in(lake: Lake, ref) -> set[str]:
    return {info.base_name for info in list_files(lake, ref.relative)}


def append(lake: Lake, ref, start: int, end: int, **options):
    return append_range(lake, ref, events(start, end), offsets(start, end), written_by=RUN, **options)


def test_the_first_append_creates_the_partition_with_its_range(lake):
    ref = ref_of(lake)
    manifest = append(lake, ref, 1000, 1500)

    assert read_partition(lake, ref).equals(events(1000, 1500))
    assert manifest.row_count == 500
    assert manifest.source_position == {
        "kafka_ranges": [{"topic": TOPIC, "partition": 2, "start": 1000, "end": 1500, "rows": 500}]
    }
    assert [f.name.startswith(f"part-p2-1000-1500-{manifest.attempt}-") for f in manifest.files] == [True]
    assert names_in(lake, ref) == {"_manifest.json", *manifest.file_names}
    assert verify_partition(lake, ref) == manifest


def test_a_second_range_is_appended_to_the_files_and_ranges_already_there(lake):
    ref = ref_of(lake)
    first = append(lake, ref, 1000, 1500)
    second = append_range(lake, ref, events(0, 300), offsets(0, 300, partition=3), written_by=RUN)

    assert second.file_names[: len(first.files)] == first.file_names
    assert second.row_count == 800
    assert [(r["partition"], r["start"], r["end"], r["rows"]) for r in second.source_position["kafka_ranges"]] == [
        (2, 1000, 1500, 500),
        (3, 0, 300, 300),
    ]
    assert read_partition(lake, ref).equals(pa.concat_tables([events(1000, 1500), events(0, 300)]))
    assert verify_partition(lake, ref) == second  # content_sha256 covers the old files and the new one


def test_a_range_already_listed_is_skipped(lake):
    ref = ref_of(lake)
    committed = append(lake, ref, 1000, 1500)
    files_before = names_in(lake, ref)

    assert append(lake, ref, 1000, 1500) == committed
    assert read_manifest(lake, ref) == committed
    assert names_in(lake, ref) == files_before
    assert read_partition(lake, ref).num_rows == 500


def test_a_range_overlapping_a_listed_one_is_refused(lake):
    ref = ref_of(lake)
    committed = append(lake, ref, 1000, 1500)
    with pytest.raises(LakeError, match=r"offsets card-transactions p2-1200-1700 overlap the committed range p2-1000"):
        append(lake, ref, 1200, 1700)
    assert read_manifest(lake, ref) == committed
    assert append(lake, ref, 1500, 1700).row_count == 700  # adjacent is fine
    assert append_range(lake, ref, events(1000, 1500), offsets(1000, 1500, partition=0), written_by=RUN)


def test_a_crash_after_the_data_file_before_the_manifest_keeps_the_previous_version_and_the_retry_cleans_up(
    lake, monkeypatch
):
    ref = ref_of(lake)
    committed = append(lake, ref, 1000, 1500)

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    with monkeypatch.context() as patch:
        patch.setattr(lake_writer, "put_bytes", killed)
        with pytest.raises(SystemExit):
            append(lake, ref, 1500, 2000, rows_per_file=200)

    assert read_manifest(lake, ref) == committed
    assert read_partition(lake, ref).equals(events(1000, 1500))
    orphans = names_in(lake, ref) - {"_manifest.json", *committed.file_names}
    assert len(orphans) == 3
    assert all(name.startswith("part-p2-1500-2000-") for name in orphans)

    retried = append(lake, ref, 1500, 2000)
    assert names_in(lake, ref) == {"_manifest.json", *retried.file_names}
    assert not orphans & names_in(lake, ref)
    assert set(committed.file_names) <= names_in(lake, ref)  # listed files are never touched
    assert read_partition(lake, ref).equals(events(1000, 2000))
    verify_partition(lake, ref)


def test_a_source_failing_mid_append_leaves_nothing_visible(lake):
    ref = ref_of(lake)
    committed = append(lake, ref, 0, 10)

    def dies_midway():
        yield from events(10, 40).to_batches(max_chunksize=10)
        raise ConnectionError("broker went away")

    with pytest.raises(ConnectionError), PartitionAppend(lake, ref, SCHEMA) as appending:
        appending.write(offsets(10, 100), dies_midway())

    assert read_manifest(lake, ref) == committed
    assert append(lake, ref, 10, 100).row_count == 100
    assert read_partition(lake, ref).equals(events(0, 100))


def test_one_append_commits_several_ranges_written_in_chunks(lake):
    ref = ref_of(lake, "2026-11-19")
    with PartitionAppend(lake, ref, SCHEMA, rows_per_file=250) as appending:
        for start in range(0, 600, 100):  # one range arriving in six chunks
            appending.write(offsets(0, 600), events(start, start + 100))
        appending.write(offsets(0, 40, partition=1), events(0, 0))  # no rows for this day: not recorded
        appending.write(offsets(0, 40, partition=0), events(0, 40))
        manifest = appending.commit(written_by=RUN)

    assert [f.rows for f in manifest.files] == [250, 250, 100, 40]
    assert [(r["partition"], r["rows"]) for r in manifest.source_position["kafka_ranges"]] == [(2, 600), (0, 40)]
    assert read_partition(lake, ref).equals(pa.concat_tables([events(0, 600), events(0, 40)]))
    verify_partition(lake, ref)


def test_a_range_cannot_be_written_twice_in_one_append(lake):
    with PartitionAppend(lake, ref_of(lake), SCHEMA) as appending:
        appending.write(offsets(0, 10), events(0, 10))
        appending.write(offsets(10, 20), events(10, 20))
        with pytest.raises(LakeError, match="p2-0-10 were already written by this append"):
            appending.write(offsets(0, 10), events(0, 10))


def test_nothing_written_commits_nothing(lake):
    ref = ref_of(lake)
    with PartitionAppend(lake, ref, SCHEMA) as appending:
        appending.write(offsets(0, 10), events(0, 0))
        assert appending.commit(written_by=RUN) is None
    assert read_manifest(lake, ref) is None


def test_appending_keeps_the_source_position_of_a_partition_written_whole(lake):
    ref = ref_of(lake)
    write_partition(lake, ref, events(0, 5), source_position={"source": "backfill"}, written_by=RUN)
    manifest = append(lake, ref, 5, 8)
    assert manifest.source_position["source"] == "backfill"
    assert manifest.source_position["kafka_ranges"][0]["rows"] == 3
    assert read_partition(lake, ref).equals(events(0, 8))


def test_rows_with_other_columns_are_refused_with_both_schemas_named(lake):
    ref = ref_of(lake)
    append(lake, ref, 0, 5)
    other = pa.table({"txn_id": ["x"], "kafka_offset": ["5"]})
    with pytest.raises(LakeError, match=r"columns \[txn_id: string, kafka_offset: string\], .* has \[txn_id: str"):
        append_range(lake, ref, other, offsets(5, 6), written_by=RUN)


def test_a_listed_file_gone_missing_fails_the_append_and_changes_nothing(lake):
    ref = ref_of(lake)
    committed = append(lake, ref, 0, 5)
    lake.filesystem.delete_file(lake.path(f"{ref.relative}/{committed.files[0].name}"))
    with pytest.raises(PartitionCorruptError, match="listed in the manifest but missing; nothing was appended"):
        append(lake, ref, 5, 8)
    assert read_manifest(lake, ref) == committed


def test_partitions_of_different_days_are_independent(lake):
    append(lake, ref_of(lake, "2026-11-19"), 0, 5)
    append(lake, ref_of(lake, "2026-11-20"), 0, 5)  # the same range, other day: its own rows
    assert read_manifest(lake, ref_of(lake, "2026-11-20")).row_count == 5
    assert lake.partition("raw", "cards", "card_transactions", ds=date(2026, 11, 19)) == ref_of(lake, "2026-11-19")
