from datetime import date, datetime

import pyarrow.fs as pafs
import pytest

from include.lake import Lake, LakeError, PartitionRef
from include.lake.store import put_bytes


def test_file_roots_accept_uris_and_plain_paths(tmp_path):
    by_uri = Lake.from_uri(f"file://{tmp_path}/lake/")
    by_path = Lake.from_uri(str(tmp_path / "lake"))
    assert by_uri == by_path
    assert by_uri.root_uri == f"file://{tmp_path}/lake"
    assert by_uri.root == f"{tmp_path}/lake"
    assert by_uri.is_local


def test_s3_roots_take_the_endpoint_and_credentials_of_a_connection():
    lake = Lake.from_uri(
        "s3://lake/lake/", endpoint_url="http://127.0.0.1:19000", access_key="k", secret_key="s", region="us-east-1"
    )
    assert (lake.root_uri, lake.root) == ("s3://lake/lake", "lake/lake")
    assert isinstance(lake.filesystem, pafs.S3FileSystem)
    assert lake.filesystem.region == "us-east-1"
    assert not lake.is_local
    assert Lake.from_uri("s3://bucket", region="eu-west-1").root_uri == "s3://bucket"


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("hdfs://nn/lake", "unsupported scheme 'hdfs', expected file:// or s3://"),
        ("file://host/lake", "expected file:///absolute/path, got host 'host'"),
        ("s3:///lake", r"expected s3://bucket\[/prefix\]"),
    ],
)
def test_unsupported_roots_are_rejected_with_the_uri(uri, message):
    with pytest.raises(LakeError, match=message):
        Lake.from_uri(uri)


def test_partition_refs_follow_the_layout_and_round_trip_through_their_uri(lake):
    ref = lake.partition("features", "credit_default", "v3", ds="2026-11-20")
    assert ref == PartitionRef(lake.root_uri, "features", ("credit_default", "v3"), date(2026, 11, 20))
    assert ref.uri == f"{lake.root_uri}/features/credit_default/v3/ds=2026-11-20"
    assert str(ref) == ref.uri
    assert lake.partition_from_uri(ref.uri) == ref
    assert lake.partition("predictions", "credit_default", ds=date(2026, 11, 20)).relative == (
        "predictions/credit_default/ds=2026-11-20"
    )


@pytest.mark.parametrize(
    ("zone", "parts", "ds", "message"),
    [
        ("staging", ("core", "accounts"), "2026-11-20", "unknown zone 'staging'"),
        ("raw", ("core",), "2026-11-20", r"expected raw/<source>/<dataset>/ds=YYYY-MM-DD"),
        ("raw", ("core", "../x"), "2026-11-20", r"path part '\.\./x' must be"),
        ("features", ("credit_default", "3"), "2026-11-20", "version '3' must look like v<number>"),
        ("raw", ("core", "accounts"), "20261120", r"raw/core/accounts: ds '20261120' is not a YYYY-MM-DD date"),
        ("raw", ("core", "accounts"), "2026-02-30", r"ds '2026-02-30' is not a YYYY-MM-DD date"),
        ("raw", ("core", "accounts"), datetime(2026, 11, 20, 23), "is a datetime, expected a date"),
    ],
)
def test_partitions_outside_the_layout_are_rejected(lake, zone, parts, ds, message):
    with pytest.raises(LakeError, match=message):
        lake.partition(zone, *parts, ds=ds)


def test_uris_from_elsewhere_are_not_partitions_of_this_lake(lake):
    with pytest.raises(LakeError, match="not under this lake's root"):
        lake.partition_from_uri("s3://other/raw/core/accounts/ds=2026-11-20")
    with pytest.raises(LakeError, match=r"expected <zone>/<parts\.\.\.>/ds=YYYY-MM-DD"):
        lake.partition_from_uri(f"{lake.root_uri}/raw/core/accounts")


@pytest.mark.parametrize("relative", ["", "/etc/passwd", "reports/../../x", "reports//x", "reports/"])
def test_paths_must_stay_under_the_root(lake, relative):
    with pytest.raises(LakeError, match="is not a plain relative path"):
        lake.path(relative)


def test_a_ref_of_another_lake_is_refused(lake, tmp_path):
    from include.lake import read_partition

    other = Lake.from_uri(f"file://{tmp_path}/other")
    with pytest.raises(LakeError, match=f"belongs to lake {other.root_uri}, not to {lake.root_uri}"):
        read_partition(lake, other.partition("raw", "core", "accounts", ds="2026-11-20"))


def test_local_atomic_put_replaces_by_rename_and_leaves_no_temporary_file(lake):
    put_bytes(lake, "reports/x.txt", b"old")
    put_bytes(lake, "reports/x.txt", b"new")
    folder = f"{lake.root}/reports"
    assert [i.base_name for i in lake.filesystem.get_file_info(pafs.FileSelector(folder))] == ["x.txt"]
    with lake.filesystem.open_input_stream(f"{folder}/x.txt") as f:
        assert f.read() == b"new"
