"""Copying, moving and deleting committed partitions (raw -> validated, raw -> quarantine).

A copy is a write like any other (see `writer`): the listed files are copied under a
new attempt's names (server-side on S3), then the destination manifest is committed.
A move is a copy followed by deleting the source, manifest first: the source stops
existing for readers in one step, and its files go after. Killed between the two, a
move leaves the data in both places, both complete; its retry finishes the job.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

from include.lake.errors import LakeError, PartitionCorruptError, PartitionNotFoundError
from include.lake.manifest import MANIFEST_NAME, REASON_NAME, Manifest, new_attempt_id, utc_now
from include.lake.reader import partition_exists, read_manifest, require_manifest
from include.lake.store import Lake, PartitionRef, check_ref, ensure_dir, write_json
from include.lake.writer import commit


def copy_partition(
    lake: Lake,
    src: PartitionRef,
    dst: PartitionRef,
    *,
    written_by: dict[str, Any] | None = None,
    reason: dict[str, Any] | None = None,
) -> Manifest:
    """Publish the committed content of `src` as `dst` (replacing it); returns dst's manifest.

    The bytes, row counts, schema, checksums, `source_position` and `code_version`
    describe the data and are kept; `written_by`/`written_at` describe this copy, and
    `extra["copied_from"]` records where it came from. A `reason` is written to
    `dst/_reason.json` before the commit, so a committed quarantine always has its reason.
    """
    check_ref(lake, dst)
    return _copy(lake, src, require_manifest(lake, src), dst, written_by or {}, reason)


def move_partition(
    lake: Lake,
    src: PartitionRef,
    dst: PartitionRef,
    reason: dict[str, Any] | None = None,
    *,
    written_by: dict[str, Any] | None = None,
) -> Manifest:
    """Copy `src` to `dst` (with `_reason.json` when a reason is given), then delete `src`.

    Idempotent: when `src` is gone but `dst` records that it was copied from `src`, an
    earlier try got past the commit; this one only finishes removing `src`'s files.
    """
    check_ref(lake, dst)
    source = read_manifest(lake, src)
    if source is None:
        moved = read_manifest(lake, dst)
        if moved is None or moved.extra.get("copied_from", {}).get("partition") != src.relative:
            raise PartitionNotFoundError(
                f"partition {src.uri}: no {MANIFEST_NAME} and {dst.uri} was not copied from it: nothing to move"
            )
        delete_partition(lake, src)
        return moved
    manifest = _copy(lake, src, source, dst, written_by or {}, reason)
    delete_partition(lake, src)
    return manifest


def delete_partition(lake: Lake, ref: PartitionRef) -> bool:
    """Un-commit `ref` (manifest first, so readers never see it half-deleted), then remove its files.

    Returns whether a committed partition was there.
    """
    check_ref(lake, ref)
    path = lake.path(ref.relative)
    existed = partition_exists(lake, ref)
    if existed:
        lake.filesystem.delete_file(f"{path}/{MANIFEST_NAME}")
    with contextlib.suppress(FileNotFoundError):  # nothing was left to remove
        lake.filesystem.delete_dir(path)
    return existed


def _copy(
    lake: Lake,
    src: PartitionRef,
    source: Manifest,
    dst: PartitionRef,
    written_by: dict[str, Any],
    reason: dict[str, Any] | None,
) -> Manifest:
    if src == dst:
        raise LakeError(f"partition {src.uri}: source and destination are the same partition")
    attempt = new_attempt_id()
    ensure_dir(lake, dst.relative)
    files = []
    for index, data_file in enumerate(source.files):
        name = f"part-{attempt}-{index:05d}.parquet"
        try:
            lake.filesystem.copy_file(
                lake.path(f"{src.relative}/{data_file.name}"), lake.path(f"{dst.relative}/{name}")
            )
        except FileNotFoundError:
            raise PartitionCorruptError(
                f"partition {src.uri}: {data_file.name} is listed in the manifest but missing; "
                f"{dst.uri} was left as it was"
            ) from None
        files.append(replace(data_file, name=name))
    if reason is not None:
        write_json(lake, f"{dst.relative}/{REASON_NAME}", reason)
    copied_from = {
        "partition": src.relative,
        "attempt": source.attempt,
        "written_by": source.written_by,
        "written_at": source.written_at,
    }
    manifest = replace(
        source,
        partition=dst.relative,
        attempt=attempt,
        files=files,
        written_by=written_by,
        written_at=utc_now(),
        extra={**source.extra, "copied_from": copied_from},
    )
    commit(lake, dst, manifest, keep=[REASON_NAME] if reason is not None else [])
    return manifest
