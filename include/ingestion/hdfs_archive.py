"""Monthly transaction archives on HDFS (over WebHDFS) into the raw lake zone.

The archive holds one folder per month, `<root>/year=YYYY/month=MM/`, of Parquet files.
Landing a month downloads each file to local scratch space, checks the bytes received
against the size the NameNode reports, streams it into the lake in Arrow batches, and
publishes `raw/archive/transactions/ds=YYYY-MM-01` with a manifest that records every
HDFS path, size and modification time read.

Only `*.parquet` files not starting with `.` or `_` are data: in-flight uploads
(`hdfs dfs -put` writes `x.parquet._COPYING_` and renames it when done), `_SUCCESS`
markers and hidden staging files are never read, so a partial upload is never
published. A data file that is not valid Parquet, or shorter than reported, fails the run.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from include import lake as lk

log = logging.getLogger(__name__)

ARCHIVE_ROOT = "/data/archive/transactions"


class ArchiveError(RuntimeError):
    """The month's archive is missing or broken; the message names the HDFS path."""


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


def _batches(client: Any, files: list[ArchiveFile], scratch: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    for file in files:
        local = scratch / Path(file.path).name
        client.download(file.path, str(local), overwrite=True)
        received = local.stat().st_size
        if received != file.length:
            raise ArchiveError(f"{file.path}: received {received} bytes, the NameNode reports {file.length}")
        try:
            yield from pq.ParquetFile(local).iter_batches(batch_size=65_536)
        except (pa.ArrowInvalid, OSError) as exc:
            raise ArchiveError(f"{file.path}: not a readable Parquet file: {exc}") from exc
        local.unlink()


def land_archive_month(lake: lk.Lake, client: Any, month: date, *, written_by: dict, root: str = ARCHIVE_ROOT) -> dict:
    """Land one archive month into raw/archive/transactions/ds=<first day of the month>."""
    month = month.replace(day=1)
    files = list_month(client, root, month)
    ref = lake.partition("raw", "archive", "transactions", ds=month)
    position = {
        "source": "hdfs",
        "files": [{"path": f.path, "length": f.length, "modification_time": f.modification_time} for f in files],
    }
    with tempfile.TemporaryDirectory(prefix="hdfs-archive-") as scratch:
        manifest = lk.write_partition(
            lake, ref, _batches(client, files, Path(scratch)), source_position=position, written_by=written_by
        )
    log.info(
        "HDFS %s: %d files, %d rows published to %s", month_folder(root, month), len(files), manifest.row_count, ref.uri
    )
    return {"partition_uri": ref.uri, "rows": manifest.row_count, "files": len(files)}
