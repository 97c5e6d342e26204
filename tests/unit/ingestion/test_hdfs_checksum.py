"""The archive landing computes HDFS's FileChecksum the way the cluster reports it."""

import io

import pytest

from devstack import webhdfs_double
from include.ingestion.hdfs_archive import ArchiveError, hdfs_file_checksum

# Every Hadoop cluster reports this for an empty file: no blocks, the MD5 of 32 zero bytes.
EMPTY = "00000000000000000000000070bc8f4b72a86921468bf8e8441dce51"


@pytest.mark.parametrize("crc", ["CRC32", "CRC32C"])
def test_empty_file_gives_hadoops_well_known_checksum(crc):
    assert hdfs_file_checksum(io.BytesIO(b""), f"MD5-of-0MD5-of-0{crc}") == EMPTY


@pytest.mark.parametrize("size", [1, 511, 512, 513, 5000, 70_000])
@pytest.mark.parametrize("block_size", [1024, 128 * 1024 * 1024])
def test_matches_the_webhdfs_double_for_one_and_many_blocks(monkeypatch, size, block_size):
    monkeypatch.setattr(webhdfs_double, "BLOCK_SIZE", block_size)
    monkeypatch.setattr(webhdfs_double, "COPY_CHUNK", min(block_size, webhdfs_double.COPY_CHUNK))
    data = bytes((i * 7919) % 251 for i in range(size))
    reported = webhdfs_double.md5_md5_crc32(io.BytesIO(data))
    assert hdfs_file_checksum(io.BytesIO(data), reported["algorithm"]) == reported["bytes"]


def test_one_changed_byte_changes_the_checksum():
    data = bytearray(b"x" * 2000)
    before = hdfs_file_checksum(io.BytesIO(bytes(data)), "MD5-of-0MD5-of-512CRC32C")
    data[1500] ^= 1
    assert hdfs_file_checksum(io.BytesIO(bytes(data)), "MD5-of-0MD5-of-512CRC32C") != before


def test_unknown_algorithm_is_refused_by_name():
    with pytest.raises(ArchiveError, match="unsupported HDFS checksum algorithm 'COMPOSITE-CRC32C'"):
        hdfs_file_checksum(io.BytesIO(b"x"), "COMPOSITE-CRC32C")
