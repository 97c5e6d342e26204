"""The local HDFS is a real one (Hadoop 3.5 NameNode and DataNode, devstack/hdfs.py), and what
the archive landing relies on holds against it: the FileChecksum it computes is the one the
NameNode reports, and WebHDFS redirects to a DataNode on loopback. (A NameNode that is down:
tests/integration/test_ingestion_dags.py.)"""

import http.client
import io
import random
import uuid
from urllib.parse import urlsplit

import pytest

from devstack import hdfs
from include.ingestion.hdfs_archive import hdfs_file_checksum, reported_checksum

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


@pytest.fixture
def webhdfs(stack, settings):
    """(host, port, login) of the webhdfs_default connection."""
    conn = settings.connections["webhdfs_default"]
    return conn.host, conn.port, conn.login


@pytest.fixture
def client(webhdfs):
    import hdfs as hdfs_client

    host, port, login = webhdfs
    return hdfs_client.InsecureClient(f"http://{host}:{port}", user=login)


@pytest.fixture
def folder(client):
    """A folder of this test's own, removed afterwards."""
    path = f"/tests/hdfs-{uuid.uuid4().hex[:8]}"
    yield path
    client.delete(path, recursive=True)


def content(size: int) -> bytes:
    return random.Random(size).randbytes(size)  # noqa: S311 (test content, not a secret)


@pytest.mark.parametrize(
    ("size", "blocksize", "blocks"),
    [
        (1, None, 1),
        (511, None, 1),
        (512, None, 1),
        (513, None, 1),
        (70_000, None, 1),
        (MiB, MiB, 1),  # exactly one full block
        (MiB + 1, MiB, 2),  # a second block of one byte
        (3 * MiB + 700, MiB, 4),  # the smallest block size a NameNode allows (dfs.namenode.fs-limits.min-block-size)
    ],
)
def test_checksum_matches_what_the_namenode_reports_for_one_and_many_blocks(client, folder, size, blocksize, blocks):
    data, path = content(size), f"{folder}/f-{size}.bin"
    client.write(path, data=data, blocksize=blocksize)
    reported = client.checksum(path)
    # A one-block file reports 0 CRCs per block; with more, a block's CRC count.
    assert reported["algorithm"] == f"MD5-of-{0 if blocks == 1 else blocksize // 512}MD5-of-512CRC32C"
    assert client.status(path)["blockSize"] == (blocksize or 128 * MiB)
    assert hdfs_file_checksum(io.BytesIO(data), reported["algorithm"]) == reported_checksum(reported)


@pytest.mark.parametrize(("crc", "bytes_per_checksum"), [("CRC32", 512), ("CRC32C", 4096)])
def test_checksum_matches_for_files_written_with_crc32_or_other_chunk_sizes(
    webhdfs, client, folder, tmp_path, crc, bytes_per_checksum
):
    # The checksum type and chunk size are the writer's settings: Hadoop's own shell writes here
    # (a WebHDFS upload's writer is the DataNode, with the cluster's CRC32C over 512 bytes).
    host, port, login = webhdfs
    sizes = [700, 2 * MiB + 5000]
    for size in sizes:
        (tmp_path / f"f-{size}.bin").write_bytes(content(size))
    client.makedirs(folder)
    hdfs.shell(
        host,
        port,
        "-D",
        f"dfs.checksum.type={crc}",
        "-D",
        f"dfs.bytes-per-checksum={bytes_per_checksum}",
        "-D",
        f"dfs.blocksize={MiB}",
        "-put",
        *(str(tmp_path / f"f-{size}.bin") for size in sizes),
        folder,
        user=login,
    )
    for size, crcs_per_block in zip(sizes, [0, MiB // bytes_per_checksum], strict=True):
        reported = client.checksum(f"{folder}/f-{size}.bin")
        assert reported["algorithm"] == f"MD5-of-{crcs_per_block}MD5-of-{bytes_per_checksum}{crc}"
        assert hdfs_file_checksum(io.BytesIO(content(size)), reported["algorithm"]) == reported_checksum(reported)


def test_webhdfs_redirects_reads_and_writes_to_the_datanode_on_loopback(webhdfs, client, folder):
    host, port, login = webhdfs
    datanode = f"127.0.0.1:{hdfs.Ports.around(port).datanode_http}"
    namenode = http.client.HTTPConnection(host, port, timeout=10)
    namenode.request("PUT", f"/webhdfs/v1{folder}/r.txt?op=CREATE&user.name={login}")
    create = namenode.getresponse()
    create.read()
    assert create.status == 307
    assert urlsplit(create.headers["Location"]).netloc == datanode
    client.write(f"{folder}/r.txt", data=b"payload")
    namenode.request("GET", f"/webhdfs/v1{folder}/r.txt?op=OPEN&user.name={login}")
    opened = namenode.getresponse()
    opened.read()
    assert opened.status == 307
    assert urlsplit(opened.headers["Location"]).netloc == datanode
    namenode.close()
    with client.read(f"{folder}/r.txt") as reader:
        assert reader.read() == b"payload"
    assert client.status(f"{folder}/r.txt")["owner"] == login
