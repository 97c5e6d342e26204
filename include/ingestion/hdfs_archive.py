"""Monthly transaction archives on HDFS (over WebHDFS) into the raw lake zone.

The archive holds one folder per month, `<root>/year=YYYY/month=MM/`, of Parquet files.
Landing a month downloads each file to local scratch space, checks the bytes received
against the size the NameNode reports and against HDFS's own file checksum
(GETFILECHECKSUM: MD5 of the per-block MD5s of the CRCs of each 512-byte chunk, CRC32C on
a default cluster, CRC32 where `dfs.checksum.type` says so), puts it into the lake, and
publishes `raw/archive/transactions/ds=YYYY-MM-01` with a manifest that records every HDFS
path, size, modification time and checksum read. A mismatch fails the run naming the
file, and nothing is published.

Into the lake: a verified file whose Parquet schema is the archive contract
(`ARCHIVE_SCHEMA`, the transaction event as Kafka carries it) is published as it is, its
bytes copied under the attempt's name (`lk.ParquetAsIs`, row count from its footer): the
archive is already Parquet of the right columns, and decoding and re-encoding it was
about 60% of the landing for nothing. Its row groups and compression stay the archive
writer's. A file of another schema, or any file of a month whose first file is not the
contract, goes through the conversion it always did: decoded in Arrow batches, cast to
the first file's schema, re-encoded. The next file downloads (one thread) while the
current one is published. An as-is file is checked only as far as its footer and the
byte ranges of its column chunks: a page corrupted inside an intact layout, which
HDFS's checksum cannot see either (those are the bytes that were written), surfaces
at the first full read (the quality gate), not here.

Only `*.parquet` files not starting with `.` or `_` are data: in-flight uploads
(`hdfs dfs -put` writes `x.parquet._COPYING_` and renames it when done), `_SUCCESS`
markers and hidden staging files are never read, so a partial upload is never
published. A data file that is not valid Parquet, or shorter than reported, fails the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import struct
import tempfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from include import lake as lk
from include.ingestion.kafka import EVENT_SCHEMA

log = logging.getLogger(__name__)

ARCHIVE_ROOT = "/data/archive/transactions"
# The archive's contract: the transaction event as Kafka carries it (the seed archives the
# same). Files of exactly these columns are published without re-encoding.
ARCHIVE_SCHEMA = EVENT_SCHEMA


class ArchiveError(RuntimeError):
    """The month's archive is missing or broken; the message names the HDFS path."""


class UnreadableArchiveError(ArchiveError):
    """A file arrived whole (size and checksum match) but is not Parquet: a bad delivery for the quality gate."""


@dataclass(frozen=True)
class ArchiveFile:
    path: str
    length: int
    modification_time: int  # ms since the epoch, as WebHDFS reports it


def month_folder(root: str, month: date) -> str:
    return f"{root.rstrip('/')}/year={month.year:04d}/month={month.month:02d}"


def list_month(client: Any, root: str, month: date) -> list[ArchiveFile]:
    """The month's data files, as the NameNode lists them."""
    from hdfs.util import HdfsError

    folder = month_folder(root, month)
    try:
        entries = client.list(folder, status=True)
    except HdfsError as exc:
        raise ArchiveError(f"HDFS archive for {month:%Y-%m} is missing: {folder}: {exc}") from exc
    files = [
        ArchiveFile(f"{folder}/{name}", status["length"], status["modificationTime"])
        for name, status in entries
        if status["type"] == "FILE" and name.endswith(".parquet") and not name.startswith((".", "_"))
    ]
    if not files:
        raise ArchiveError(f"HDFS archive for {month:%Y-%m} has no data files in {folder}")
    return sorted(files, key=lambda f: f.path)


_ALGORITHM = re.compile(r"MD5-of-(\d+)MD5-of-(\d+)(CRC32C?)")


def hdfs_file_checksum(f: BinaryIO, algorithm: str) -> str:
    """The hex `bytes` of HDFS's FileChecksum for the file's content, computed locally.

    `algorithm` is what the NameNode reported (`MD5-of-<crcs per block>MD5-of-<bytes per
    CRC><CRC32|CRC32C>`); its parameters say how the DataNodes chunked and blocked the
    file. As the DFSClient does, the file MD5 hashes the block MD5s zero-padded to the
    backing buffer's size (32 bytes, doubling).
    """
    match = _ALGORITHM.fullmatch(algorithm)
    if match is None:
        raise ArchiveError(f"unsupported HDFS checksum algorithm {algorithm!r}, expected MD5-of-MD5-of-CRC32(C)")
    crcs_per_block, bytes_per_crc, crc_type = int(match[1]), int(match[2]), match[3]
    crc = _crc32c if crc_type == "CRC32C" else zlib.crc32
    block_bytes = crcs_per_block * bytes_per_crc or None  # 0 crcs per block: the file is one block
    digests: list[bytes] = []
    while bytes_per_crc:
        md5 = hashlib.md5(usedforsecurity=False)
        remaining = block_bytes
        crcs = 0
        while remaining is None or remaining > 0:
            chunk = f.read(bytes_per_crc if remaining is None else min(bytes_per_crc, remaining))
            if not chunk:
                break
            md5.update(struct.pack(">I", crc(chunk)))
            crcs += 1
            remaining = None if remaining is None else remaining - len(chunk)
        if not crcs:
            break
        digests.append(md5.digest())
    written = b"".join(digests)
    capacity = 32
    while capacity < len(written):
        capacity *= 2
    file_md5 = hashlib.md5(written.ljust(capacity, b"\0"), usedforsecurity=False).digest()
    return (struct.pack(">iq", bytes_per_crc, crcs_per_block) + file_md5).hex()


