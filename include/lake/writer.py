"""Writing a partition: data files first, the manifest last, leftovers removed after.

The commit protocol, the same on a local disk and on S3 (which has no rename):

1. Data files go straight into the partition directory under names unique to this
   attempt (`part-<attempt>-00000.parquet`, ...). Nothing refers to them yet, so they
   are invisible, and they cannot collide with the files of the committed version or of
   a crashed attempt: an attempt never overwrites a file a reader may be reading.
2. `_manifest.json`, which lists those files, is published in one atomic step
   (`store.put_bytes`: a single PUT on S3, temp file + rename locally). That step is the
   commit: before it readers see the previous version (or nothing), after it the new one.
3. Files in the directory that the new manifest does not list (the previous version,
   leftovers of crashed attempts) are deleted.

`write_partition_parts` follows the same steps for a partition assembled from parts, some
of them Parquet files already encoded elsewhere: those are copied byte for byte (hashed
on the way) under the attempt's next name instead of being decoded and re-encoded.

A writer killed anywhere before step 2 leaves only unlisted files, which readers never
open and the next successful commit removes; killed during step 3 it leaves garbage
that the next commit removes too. Re-running a logical date replaces the partition
instead of appending to it. One writer per partition at a time is assumed (Airflow runs
one try of a task instance at a time): a second writer's step 3 could delete the first
one's uncommitted files. A reader holding the previous manifest while step 3 runs may
find its files gone; it reads again and gets the new version.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from include.lake.errors import LakeError
from include.lake.manifest import (
    MANIFEST_NAME,
    DataFile,
    Manifest,
    detect_code_version,
    new_attempt_id,
    schema_fields,
    schema_hash,
    utc_now,
)
from include.lake.store import Lake, PartitionRef, check_ref, ensure_dir, list_files, put_bytes

ROWS_PER_FILE = 1_000_000
ROWS_PER_ROW_GROUP = 128 * 1024
COMPRESSION = "zstd"
_COPY_CHUNK = 4 << 20


@dataclass(frozen=True)
class Encodings:
    """Parquet encodings for a dataset whose writer knows its columns' values.

    Parquet's default dictionary-encodes every column. That pays for columns with few
    distinct values (currencies, channels, account ids) and wastes CPU and bytes on columns
    where nearly every value is new (ids, offsets, amounts, timestamps): the dictionary is
    built and, once it outgrows its page limit, abandoned for plain encoding.
    Measured on 100,000 landed Kafka events, zstd: the default 41 ms and 1.44 MB; only the
    low-cardinality columns in dictionaries 31 ms and 0.76 MB; plus offsets and event
    times as deltas 26 ms and 0.35 MB. Every Parquet reader of this project (pyarrow,
    Spark, DuckDB) reads both encodings.
    """

    dictionary: tuple[str, ...] | None = None  # the columns to dictionary-encode; None: every column
    delta: tuple[str, ...] = ()  # integer or timestamp columns whose values mostly grow: DELTA_BINARY_PACKED

    def writer_options(self, schema: pa.Schema, where: str) -> dict[str, Any]:
        """ParquetWriter options; `where` names the partition in errors."""
        unknown = sorted(set(self.dictionary or ()).union(self.delta) - set(schema.names))
        both = sorted(set(self.dictionary or ()).intersection(self.delta))
        if unknown or both:
            raise LakeError(
                f"partition {where}: encodings name "
                + (f"columns not in the schema: {', '.join(unknown)}" if unknown else "")
                + ("; " if unknown and both else "")
                + (f"columns both dictionary- and delta-encoded: {', '.join(both)}" if both else "")
            )
        options: dict[str, Any] = {}
        if self.dictionary is not None or self.delta:
            dictionary = schema.names if self.dictionary is None else self.dictionary
            options["use_dictionary"] = [name for name in dictionary if name not in self.delta]
        if self.delta:
            options["column_encoding"] = dict.fromkeys(self.delta, "DELTA_BINARY_PACKED")
        return options


DEFAULT_ENCODINGS = Encodings()


def write_partition(
    lake: Lake,
    ref: PartitionRef,
    data: Iterable[pa.RecordBatch] | pa.Table,
    *,
    source_position: dict[str, Any],
    written_by: dict[str, Any],
    code_version: str | None = None,
    schema: pa.Schema | None = None,
    rows_per_file: int = ROWS_PER_FILE,
    rows_per_row_group: int = ROWS_PER_ROW_GROUP,
    extra: dict[str, Any] | None = None,
    encodings: Encodings = DEFAULT_ENCODINGS,
) -> Manifest:
    """Write `data` as the new content of `ref` and commit it; returns the committed manifest.

    Batches are streamed: at most one row group (`rows_per_row_group` rows) is held in
    memory, whatever the input's size. Batches are cast to `schema` (default: the first
    batch's). No data at all still commits a partition, with 0 rows and one empty file
    carrying the schema, so "nothing arrived that day" is recorded rather than missing;
    `schema` is then required. `encodings`: see `Encodings` (default: Parquet's).
    """
    check_ref(lake, ref)
    if rows_per_file < 1 or rows_per_row_group < 1:
        raise LakeError(f"partition {ref.uri}: rows_per_file and rows_per_row_group must be positive")
    batches, schema = _conformed(ref, data, schema)
    return write_partition_parts(
        lake,
        ref,
        [batches],
        schema=schema,
        source_position=source_position,
        written_by=written_by,
        code_version=code_version,
        rows_per_file=rows_per_file,
        rows_per_row_group=rows_per_row_group,
        extra=extra,
        encodings=encodings,
    )


@dataclass(frozen=True)
class ParquetAsIs:
    """A local Parquet file to publish unchanged (for `write_partition_parts`).

    Its footer's schema must equal the partition's (metadata aside); its row groups,
    encodings and compression stay the producer's. `where` names it in errors.
    """

    path: str | os.PathLike[str]
    where: str = ""


def write_partition_parts(
    lake: Lake,
    ref: PartitionRef,
    parts: Iterable[ParquetAsIs | Iterable[pa.RecordBatch] | pa.Table],
    *,
    schema: pa.Schema,
    source_position: dict[str, Any],
    written_by: dict[str, Any],
    code_version: str | None = None,
    rows_per_file: int = ROWS_PER_FILE,
    rows_per_row_group: int = ROWS_PER_ROW_GROUP,
    extra: dict[str, Any] | None = None,
    encodings: Encodings = DEFAULT_ENCODINGS,
) -> Manifest:
    """Write `parts`, in order, as the new content of `ref` and commit it; returns the manifest.

    A `ParquetAsIs` part is copied as it is into one data file of its own (its row count
    from its footer); any other part is a stream of batches, cast to `schema` and encoded
    as `write_partition` does, starting a new data file after an as-is one so that rows
    keep their order. Same commit protocol, same manifest, same readers. Parts are
    consumed lazily: a generator may fetch the next part while this one is written.
    """
    check_ref(lake, ref)
    if rows_per_file < 1 or rows_per_row_group < 1:
        raise LakeError(f"partition {ref.uri}: rows_per_file and rows_per_row_group must be positive")
    attempt = new_attempt_id()
    with _PartFiles(lake, ref, attempt, schema, rows_per_file, encodings) as files:
        for part in parts:
            if isinstance(part, ParquetAsIs):
                files.adopt(part)
                continue
            batches, _ = _conformed(ref, part, schema)
            for table in _regroup(batches, schema, min(rows_per_row_group, rows_per_file)):
                files.write(table)
        data_files = files.finish()
    manifest = Manifest(
        partition=ref.relative,
        attempt=attempt,
        row_count=sum(f.rows for f in data_files),
        schema=schema_fields(schema),
        schema_hash=schema_hash(schema),
        content_sha256=files.content_sha256,
        files=data_files,
        source_position=source_position,
        code_version=code_version or detect_code_version(),
        written_by=written_by,
        written_at=utc_now(),
        extra=extra or {},
    )
    commit(lake, ref, manifest)
    return manifest


def commit(lake: Lake, ref: PartitionRef, manifest: Manifest, *, keep: Iterable[str] = ()) -> None:
    """Steps 2 and 3: publish the manifest, then delete what it does not list (but `keep`)."""
    put_bytes(lake, f"{ref.relative}/{MANIFEST_NAME}", manifest.to_json().encode())
    listed = {MANIFEST_NAME, *manifest.file_names, *keep}
    for info in list_files(lake, ref.relative):
        if info.base_name not in listed:
            lake.filesystem.delete_file(info.path)


def _conformed(
    ref: PartitionRef, data: Iterable[pa.RecordBatch] | pa.Table, schema: pa.Schema | None
) -> tuple[Iterator[pa.RecordBatch], pa.Schema]:
    """The input as batches of one schema, and that schema (peeking at the first batch if needed)."""
    if isinstance(data, pa.Table):
        schema = schema or data.schema
        data = data.to_batches()
    batches = iter(data)
    first = next(batches, None)
    schema = schema or (first.schema if first is not None else None)
    if schema is None:
        raise LakeError(f"partition {ref.uri}: no batches and no schema: pass schema= to commit an empty partition")
    stream = batches if first is None else chain([first], batches)
    return (_conform(ref, batch, schema, i) for i, batch in enumerate(stream)), schema


def _conform(ref: PartitionRef, batch: pa.RecordBatch, schema: pa.Schema, index: int) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    try:
        if sorted(batch.schema.names) == sorted(schema.names):
            batch = batch.select(schema.names)
        return batch.cast(schema, safe=True)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise LakeError(
            f"partition {ref.uri}: batch {index} has columns {_describe(batch.schema)}, "
            f"expected {_describe(schema)} ({exc})"
        ) from None


def _describe(schema: pa.Schema) -> str:
    return "[" + ", ".join(f"{f.name}: {f.type}" for f in schema) + "]"


def _regroup(batches: Iterable[pa.RecordBatch], schema: pa.Schema, size: int) -> Iterator[pa.Table]:
    """Re-cut a stream of batches into tables of `size` rows (the last may be short).

    Many small batches would otherwise become many tiny row groups, which read slowly;
    one big batch is sliced (zero-copy). Memory: one group plus one input batch.
    """
    group: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        while batch.num_rows:
            take = min(size - rows, batch.num_rows)
            group.append(batch.slice(0, take))
            rows += take
            batch = batch.slice(take)
            if rows == size:
                yield pa.Table.from_batches(group, schema)
                group, rows = [], 0
    if group:
        yield pa.Table.from_batches(group, schema)


class _PartFiles:
    """The data files of one attempt, a new one every `rows_per_file` rows."""

    def __init__(
        self,
        lake: Lake,
        ref: PartitionRef,
        attempt: str,
        schema: pa.Schema,
        rows_per_file: int,
        encodings: Encodings = DEFAULT_ENCODINGS,
    ) -> None:
        self._lake, self._ref, self._attempt, self._schema = lake, ref, attempt, schema
        self._rows_per_file = rows_per_file
        self._options = encodings.writer_options(schema, ref.uri)
        # One running hash over every file in order: the manifest's content_sha256.
        self._content = hashlib.sha256()
        self._done: list[DataFile] = []
        self._open: _PartFile | None = None
        ensure_dir(lake, ref.relative)

    def __enter__(self) -> _PartFiles:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        # On failure the half-written file is closed and left unlisted: the next commit removes it.
        if self._open is not None:
            self._open.close()

    @property
    def content_sha256(self) -> str:
        return self._content.hexdigest()

    def write(self, table: pa.Table) -> None:
        while table.num_rows:
            if self._open is not None and self._open.rows == self._rows_per_file:
                self._close_current()
            if self._open is None:
                self._open = self._next_file()
            take = min(self._rows_per_file - self._open.rows, table.num_rows)
            self._open.add(table.slice(0, take))
            table = table.slice(take)

    def adopt(self, part: ParquetAsIs) -> None:
        """Copy a finished Parquet file in as the next data file, unchanged, hashing it on the way."""
        where = f"partition {self._ref.uri}: {part.where or os.fspath(part.path)}"
        try:
            with pq.ParquetFile(part.path) as parquet:
                schema, rows = parquet.schema_arrow, parquet.metadata.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise LakeError(f"{where}: not a readable Parquet file ({exc})") from None
        if not schema.equals(self._schema):
            raise LakeError(f"{where}: has columns {_describe(schema)}, expected {_describe(self._schema)}")
        self._close_current()
        name = f"part-{self._attempt}-{len(self._done):05d}.parquet"
        digest, size = hashlib.sha256(), 0
        # Unlisted until the manifest names it, like any file of an attempt: a failed copy is garbage.
        with (
            open(part.path, "rb") as source,
            self._lake.filesystem.open_output_stream(self._lake.path(f"{self._ref.relative}/{name}")) as out,
        ):
            while chunk := source.read(_COPY_CHUNK):
                digest.update(chunk)
                self._content.update(chunk)
                out.write(chunk)
                size += len(chunk)
        self._done.append(DataFile(name=name, size=size, rows=rows, sha256=digest.hexdigest()))

    def finish(self) -> list[DataFile]:
        if self._open is None and not self._done:
            self._open = self._next_file()  # an empty partition still gets one empty file: it carries the schema
        self._close_current()
        return self._done

    def _next_file(self) -> _PartFile:
        name = f"part-{self._attempt}-{len(self._done):05d}.parquet"
        path = self._lake.path(f"{self._ref.relative}/{name}")
        return _PartFile(self._lake, path, name, self._schema, self._content, self._options)

    def _close_current(self) -> None:
        if self._open is not None:
            self._done.append(self._open.close())
            self._open = None


class _PartFile:
    """One parquet file, hashed while its bytes go out, so checksums cost no second read.

    It is the file object the ParquetWriter writes to (write/tell/flush/closed) and
    forwards the bytes to the filesystem's output stream.
    """

    def __init__(
        self, lake: Lake, path: str, name: str, schema: pa.Schema, content: Any, options: dict[str, Any]
    ) -> None:
        self.name, self.rows, self.size, self.closed = name, 0, 0, False
        self._sha256, self._content = hashlib.sha256(), content
        self._stream = lake.filesystem.open_output_stream(path)
        self._writer = pq.ParquetWriter(self, schema, compression=COMPRESSION, **options)

    def write(self, data: bytes) -> int:
        self._sha256.update(data)
        self._content.update(data)
        self.size += len(data)
        return self._stream.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._stream.flush()

    def add(self, table: pa.Table) -> None:
        self._writer.write_table(table, row_group_size=table.num_rows or None)
        self.rows += table.num_rows

    def close(self) -> DataFile:
        if not self.closed:
            self._writer.close()
            self._stream.close()
            self.closed = True
        return DataFile(name=self.name, size=self.size, rows=self.rows, sha256=self._sha256.hexdigest())
