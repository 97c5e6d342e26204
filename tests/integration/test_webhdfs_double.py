"""The WebHDFS test double speaks WebHDFS well enough for the real clients.

Each test starts a `WebHdfsDouble` on a free port over a fresh directory and drives it
through the `hdfs` package's InsecureClient (what Airflow's WebHDFSHook uses), through
the raw HTTP protocol (redirects not followed), or through the hook itself.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hdfs import HdfsError, InsecureClient

from devstack.webhdfs_double import WebHdfsDouble

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def webhdfs(tmp_path: Path) -> Iterator[WebHdfsDouble]:
    with WebHdfsDouble(tmp_path / "hdfs") as double:
        yield double


@pytest.fixture
def client(webhdfs: WebHdfsDouble) -> InsecureClient:
    return InsecureClient(webhdfs.url, user="airflow")


def read(client: InsecureClient, path: str, **kwargs: Any) -> bytes:
    with client.read(path, **kwargs) as reader:
        return reader.read()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw(webhdfs: WebHdfsDouble, method: str, target: str, body: bytes | None = None) -> Reply:
    """One request exactly as given, redirects not followed."""
    connection = http.client.HTTPConnection(webhdfs.host, webhdfs.port, timeout=10)
    try:
        connection.request(method, target, body=body)
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def remote_exception(reply: Reply) -> dict[str, str]:
    assert reply.headers["Content-Type"] == "application/json"
    return reply.json()["RemoteException"]


# -- through hdfs.InsecureClient ----------------------------------------------------------------


def test_write_then_read_returns_the_same_bytes(client: InsecureClient) -> None:
    client.write("/lake/raw/part-0000.csv", data=b"id,amount\n1,10\n")

    assert read(client, "/lake/raw/part-0000.csv") == b"id,amount\n1,10\n"


def test_write_streams_a_generator_and_a_writer_context(client: InsecureClient) -> None:
    client.write("/gen.bin", data=(bytes([i]) * 70_000 for i in range(3)))  # sent chunked
    with client.write("/ctx.txt", encoding="utf-8") as writer:
        writer.write("written through AsyncWriter")

    assert read(client, "/gen.bin") == b"\x00" * 70_000 + b"\x01" * 70_000 + b"\x02" * 70_000
    assert read(client, "/ctx.txt") == b"written through AsyncWriter"


def test_upload_of_a_local_file_then_download_round_trips(client: InsecureClient, tmp_path: Path) -> None:
    local = tmp_path / "model.pkl"
    local.write_bytes(os.urandom(300_000))

    assert client.upload("/models/v1/model.pkl", str(local)) == "/models/v1/model.pkl"
    downloaded = client.download("/models/v1/model.pkl", str(tmp_path / "back.pkl"))

    assert Path(downloaded).read_bytes() == local.read_bytes()


def test_upload_with_overwrite_replaces_an_existing_file(client: InsecureClient, tmp_path: Path) -> None:
    # What WebHDFSHook.load_file does on a re-run: upload beside, delete, rename into place.
    local = tmp_path / "daily.csv"
    local.write_text("v1")
    client.upload("/lake/daily.csv", str(local))
    local.write_text("v2")

    with pytest.raises(HdfsError, match="already exists"):
        client.upload("/lake/daily.csv", str(local))
    client.upload("/lake/daily.csv", str(local), overwrite=True)

    assert read(client, "/lake/daily.csv") == b"v2"
    assert client.list("/lake") == ["daily.csv"]


def test_upload_into_an_existing_directory_puts_the_file_inside(client: InsecureClient, tmp_path: Path) -> None:
    local = tmp_path / "features.parquet"
    local.write_bytes(b"PAR1")
    client.makedirs("/features")

    assert client.upload("/features", str(local)) == "/features/features.parquet"
    assert client.list("/features") == ["features.parquet"]


def test_upload_of_a_local_directory_uploads_every_file(client: InsecureClient, tmp_path: Path) -> None:
    (tmp_path / "batch" / "day=1").mkdir(parents=True)
    (tmp_path / "batch" / "day=1" / "a.csv").write_text("a")
    (tmp_path / "batch" / "b.csv").write_text("b")

    client.upload("/landing", str(tmp_path / "batch"), n_threads=2)

    assert sorted(client.list("/landing")) == ["b.csv", "day=1"]
    assert read(client, "/landing/day=1/a.csv") == b"a"


def test_read_honours_offset_and_length(client: InsecureClient) -> None:
    client.write("/digits.txt", data=b"0123456789")

    assert read(client, "/digits.txt", offset=3, length=4) == b"3456"
    assert read(client, "/digits.txt", offset=7) == b"789"
    assert read(client, "/digits.txt", length=2) == b"01"
    assert read(client, "/digits.txt", offset=8, length=100) == b"89"


def test_read_at_an_offset_past_the_end_raises(client: InsecureClient) -> None:
    client.write("/digits.txt", data=b"0123456789")

    with pytest.raises(HdfsError, match=r"Offset=10 out of the range \[0, 10\)"):
        read(client, "/digits.txt", offset=10)


def test_read_of_a_missing_file_raises_not_found(client: InsecureClient) -> None:
    # The NameNode's OPEN words it "not found", unlike GETFILESTATUS's "does not exist".
    with pytest.raises(HdfsError, match=re.escape("File /nowhere.csv not found.")) as raised:
        read(client, "/nowhere.csv")
    assert raised.value.exception == "FileNotFoundException"


def test_list_names_children_in_order_with_their_status(client: InsecureClient) -> None:
    client.write("/d/b.txt", data=b"bb")
    client.write("/d/a.txt", data=b"a")
    client.makedirs("/d/sub")

    assert client.list("/d") == ["a.txt", "b.txt", "sub"]
    statuses = dict(client.list("/d", status=True))
    assert statuses["b.txt"]["length"] == 2
    assert statuses["b.txt"]["pathSuffix"] == "b.txt"
    assert statuses["sub"]["type"] == "DIRECTORY"


def test_list_of_a_file_raises_not_a_directory(client: InsecureClient) -> None:
    client.write("/file.txt", data=b"x")

    with pytest.raises(HdfsError, match="is not a directory"):
        client.list("/file.txt")


def test_status_reports_hdfs_file_status_fields(webhdfs: WebHdfsDouble, client: InsecureClient) -> None:
    client.write("/lake/f.csv", data=b"12345")

    status = client.status("/lake/f.csv")
    local = (webhdfs.root / "lake" / "f.csv").stat()

    assert status["type"] == "FILE"
    assert status["length"] == 5
    assert status["owner"] == "airflow"
    assert status["group"] == "supergroup"
    assert status["permission"] == "644"
    assert status["pathSuffix"] == ""
    assert status["blockSize"] == 128 * 1024 * 1024
    assert status["replication"] == 1
    assert status["childrenNum"] == 0
    assert status["fileId"] == local.st_ino
    assert status["modificationTime"] == local.st_mtime_ns // 1_000_000  # milliseconds, as in HDFS
    assert status["accessTime"] == local.st_atime_ns // 1_000_000


def test_status_of_a_directory_counts_children_and_has_no_blocks(client: InsecureClient) -> None:
    client.write("/d/one", data=b"1")
    client.write("/d/two", data=b"2")

    status = client.status("/d")

    assert status["type"] == "DIRECTORY"
    assert status["childrenNum"] == 2
    assert status["permission"] == "755"
    assert (status["length"], status["blockSize"], status["replication"], status["accessTime"]) == (0, 0, 0, 0)


def test_status_of_a_missing_path_raises_does_not_exist(client: InsecureClient) -> None:
    with pytest.raises(HdfsError, match="File does not exist: /missing") as raised:
        client.status("/missing")

    assert raised.value.exception == "FileNotFoundException"
    assert client.status("/missing", strict=False) is None


def test_content_summary_counts_directories_files_and_bytes(client: InsecureClient) -> None:
    client.write("/cs/a", data=b"abc")
    client.write("/cs/sub/b", data=b"de")
    client.makedirs("/cs/empty")

    assert client.content("/cs") == {
        "directoryCount": 3,  # /cs itself, sub and empty
        "fileCount": 2,
        "length": 5,
        "quota": -1,
        "spaceConsumed": 5,
        "spaceQuota": -1,
    }
    assert client.content("/cs/a")["fileCount"] == 1
    assert client.content("/nope", strict=False) is None


def test_home_directory_resolves_relative_paths(client: InsecureClient) -> None:
    client.write("notes.txt", data=b"relative")

    assert client.resolve("notes.txt") == "/user/airflow/notes.txt"
    assert client.list("/user/airflow") == ["notes.txt"]


def test_makedirs_creates_parents_and_is_idempotent(client: InsecureClient) -> None:
    client.makedirs("/a/b/c", permission="750")
    client.makedirs("/a/b/c")

    assert client.status("/a/b/c")["type"] == "DIRECTORY"
    assert client.status("/a/b/c")["permission"] == "750"
    assert client.status("/a")["permission"] == "750"  # implicit parents get u+wx on top: 750 | 300


def test_makedirs_over_a_file_raises(client: InsecureClient) -> None:
    client.write("/f", data=b"x")

    with pytest.raises(HdfsError, match="Path is not a directory: /f"):
        client.makedirs("/f")
    with pytest.raises(HdfsError, match=r"/f \(is not a directory\)"):
        client.makedirs("/f/sub")


def test_rename_moves_a_file(client: InsecureClient) -> None:
    client.write("/staging/out.csv", data=b"result")
    client.makedirs("/published")

    client.rename("/staging/out.csv", "/published/out-1.csv")

    assert client.status("/staging/out.csv", strict=False) is None
    assert read(client, "/published/out-1.csv") == b"result"


def test_rename_into_an_existing_directory_moves_inside_it(client: InsecureClient) -> None:
    client.write("/tmp/run-1/part-0", data=b"p0")
    client.makedirs("/archive")

    client.rename("/tmp/run-1", "/archive")

    assert client.list("/archive") == ["run-1"]
    assert read(client, "/archive/run-1/part-0") == b"p0"


def test_rename_onto_an_existing_file_raises_in_the_client(client: InsecureClient) -> None:
    # WebHDFS answers {"boolean": false}; the hdfs client turns that into an HdfsError.
    client.write("/src", data=b"new")
    client.write("/dst", data=b"old")

    with pytest.raises(HdfsError, match="Unable to rename '/src' to '/dst'"):
        client.rename("/src", "/dst")
    assert read(client, "/dst") == b"old"
    assert read(client, "/src") == b"new"


def test_rename_answers_false_not_an_error_when_it_cannot(webhdfs: WebHdfsDouble, client: InsecureClient) -> None:
    client.write("/src", data=b"new")
    client.write("/dst", data=b"old")

    onto_file = raw(webhdfs, "PUT", "/webhdfs/v1/src?op=RENAME&destination=/dst&user.name=airflow")
    missing_source = raw(webhdfs, "PUT", "/webhdfs/v1/nope?op=RENAME&destination=/x&user.name=airflow")
    missing_parent = raw(webhdfs, "PUT", "/webhdfs/v1/src?op=RENAME&destination=/no/such/dir&user.name=a")

    for response in (onto_file, missing_source, missing_parent):
        assert response.status == 200
        assert response.json() == {"boolean": False}


def test_rename_with_overwrite_option_replaces_the_destination(webhdfs: WebHdfsDouble, client: InsecureClient) -> None:
    client.write("/model/candidate", data=b"v2")
    client.write("/model/current", data=b"v1")

    # rename2, which the hdfs client has no method for: its raw endpoint passes the option through.
    client._rename("/model/candidate", destination="/model/current", renameoptions="OVERWRITE")

    assert read(client, "/model/current") == b"v2"
    assert client.list("/model") == ["current"]
    client.write("/model/other", data=b"v3")
    with pytest.raises(HdfsError, match="rename destination /model/current already exists"):
        client._rename("/model/other", destination="/model/current", renameoptions="NONE")


def test_delete_a_file_then_a_missing_one(client: InsecureClient) -> None:
    client.write("/gone.txt", data=b"x")

    assert client.delete("/gone.txt") is True
    assert client.delete("/gone.txt") is False


def test_delete_of_a_non_empty_directory_needs_recursive(client: InsecureClient) -> None:
    client.write("/dir/inner/file", data=b"x")

    with pytest.raises(HdfsError, match="is non empty") as raised:
        client.delete("/dir")
    assert raised.value.exception == "PathIsNotEmptyDirectoryException"

    assert client.delete("/dir", recursive=True) is True
    assert client.status("/dir", strict=False) is None


def test_delete_of_an_empty_directory_needs_no_recursive(client: InsecureClient) -> None:
    client.makedirs("/empty")

    assert client.delete("/empty") is True


def test_append_adds_bytes_to_the_end(client: InsecureClient) -> None:
    client.write("/log.txt", data=b"line 1\n")

    client.write("/log.txt", data=b"line 2\n", append=True)
    client.write("/log.txt", data=(c for c in [b"line ", b"3\n"]), append=True)

    assert read(client, "/log.txt") == b"line 1\nline 2\nline 3\n"


def test_append_to_a_missing_file_raises_not_found(client: InsecureClient) -> None:
    with pytest.raises(HdfsError, match=re.escape("File /log.txt not found.")) as raised:
        client.write("/log.txt", data=b"x", append=True)

    assert raised.value.exception == "FileNotFoundException"


def test_write_without_overwrite_on_an_existing_file_raises_naming_it(client: InsecureClient) -> None:
    client.write("/lake/once.csv", data=b"first")

    with pytest.raises(HdfsError, match=re.escape("/lake/once.csv for client 127.0.0.1 already exists")) as raised:
        client.write("/lake/once.csv", data=b"second")

    assert raised.value.exception == "FileAlreadyExistsException"
    assert read(client, "/lake/once.csv") == b"first"
    client.write("/lake/once.csv", data=b"second", overwrite=True)  # the session still works after the refusal
    assert read(client, "/lake/once.csv") == b"second"


def test_write_onto_a_directory_raises(client: InsecureClient) -> None:
    client.makedirs("/dir")

    with pytest.raises(HdfsError, match="/dir already exists as a directory"):
        client.write("/dir", data=b"x", overwrite=True)


def test_overwrite_is_atomic_for_readers(client: InsecureClient, webhdfs: WebHdfsDouble) -> None:
    size = 2_000_000
    client.write("/hot", data=b"a" * size)
    reader = InsecureClient(webhdfs.url, user="reader")
    seen: list[bytes] = []

    def keep_reading() -> None:
        for _ in range(15):
            seen.append(read(reader, "/hot"))

    thread = threading.Thread(target=keep_reading)
    thread.start()
    for fill in b"bcdefghij":
        client.write("/hot", data=bytes([fill]) * size, overwrite=True)
    thread.join()

    assert all(len(content) == size and len(set(content)) == 1 for content in seen)


def test_checksum_is_hdfs_md5_of_md5_of_crc32c(client: InsecureClient) -> None:
    client.write("/empty", data=b"")
    client.write("/data", data=b"x" * 1000)

    # An empty file's checksum is the same on every Hadoop cluster: this is it.
    assert client.checksum("/empty") == {
        "algorithm": "MD5-of-0MD5-of-0CRC32C",
        "bytes": "00000000000000000000000070bc8f4b72a86921468bf8e8441dce51",
        "length": 28,
    }
    checksum = client.checksum("/data")
    assert checksum["algorithm"] == "MD5-of-0MD5-of-512CRC32C"
    assert checksum["bytes"].startswith("00000200" + "0" * 16)
    assert checksum["length"] == 28


def test_permission_owner_and_times_are_stored_and_reported(client: InsecureClient) -> None:
    client.write("/f", data=b"x", permission="600")
    assert client.status("/f")["permission"] == "600"

    client.set_permission("/f", "640")
    client.set_owner("/f", owner="etl", group="analysts")
    client.set_times("/f", access_time=1_700_000_000_000, modification_time=1_700_000_001_000)

    status = client.status("/f")
    assert (status["permission"], status["owner"], status["group"]) == ("640", "etl", "analysts")
    assert (status["accessTime"], status["modificationTime"]) == (1_700_000_000_000, 1_700_000_001_000)


def test_create_applies_the_umask_and_inherits_the_parent_group(client: InsecureClient) -> None:
    client.makedirs("/team")
    client.set_owner("/team", group="analysts")

    client.write("/team/f", data=b"x", permission="777")

    assert client.status("/team/f")["permission"] == "755"
    assert client.status("/team/f")["group"] == "analysts"


def test_path_traversal_is_rejected(webhdfs: WebHdfsDouble, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside the root")
    targets = [
        "/webhdfs/v1/../secret.txt?op=GETFILESTATUS",
        "/webhdfs/v1/%2e%2e/secret.txt?op=OPEN",
        "/webhdfs/v1/a/%2E%2E/%2E%2E/secret.txt?op=GETFILESTATUS",
        "/webhdfs/v1/./secret.txt?op=LISTSTATUS",
    ]

    for target in targets:
        response = raw(webhdfs, "GET", target)
        assert response.status == 400, target
        assert remote_exception(response)["exception"] == "InvalidPathException"

    renamed = raw(webhdfs, "PUT", "/webhdfs/v1/x?op=RENAME&destination=/../escaped&user.name=a")
    assert renamed.status == 400
    assert "Invalid path name /../escaped" in remote_exception(renamed)["message"]
    created = raw(webhdfs, "PUT", "/webhdfs/v1/../../escaped?op=CREATE&datanode=true", body=b"x")
    assert created.status == 400
    assert not (tmp_path / "escaped").exists()
    assert not (tmp_path.parent / "escaped").exists()


def test_client_paths_with_dot_dot_stay_inside_the_root(client: InsecureClient, tmp_path: Path) -> None:
    # The hdfs client normalises paths itself, so "../.." climbs only to HDFS's "/".
    (tmp_path / "secret.txt").write_text("outside the root")

    assert client.resolve("../../../secret.txt") == "/secret.txt"
    with pytest.raises(HdfsError, match="does not exist"):
        client.status("../../../secret.txt")


def test_symlinks_in_the_backing_directory_are_not_followed(
    webhdfs: WebHdfsDouble, client: InsecureClient, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("outside the root")
    (webhdfs.root / "link").symlink_to(tmp_path / "secret.txt")

    assert client.list("/") == []
    with pytest.raises(HdfsError, match="symlinks are not followed"):
        read(client, "/link")


def test_staging_area_stays_out_of_the_namespace(client: InsecureClient) -> None:
    client.write("/a", data=b"x")

    assert client.list("/") == ["a"]
    assert client.content("/")["directoryCount"] == 1
    with pytest.raises(HdfsError, match="reserved"):
        client.status("/.reserved")


# -- the raw protocol ---------------------------------------------------------------------------


def test_create_answers_307_to_a_datanode_then_201(webhdfs: WebHdfsDouble) -> None:
    namenode = raw(webhdfs, "PUT", "/webhdfs/v1/raw/file.txt?op=CREATE&overwrite=false&user.name=airflow")

    assert namenode.status == 307
    location = namenode.headers["Location"]
    assert location.startswith(f"{webhdfs.url}/webhdfs/v1/raw/file.txt?")
    assert "op=CREATE" in location and "user.name=airflow" in location
    assert not (webhdfs.root / "raw" / "file.txt").exists()  # the NameNode step writes nothing

    datanode = raw(webhdfs, "PUT", location.removeprefix(webhdfs.url), body=b"payload")

    assert datanode.status == 201
    assert datanode.headers["Location"] == f"webhdfs://{webhdfs.host}:{webhdfs.port}/raw/file.txt"
    assert datanode.body == b""
    assert (webhdfs.root / "raw" / "file.txt").read_bytes() == b"payload"


def test_noredirect_answers_the_location_as_json(webhdfs: WebHdfsDouble) -> None:
    response = raw(webhdfs, "PUT", "/webhdfs/v1/f?op=CREATE&noredirect=true&user.name=airflow")

    assert response.status == 200
    assert "datanode=true" in response.json()["Location"]


def test_open_answers_307_then_the_bytes(webhdfs: WebHdfsDouble, client: InsecureClient) -> None:
    client.write("/r.txt", data=b"0123456789")

    namenode = raw(webhdfs, "GET", "/webhdfs/v1/r.txt?op=OPEN&offset=2&length=3&user.name=airflow")

    assert namenode.status == 307
    datanode = raw(webhdfs, "GET", namenode.headers["Location"].removeprefix(webhdfs.url))
    assert datanode.status == 200
    assert datanode.headers["Content-Type"] == "application/octet-stream"
    assert datanode.body == b"234"


def test_append_answers_307_then_200(webhdfs: WebHdfsDouble, client: InsecureClient) -> None:
    client.write("/log", data=b"a")

    namenode = raw(webhdfs, "POST", "/webhdfs/v1/log?op=APPEND&user.name=airflow")
    datanode = raw(webhdfs, "POST", namenode.headers["Location"].removeprefix(webhdfs.url), body=b"b")

    assert (namenode.status, datanode.status) == (307, 200)
    assert read(client, "/log") == b"ab"


def test_unknown_op_is_400_illegal_argument(webhdfs: WebHdfsDouble) -> None:
    response = raw(webhdfs, "GET", "/webhdfs/v1/?op=FROBNICATE&user.name=airflow")

    assert response.status == 400
    assert remote_exception(response) == {
        "exception": "IllegalArgumentException",
        "javaClassName": "java.lang.IllegalArgumentException",
        "message": 'Invalid value for webhdfs parameter "op": '
        "No enum constant org.apache.hadoop.hdfs.web.resources.GetOpParam.Op.FROBNICATE",
    }


def test_op_sent_with_the_wrong_method_is_400(webhdfs: WebHdfsDouble) -> None:
    response = raw(webhdfs, "GET", "/webhdfs/v1/x?op=MKDIRS")

    assert response.status == 400
    assert "GetOpParam.Op.MKDIRS" in remote_exception(response)["message"]


def test_known_but_unimplemented_op_is_400_unsupported(webhdfs: WebHdfsDouble) -> None:
    response = raw(webhdfs, "GET", "/webhdfs/v1/?op=GETACLSTATUS")

    assert response.status == 400
    assert remote_exception(response)["exception"] == "UnsupportedOperationException"


def test_bad_parameter_value_is_400(webhdfs: WebHdfsDouble) -> None:
    response = raw(webhdfs, "PUT", "/webhdfs/v1/f?op=CREATE&overwrite=maybe")

    assert response.status == 400
    assert remote_exception(response)["message"] == (
        'Invalid value for webhdfs parameter "overwrite": Failed to parse "maybe" to Boolean.'
    )


def test_missing_path_is_404_with_a_remote_exception_body(webhdfs: WebHdfsDouble) -> None:
    response = raw(webhdfs, "GET", "/webhdfs/v1/nope?op=GETFILESTATUS&user.name=airflow")

    assert response.status == 404
    assert remote_exception(response) == {
        "exception": "FileNotFoundException",
        "javaClassName": "java.io.FileNotFoundException",
        "message": "File does not exist: /nope",
    }


def test_create_without_overwrite_on_an_existing_file_is_403(webhdfs: WebHdfsDouble, client: InsecureClient) -> None:
    client.write("/f", data=b"x")

    response = raw(webhdfs, "PUT", "/webhdfs/v1/f?op=CREATE&datanode=true&user.name=airflow", body=b"y")

    assert response.status == 403
    assert remote_exception(response)["javaClassName"] == "org.apache.hadoop.fs.FileAlreadyExistsException"


def test_mkdirs_and_delete_answer_booleans(webhdfs: WebHdfsDouble) -> None:
    made = raw(webhdfs, "PUT", "/webhdfs/v1/m/n?op=MKDIRS&user.name=airflow")
    deleted = raw(webhdfs, "DELETE", "/webhdfs/v1/m?op=DELETE&recursive=true&user.name=airflow")
    missing = raw(webhdfs, "DELETE", "/webhdfs/v1/m?op=DELETE&user.name=airflow")

    assert made.json() == {"boolean": True}
    assert deleted.json() == {"boolean": True}
    assert missing.json() == {"boolean": False}


def test_home_directory_without_user_is_the_static_web_user(webhdfs: WebHdfsDouble) -> None:
    response = raw(webhdfs, "GET", "/webhdfs/v1/?op=GETHOMEDIRECTORY")

    assert response.json() == {"Path": "/user/dr.who"}


# -- through Airflow's WebHDFSHook ------------------------------------------------------------------


def test_webhdfs_hook_loads_a_file_checks_for_it_and_reads_it_back(
    webhdfs: WebHdfsDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow-home"))
    connection = {"conn_type": "webhdfs", "host": "127.0.0.1", "port": webhdfs.port, "login": "airflow"}
    monkeypatch.setenv("AIRFLOW_CONN_WEBHDFS_TEST", json.dumps(connection))
    from airflow.providers.apache.hdfs.hooks.webhdfs import WebHDFSHook

    local = tmp_path / "scores.csv"
    local.write_text("id,score\n1,0.93\n")
    hook = WebHDFSHook(webhdfs_conn_id="webhdfs_test")

    hook.load_file(str(local), "/lake/scores/2024-01-01.csv")

    assert hook.check_for_path("/lake/scores/2024-01-01.csv") is True
    assert hook.check_for_path("/lake/scores/2024-01-02.csv") is False
    assert hook.read_file("/lake/scores/2024-01-01.csv") == b"id,score\n1,0.93\n"
    with hook.get_conn().read("/lake/scores/2024-01-01.csv", offset=9) as reader:
        assert reader.read() == b"1,0.93\n"
    assert hook.get_conn().status("/lake/scores/2024-01-01.csv")["owner"] == "airflow"


# -- the command line -------------------------------------------------------------------------------


def test_cli_serves_until_sigterm_and_exits_cleanly(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "devstack.webhdfs_double", "--port", "0", "--root", str(tmp_path / "root")]
    with subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            line = process.stdout.readline()  # type: ignore[union-attr]
            assert line.startswith(f"webhdfs test double serving {(tmp_path / 'root').resolve()} on http://127.0.0.1:")
            client = InsecureClient(line.rsplit(" on ", 1)[1].strip(), user="airflow")
            client.write("/hello.txt", data=b"hi")
            assert read(client, "/hello.txt") == b"hi"

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:
                process.kill()
        stderr = process.stderr.read()  # type: ignore[union-attr]

    assert stderr == ""  # quiet unless --verbose, and no traceback on the way out
    assert (tmp_path / "root" / "hello.txt").read_bytes() == b"hi"
