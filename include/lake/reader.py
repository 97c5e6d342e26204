"""Reading partitions: only committed ones, and only the files their manifest lists.

Whatever else lies in a partition directory (files of a crashed attempt, of the
version being replaced) is invisible here, and a directory without `_manifest.json`
is no partition at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from include.lake.errors import LakeError, PartitionCorruptError, PartitionNotFoundError
from include.lake.manifest import MANIFEST_NAME, Manifest
from include.lake.store import Lake, PartitionRef, check_ref, get_bytes, list_files

BATCH_SIZE = 64 * 1024
_HASH_CHUNK = 1 << 20
_COMMITTED = re.compile(r"ds=(\d{4}-\d{2}-\d{2})/" + re.escape(MANIFEST_NAME))


def read_manifest(lake: Lake, ref: PartitionRef) -> Manifest | None:
    """The committed manifest, or None when the partition does not exist (for readers)."""
    check_ref(lake, ref)
    data = get_bytes(lake, f"{ref.relative}/{MANIFEST_NAME}")
    return None if data is None else Manifest.from_json(data, where=f"{ref.uri}/{MANIFEST_NAME}")


def require_manifest(lake: Lake, ref: PartitionRef) -> Manifest:
    manifest = read_manifest(lake, ref)
    if manifest is None:
        raise PartitionNotFoundError(
            f"partition {ref.uri}: no {MANIFEST_NAME}, so it was never committed "
            "(or its writer stopped before the commit); expected a completed write first"
        )
    return manifest


def partition_exists(lake: Lake, ref: PartitionRef) -> bool:
    check_ref(lake, ref)
    info = lake.filesystem.get_file_info(lake.path(f"{ref.relative}/{MANIFEST_NAME}"))
    return info.type == pafs.FileType.File


def data_file_uris(lake: Lake, ref: PartitionRef) -> list[str]:
    """The URIs of the committed data files, for engines that read paths (Spark): never the directory."""
    return [f"{ref.uri}/{name}" for name in require_manifest(lake, ref).file_names]


def read_partition(lake: Lake, ref: PartitionRef, columns: Sequence[str] | None = None) -> pa.Table:
    """The whole partition (or some columns) in memory; see `iter_batches` for large ones."""
    manifest = require_manifest(lake, ref)
    _check_columns(ref, manifest, columns)
    tables = []
    for name in manifest.file_names:
        with _open(lake, ref, name) as parquet:
            tables.append(parquet.read(columns=columns))
    return pa.concat_tables(tables)


def iter_batches(
    lake: Lake, ref: PartitionRef, columns: Sequence[str] | None = None, batch_size: int = BATCH_SIZE
) -> Iterator[pa.RecordBatch]:
    """The partition as a stream of batches of at most `batch_size` rows, one file open at a time.

    The manifest is read now, not at the first `next()`, so a missing partition fails here.
    """
    manifest = require_manifest(lake, ref)
    _check_columns(ref, manifest, columns)

    def batches() -> Iterator[pa.RecordBatch]:
        for name in manifest.file_names:
            with _open(lake, ref, name) as parquet:
                yield from parquet.iter_batches(batch_size=batch_size, columns=columns)

    return batches()


def list_partitions(lake: Lake, zone: str, *parts: str) -> list[date]:
    """The days of a dataset that have a committed partition, oldest first."""
    dataset = lake.dataset(zone, *parts)
    base = lake.path(dataset) + "/"
    days = set()
    for info in list_files(lake, dataset, recursive=True):
        match = _COMMITTED.fullmatch(info.path.removeprefix(base))
        if match:
            days.add(date.fromisoformat(match.group(1)))
    return sorted(days)


def verify_partition(lake: Lake, ref: PartitionRef) -> Manifest:
    """Check every listed file's presence, size and sha256 against the manifest; returns it.

    Reads all the bytes once (streamed): meant for validation and debugging, not for
    every read.
    """
    manifest = require_manifest(lake, ref)
    content = hashlib.sha256()
    for expected in manifest.files:
        path = lake.path(f"{ref.relative}/{expected.name}")
        where = f"partition {ref.uri}: {expected.name}"
        info = lake.filesystem.get_file_info(path)
        if info.type != pafs.FileType.File:
            raise PartitionCorruptError(f"{where} is listed in the manifest but missing")
        if info.size != expected.size:
            raise PartitionCorruptError(f"{where} is {info.size} bytes, the manifest says {expected.size}")
        file_digest = hashlib.sha256()
        _hash(lake, path, file_digest, content)
        actual = file_digest.hexdigest()
        if actual != expected.sha256:
            raise PartitionCorruptError(f"{where} has sha256 {actual[:12]}…, the manifest says {expected.sha256[:12]}…")
    if content.hexdigest() != manifest.content_sha256:
        raise PartitionCorruptError(
            f"partition {ref.uri}: content sha256 {content.hexdigest()[:12]}…, "
            f"the manifest says {manifest.content_sha256[:12]}…"
        )
    return manifest


def _hash(lake: Lake, path: str, *digests: Any) -> None:
    with lake.filesystem.open_input_stream(path) as stream:
        while chunk := stream.read(_HASH_CHUNK):
            for digest in digests:
                digest.update(chunk)


@contextlib.contextmanager
def _open(lake: Lake, ref: PartitionRef, name: str) -> Iterator[pq.ParquetFile]:
    try:
        source = lake.filesystem.open_input_file(lake.path(f"{ref.relative}/{name}"))
    except FileNotFoundError:
        raise PartitionCorruptError(
            f"partition {ref.uri}: {name} is listed in the manifest but missing "
            "(if the partition was being rewritten just now, read it again)"
        ) from None
    with source:
        yield pq.ParquetFile(source)


def _check_columns(ref: PartitionRef, manifest: Manifest, columns: Sequence[str] | None) -> None:
    names = [field["name"] for field in manifest.schema]
    unknown = [c for c in columns or () if c not in names]
    if unknown:
        raise LakeError(f"partition {ref.uri}: no column(s) {unknown}, it has {names}")
