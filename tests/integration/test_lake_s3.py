"""The lake on S3 (the local S3 server): every commit-protocol test of
tests/unit/lake/test_partition_protocol.py, run again here against a fresh
`s3://lake/tests-<uuid>` root, plus what the bucket itself ends up holding."""

import contextlib
import hashlib
import uuid

import pytest

from include.lake import move_partition, write_partition
from tests.unit.lake import test_partition_protocol as protocol

pytestmark = pytest.mark.integration

# Collected in this module, the protocol tests get this module's `lake` fixture: same tests, S3 root.
globals().update({name: test for name, test in vars(protocol).items() if name.startswith("test_")})


def s3_client(settings):
    conn = settings.connections["lake_s3"]
    return conn.s3_client()


def keys_under(settings, prefix: str) -> list[str]:
    pages = s3_client(settings).get_paginator("list_objects_v2").paginate(Bucket="lake", Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def objects_under(settings, prefix: str) -> list[str]:
    """The keys that are objects, not the empty `folder/` markers pyarrow leaves when it deletes a
    folder's files (it keeps the parent "directory" existing); readers list files and skip them."""
    return [key for key in keys_under(settings, prefix) if not key.endswith("/")]


@pytest.fixture
def lake(stack, settings):
    lake = settings.lake(f"s3://lake/tests-{uuid.uuid4().hex}")
    yield lake
    with contextlib.suppress(FileNotFoundError):
        lake.filesystem.delete_dir(lake.root)
    assert keys_under(settings, lake.root.removeprefix("lake/") + "/") == []


def test_the_bucket_holds_exactly_the_manifest_and_its_files_after_a_rewrite(lake, settings):
    ref = protocol.raw(lake)
    protocol.write(lake, ref, protocol.accounts(10), rows_per_file=3)
    manifest = protocol.write(lake, ref, protocol.accounts(10), rows_per_file=4)
    prefix = f"{lake.root.removeprefix('lake/')}/{ref.relative}/"
    assert objects_under(settings, prefix) == sorted(prefix + n for n in ["_manifest.json", *manifest.file_names])


def test_a_move_leaves_no_object_behind_at_the_source(lake, settings):
    src = protocol.raw(lake)
    dst = lake.partition("quarantine", "core", "accounts", ds=protocol.DS)
    write_partition(lake, src, protocol.accounts(5), source_position={}, written_by={})
    move_partition(lake, src, dst, {"check": "row_count"})
    root = lake.root.removeprefix("lake/")
    assert objects_under(settings, f"{root}/{src.relative}") == []
    assert len(objects_under(settings, f"{root}/{dst.relative}/")) == 3  # manifest, reason, one data file


def test_the_manifest_is_published_by_a_single_put(lake, settings):
    ref = protocol.raw(lake)
    manifest = protocol.write(lake, ref, protocol.accounts(10))
    key = f"{lake.root.removeprefix('lake/')}/{ref.relative}/_manifest.json"
    head = s3_client(settings).head_object(Bucket="lake", Key=key)
    # A multipart upload's ETag ends in "-<parts>"; a single PutObject's is the MD5 of the body.
    assert head["ETag"].strip('"') == hashlib.md5(manifest.to_json().encode(), usedforsecurity=False).hexdigest()