def reported_checksum(checksum: dict) -> str:
    """The hex of the FileChecksum GETFILECHECKSUM reports: its first `length` bytes.

    A NameNode sends `bytes` from the writer's buffer, padding included: 32 bytes (64 hex
    digits, four zero bytes at the end) for the 28 of an MD5-of-MD5-of-CRC checksum.
    """
    hex_bytes = checksum["bytes"]
    return hex_bytes[: 2 * checksum["length"]] if "length" in checksum else hex_bytes


def _crc32c(data: bytes) -> int:
    import google_crc32c

    return google_crc32c.value(data)


def _verify(file: ArchiveFile, local: Path, checksum: dict) -> None:
    received = local.stat().st_size
    if received != file.length:
        raise ArchiveError(f"{file.path}: received {received} bytes, the NameNode reports {file.length}")
    with local.open("rb") as f:
        computed = hdfs_file_checksum(f, checksum["algorithm"])
    reported = reported_checksum(checksum)
    if computed != reported:
        raise ArchiveError(
            f"{file.path}: checksum mismatch: the received bytes give {checksum['algorithm']} {computed},"
            f" HDFS reports {reported}"
        )


def _fetched(client: Any, files: list[ArchiveFile], checksums: dict[str, dict], scratch: Path) -> Iterator[Path]:
    """Each file downloaded and verified (size, checksum), in order; the next one downloads meanwhile."""

    def fetch(file: ArchiveFile) -> Path:
        local = scratch / Path(file.path).name
        client.download(file.path, str(local), overwrite=True)
        _verify(file, local, checksums[file.path])
        return local

    with ThreadPoolExecutor(1, thread_name_prefix="hdfs-archive-download") as pool:
        pending = pool.submit(fetch, files[0])
        try:
            for i in range(len(files)):
                local = pending.result()
                if i + 1 < len(files):
                    pending = pool.submit(fetch, files[i + 1])
                yield local
        finally:
            pending.cancel()  # a failed landing waits for at most the one download in flight


def _open_parquet(file: ArchiveFile, local: Path) -> Any:
    """The file's Parquet footer, its column chunks checked to lie inside the file."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(local)
        metadata = parquet.metadata
        end = file.length - 8 - metadata.serialized_size  # where the footer starts
        for g in range(metadata.num_row_groups):
            group = metadata.row_group(g)
            for c in range(group.num_columns):
                column = group.column(c)
                offsets = [o for o in (column.dictionary_page_offset, column.data_page_offset) if o is not None]
                first = min(offsets) if offsets else -1
                if first < 4 or first + column.total_compressed_size > end:
                    raise pa.ArrowInvalid(f"row group {g} column {column.path_in_schema} lies outside the data")
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableArchiveError(f"{file.path}: not a readable Parquet file: {exc}") from exc
    return parquet


def _parts(
    client: Any, files: list[ArchiveFile], checksums: dict[str, dict], scratch: Path
) -> tuple[pa.Schema, Iterator[Any]]:
    """The partition's schema (the first file's, as it always was) and the files as lake parts, lazily."""
    fetched = _fetched(client, files, checksums, scratch)
    first = next(fetched)
    try:
        schema = _open_parquet(files[0], first).schema_arrow
    except BaseException:
        fetched.close()
        raise
    as_is = schema.equals(ARCHIVE_SCHEMA)

    def parts() -> Iterator[Any]:
        try:
            for file, local in zip(files, chain([first], fetched), strict=True):
                parquet = _open_parquet(file, local)
                if as_is and parquet.schema_arrow.equals(ARCHIVE_SCHEMA):
                    yield lk.ParquetAsIs(local, where=file.path)
                else:
                    yield _batches(file, parquet)
                local.unlink()  # the lake has consumed the part before it asks for the next one
        finally:
            fetched.close()  # waits for a download in flight, before the scratch directory goes

    return schema, parts()


def _batches(file: ArchiveFile, parquet: Any) -> Iterator[pa.RecordBatch]:
    try:
        yield from parquet.iter_batches(batch_size=65_536)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableArchiveError(f"{file.path}: not a readable Parquet file: {exc}") from exc


def land_archive_month(lake: lk.Lake, client: Any, month: date, *, written_by: dict, root: str = ARCHIVE_ROOT) -> dict:
    """Land one archive month into raw/archive/transactions/ds=<first day of the month>."""
    month = month.replace(day=1)
    files = list_month(client, root, month)
    checksums = {f.path: client.checksum(f.path) for f in files}
    ref = lake.partition("raw", "archive", "transactions", ds=month)
    position = {
        "source": "hdfs",
        "files": [
            {
                "path": f.path,
                "length": f.length,
                "modification_time": f.modification_time,
                "checksum": {
                    "algorithm": checksums[f.path]["algorithm"],
                    "bytes": reported_checksum(checksums[f.path]),
                },
            }
            for f in files
        ],
    }
    with tempfile.TemporaryDirectory(prefix="hdfs-archive-") as scratch:
        schema, parts = _parts(client, files, checksums, Path(scratch))
        with contextlib.closing(parts):
            manifest = lk.write_partition_parts(
                lake, ref, parts, schema=schema, source_position=position, written_by=written_by
            )
    log.info(
        "HDFS %s: %d files, %d rows published to %s", month_folder(root, month), len(files), manifest.row_count, ref.uri
    )
    return {"partition_uri": ref.uri, "rows": manifest.row_count, "files": len(files)}
