"""The archive landing computes HDFS's FileChecksum the way the cluster reports it.

What a real NameNode reports, for one and many blocks, CRC32C and CRC32, is checked in
tests/integration/test_hdfs.py; these are the cases that need no cluster.
"""

import io

import pytest

from include.ingestion.hdfs_archive import ArchiveError, hdfs_file_checksum, reported_checksum

# Every Hadoop cluster reports this for an empty file: no blocks, the MD5 of 32 zero bytes.
EMPTY = "00000000000000000000000070bc8f4b72a86921468bf8e8441dce51"


@pytest.mark.parametrize("crc", ["CRC32", "CRC32C"])
def test_empty_file_gives_hadoops_well_known_checksum(crc):
    assert hdfs_file_checksum(io.BytesIO(b""), f"MD5-of-0MD5-of-0{crc}") == EMPTY


def test_one_changed_byte_changes_the_checksum():
    data = bytearray(b"x" * 2000)
    before = hdfs_file_checksum(io.BytesIO(bytes(data)), "MD5-of-0MD5-of-512CRC32C")
    data[1500] ^= 1
    assert hdfs_file_checksum(io.BytesIO(bytes(data)), "MD5-of-0MD5-of-512CRC32C") != before


def test_unknown_algorithm_is_refused_by_name():
    with pytest.raises(ArchiveError, match="unsupported HDFS checksum algorithm 'COMPOSITE-CRC32C'"):
        hdfs_file_checksum(io.BytesIO(b"x"), "COMPOSITE-CRC32C")


def test_reported_checksum_drops_the_buffer_padding_of_the_namenodes_answer():
    # As a Hadoop 3.5 NameNode answers GETFILECHECKSUM: 32 bytes of buffer for 28 of checksum.
    answer = {
        "algorithm": "MD5-of-0MD5-of-512CRC32C",
        "bytes": "000002000000000000000000f76798d69e7e6e2af5bfd9d74eeb983400000000",  # pragma: allowlist secret
        "length": 28,
    }
    reported = reported_checksum(answer)
    assert len(reported) == 2 * answer["length"] and answer["bytes"].startswith(reported)
    assert reported_checksum({k: v for k, v in answer.items() if k != "length"}) == answer["bytes"]
