"""Appending offset ranges of a stream to a partition, each range at most once.

`writer` replaces a partition; a stream lands in pieces instead. Every Kafka landing
adds the rows of some offset ranges to the day partitions their event times fall on,
and a range must never be added twice, even when the landing is retried after a
crash. The protocol is `writer`'s, with the committed manifest as the base:

1. Read the committed manifest (none: the partition is created by the first append).
2. Write the new rows under names unique to this attempt that carry the range id
   (`part-p2-1000-1500-<attempt>-00000.parquet`). Nothing lists them yet: invisible.
3. Commit a manifest listing the previous files and the new ones, with
   `source_position["kafka_ranges"]` = the previous ranges and the new ones
   (`writer.commit`: one atomic publish, then every unlisted file is deleted).

A range the manifest already lists is reported by `landed` and skipped by the caller:
that is what makes a retried landing write nothing twice. A range that overlaps a
listed one without being equal to it is refused, because appending it would duplicate
offsets. Killed before step 3, an append leaves the previous version visible and
orphan files that the next commit deletes; files listed in the manifest are never
touched. One writer per partition at a time, as for `writer`.

What it costs: the manifest's `content_sha256` is one sha256 over every file's bytes in
manifest order, and a sha256 cannot be resumed from a digest, so each commit reads the
partition's files once more (streamed, and checked against their own sha256 on the
way). Commit once per partition per landing run, not once per batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pyarrow as pa

from include.lake.errors import LakeError, PartitionCorruptError
from include.lake.manifest import (
    DataFile,
    Manifest,
    detect_code_version,
    new_attempt_id,
    schema_fields,
    schema_hash,
    utc_now,
)
from include.lake.reader import _hash, read_manifest
from include.lake.store import Lake, PartitionRef, check_ref
from include.lake.writer import (
    DEFAULT_ENCODINGS,
    ROWS_PER_FILE,
    ROWS_PER_ROW_GROUP,
    Encodings,
    _conformed,
    _PartFiles,
    _regroup,
    commit,
)

RANGES_KEY = "kafka_ranges"


@dataclass(frozen=True, order=True)
class OffsetRange:
    """Offsets [start, end) of one partition of a topic: the unit appended at most once."""

    topic: str
    partition: int
    start: int
    end: int

    @property
    def id(self) -> str:
        return f"p{self.partition}-{self.start}-{self.end}"

    def overlaps(self, other: OffsetRange) -> bool:
        same_log = (self.topic, self.partition) == (other.topic, other.partition)
        return same_log and self.start < other.end and other.start < self.end

    def as_dict(self) -> dict[str, Any]:
        return {"topic": self.topic, "partition": self.partition, "start": self.start, "end": self.end}

    @classmethod
    def from_dict(cls, entry: dict[str, Any]) -> OffsetRange:
        return cls(entry["topic"], int(entry["partition"]), int(entry["start"]), int(entry["end"]))


class PartitionAppend:
    """One append to one partition: rows of any number of ranges written, then one commit.

    A range's rows may arrive in several `write` calls (chunks of a stream), ranges one
    after the other. Use it as a context manager so that a failure closes the open file.
    `encodings` applies to the files this append writes (see `writer.Encodings`).
    """

    def __init__(
        self,
        lake: Lake,
        ref: PartitionRef,
        schema: pa.Schema,
        *,
        rows_per_file: int = ROWS_PER_FILE,
        encodings: Encodings = DEFAULT_ENCODINGS,
    ) -> None:
        check_ref(lake, ref)
        encodings.writer_options(schema, ref.uri)  # a wrong column name fails here, not at the first write
        self.lake, self.ref, self.schema = lake, ref, schema
        self.base = read_manifest(lake, ref)
        if self.base is not None and self.base.schema_hash != schema_hash(schema):
            raise LakeError(
                f"partition {ref.uri}: cannot append rows with columns {_describe(schema_fields(schema))}, "
                f"the committed partition has {_describe(self.base.schema)}"
            )
        listed = self.base.source_position.get(RANGES_KEY, []) if self.base is not None else []
        self._listed = [OffsetRange.from_dict(entry) for entry in listed]
        self._rows_per_file, self._encodings = rows_per_file, encodings
        self._attempt = new_attempt_id()
        self._written: list[tuple[OffsetRange, int]] = []
        self._files: list[DataFile] = []
        self._open: tuple[OffsetRange, _PartFiles] | None = None

    def __enter__(self) -> PartitionAppend:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        # Files written so far stay unlisted: the next commit of this partition deletes them.
        if self._open is not None:
            self._open[1].__exit__(kind, error, tb)
            self._open = None

    @property
    def rows_written(self) -> int:
        return sum(rows for _, rows in self._written)

    def landed(self, offsets: OffsetRange) -> bool:
        """Whether the committed manifest already lists `offsets`: then its rows must be skipped."""
        for listed in self._listed:
            if listed == offsets:
                return True
            if listed.overlaps(offsets):
                raise LakeError(
                    f"partition {self.ref.uri}: offsets {offsets.topic} {offsets.id} overlap the committed range "
                    f"{listed.id} without being equal to it; appending them would duplicate rows"
                )
        return False

    def write(self, offsets: OffsetRange, data: pa.Table | Iterable[pa.RecordBatch]) -> None:
        """Add rows of `offsets` (not yet committed: `commit` publishes them)."""
        if self.landed(offsets):
            raise LakeError(f"partition {self.ref.uri}: offsets {offsets.topic} {offsets.id} are already committed")
        batches, _ = _conformed(self.ref, data, self.schema)
        for table in _regroup(batches, self.schema, ROWS_PER_ROW_GROUP):
            if not table.num_rows:
                continue
            self._files_for(offsets).write(table)
            range_, rows = self._written[-1]
            self._written[-1] = (range_, rows + table.num_rows)

    def commit(self, *, written_by: dict[str, Any], code_version: str | None = None) -> Manifest | None:
        """Publish the previous files and ranges plus the new ones; None when nothing new was written."""
        self._close_open()
        if not self._written:
            return None
        base_files = self.base.files if self.base is not None else []
        base_ranges = self.base.source_position.get(RANGES_KEY, []) if self.base is not None else []
        files = [*base_files, *self._files]
        ranges = [*base_ranges, *({**offsets.as_dict(), "rows": rows} for offsets, rows in self._written)]
        base_position = self.base.source_position if self.base is not None else {}
        manifest = Manifest(
            partition=self.ref.relative,
            attempt=self._attempt,
            row_count=sum(f.rows for f in files),
            schema=schema_fields(self.schema),
            schema_hash=schema_hash(self.schema),
            content_sha256=self._content_sha256(files),
            files=files,
            source_position={**base_position, RANGES_KEY: ranges},
            code_version=code_version or detect_code_version(),
            written_by=written_by,
            written_at=utc_now(),
            extra=self.base.extra if self.base is not None else {},
        )
        commit(self.lake, self.ref, manifest)
        self.base, self._listed = manifest, [*self._listed, *(offsets for offsets, _ in self._written)]
        self._written, self._files = [], []
        return manifest

    def _files_for(self, offsets: OffsetRange) -> _PartFiles:
        if self._open is not None and self._open[0] == offsets:
            return self._open[1]
        if any(offsets.overlaps(written) for written, _ in self._written):
            raise LakeError(
                f"partition {self.ref.uri}: offsets {offsets.topic} {offsets.id} were already written by this "
                "append; a range's rows must come one after the other"
            )
        self._close_open()
        files = _PartFiles(
            self.lake, self.ref, f"{offsets.id}-{self._attempt}", self.schema, self._rows_per_file, self._encodings
        )
        self._open = (offsets, files)
        self._written.append((offsets, 0))
        return files

    def _close_open(self) -> None:
        if self._open is not None:
            self._files += self._open[1].finish()
            self._open = None

    def _content_sha256(self, files: list[DataFile]) -> str:
        content = hashlib.sha256()
        for expected in files:
            path = self.lake.path(f"{self.ref.relative}/{expected.name}")
            digest = hashlib.sha256()
            try:
                _hash(self.lake, path, digest, content)
            except FileNotFoundError:
                raise PartitionCorruptError(
                    f"partition {self.ref.uri}: {expected.name} is listed in the manifest but missing; "
                    "nothing was appended"
                ) from None
            if digest.hexdigest() != expected.sha256:
                raise PartitionCorruptError(
                    f"partition {self.ref.uri}: {expected.name} has sha256 {digest.hexdigest()[:12]}…, "
                    f"the manifest says {expected.sha256[:12]}…; nothing was appended"
                )
        return content.hexdigest()


def append_range(
    lake: Lake,
    ref: PartitionRef,
    data: pa.Table,
    offsets: OffsetRange,
    *,
    written_by: dict[str, Any],
    code_version: str | None = None,
    rows_per_file: int = ROWS_PER_FILE,
) -> Manifest | None:
    """Append `data`, the rows of `offsets`, to `ref` (creating it) and commit, unless already there.

    Returns the partition's committed manifest afterwards: unchanged when `offsets` was
    already listed; None when the partition does not exist and `data` has no rows.
    """
    with PartitionAppend(lake, ref, data.schema, rows_per_file=rows_per_file) as append:
        if append.landed(offsets):
            return append.base
        append.write(offsets, data)
        return append.commit(written_by=written_by, code_version=code_version) or append.base


def _describe(fields: list[dict[str, Any]]) -> str:
    return "[" + ", ".join(f"{f['name']}: {f['type']}" for f in fields) + "]"
