"""Each source lands in the lake exactly as the source holds it: row counts match,
re-runs change nothing, and failures leave nothing half-published."""

import io
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include import lake as lk
from include import migrations
from include.ingestion import bureau, hdfs_archive
from include.ingestion import postgres as pg_ingest
from tests.conftest import scratch_database

pytestmark = pytest.mark.integration

WRITTEN_BY = {"dag_id": "test", "run_id": "test"}


@pytest.fixture
def lake(tmp_path):
    return lk.Lake.from_uri(f"file://{tmp_path / 'lake'}")


# ---------------------------------------------------------------- Postgres


@pytest.fixture
def core_rows(stack, settings):
    """Customers changed on two days of 2001, in a core database of the test's own."""
    base = 9_000_000_000
    day1, day2 = datetime(2001, 3, 1, tzinfo=UTC), datetime(2001, 3, 2, tzinfo=UTC)
    rows = [(base + i, day1 + timedelta(hours=i)) for i in range(30)] + [
        (base + 100 + i, day2 + timedelta(minutes=i)) for i in range(5)
    ]
    with scratch_database(settings, "core_landing") as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as db:
            migrations.apply(db, "core")
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
        dsn = f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"  # ADBC takes URIs
        with (
            psycopg.connect(dsn) as db,
            db.cursor().copy(
                "copy core.customers (customer_id, birth_date, income, employment_status, region, created_at,"
                " updated_at) from stdin"
            ) as copy,
        ):
            for customer_id, updated in rows:
                copy.write_row((customer_id, date(1980, 1, 1), 50_000, "employed", "DE-BY", updated, updated))
        yield dsn, day1, day2, [r[0] for r in rows]


def test_postgres_day_lands_exactly_the_rows_changed_in_its_interval(lake, core_rows):
    dsn, day1, day2, _ = core_rows
    landed = pg_ingest.land_table(lake, dsn, "core", "customers", day1, day2, written_by=WRITTEN_BY)
    table = lk.read_partition(lake, lake.partition("raw", "core", "customers", ds=day1.date()))
    assert landed.rows == table.num_rows == 24  # hours 0..23 of day 1; hours 24..29 belong to day 2
    assert table.schema.field("income").type == pa.float64()
    assert table.schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    manifest = lk.read_manifest(lake, lake.partition("raw", "core", "customers", ds=day1.date()))
    assert manifest.source_position["until"] == day2.isoformat()


def test_postgres_rerun_of_a_day_replaces_it_without_duplicates(lake, core_rows):
    dsn, _, day2, ids = core_rows
    ref = lake.partition("raw", "core", "customers", ds=day2.date())
    first = pg_ingest.land_table(lake, dsn, "core", "customers", day2, day2 + timedelta(days=1), written_by=WRITTEN_BY)
    again = pg_ingest.land_table(lake, dsn, "core", "customers", day2, day2 + timedelta(days=1), written_by=WRITTEN_BY)
    assert first.rows == again.rows == 11  # 6 late hours of the first batch + 5 of day 2
    landed_ids = lk.read_partition(lake, ref).column("customer_id").to_pylist()
    assert sorted(landed_ids) == sorted(ids[24:])
    assert len(lk.verify_partition(lake, ref).files) == 1


def test_postgres_empty_interval_lands_a_typed_empty_partition(lake, core_rows):
    dsn, *_ = core_rows
    quiet = datetime(2001, 1, 1, tzinfo=UTC)
    landed = pg_ingest.land_table(lake, dsn, "core", "customers", quiet, quiet + timedelta(days=1), written_by={})
    assert landed.rows == 0
    table = lk.read_partition(lake, lake.partition("raw", "core", "customers", ds=quiet.date()))
    assert "customer_id" in table.schema.names


def test_postgres_crash_before_publish_leaves_the_watermark_and_lake_unmoved(lake, core_rows, monkeypatch):
    dsn, day1, day2, _ = core_rows
    pg_ingest.land_table(lake, dsn, "core", "customers", day1, day2, written_by=WRITTEN_BY)
    watermark = pg_ingest.read_watermark(lake, "core", "customers")

    def crash(*args, **kwargs):
        raise RuntimeError("worker killed between extract and publish")

    monkeypatch.setattr(lk, "write_partition", crash)
    with pytest.raises(RuntimeError, match="killed"):
        pg_ingest.land_table(lake, dsn, "core", "customers", day2, day2 + timedelta(days=1), written_by=WRITTEN_BY)
    assert pg_ingest.read_watermark(lake, "core", "customers") == watermark == day2
    assert lk.list_partitions(lake, "raw", "core", "customers") == [day1.date()]


def test_postgres_backfill_of_an_old_day_does_not_move_the_watermark_back(lake, core_rows):
    dsn, day1, day2, _ = core_rows
    pg_ingest.land_table(lake, dsn, "core", "customers", day2, day2 + timedelta(days=1), written_by=WRITTEN_BY)
    pg_ingest.land_table(lake, dsn, "core", "customers", day1, day2, written_by=WRITTEN_BY)
    assert pg_ingest.read_watermark(lake, "core", "customers") == day2 + timedelta(days=1)


def test_postgres_empty_interval_is_refused(lake, core_rows):
    dsn, day1, *_ = core_rows
    with pytest.raises(pg_ingest.ExtractError, match="empty data interval"):
        pg_ingest.land_table(lake, dsn, "core", "customers", day1, day1, written_by={})


# ---------------------------------------------------------------- S3 bureau

GOOD_CSV = (
    b"customer_id,bureau_score,open_loans,total_debt,max_dpd_12m,inquiries_6m\n1,700,2,1500.5,0,1\n2,650,1,300,30,0\n"
)


@pytest.fixture
def partner(stack, settings):
    conn = settings.connections["partner_s3"]
    client = conn.s3_client()
    bucket = f"partner-test-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    yield client, bucket
    for obj in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=obj["Key"])
    client.delete_bucket(Bucket=bucket)


def test_bureau_file_lands_typed_with_key_and_etag_in_the_manifest(lake, partner):
    client, bucket = partner
    ds = date(2026, 11, 20)
    etag = client.put_object(Bucket=bucket, Key=bureau.object_key(ds), Body=GOOD_CSV)["ETag"].strip('"')
    landed = bureau.land_bureau_file(lake, client, bucket, ds, written_by=WRITTEN_BY)
    ref = lake.partition("raw", "partner", "bureau", ds=ds)
    assert landed["rows"] == 2
    assert lk.read_partition(lake, ref).schema == bureau.SCHEMA
    position = lk.read_manifest(lake, ref).source_position
    assert (position["key"], position["etag"], position["size"]) == (bureau.object_key(ds), etag, len(GOOD_CSV))


@pytest.mark.parametrize(
    ("body", "columns", "rows"),
    [
        (b"", bureau.SCHEMA.names, 0),
        (b"customer_id,bureau_score,open_loans,total_debt,max_dpd_12m\n1,700,2,1.5,0\n", bureau.SCHEMA.names[:-1], 1),
        (GOOD_CSV.replace(b"1,700", b"1,abc"), bureau.SCHEMA.names, GOOD_CSV.count(b"\n") - 1),
    ],
    ids=["empty", "missing-column", "wrong-type"],
)
def test_bureau_file_breaking_the_contract_lands_as_delivered_for_the_quality_gate(lake, partner, body, columns, rows):
    client, bucket = partner
    ds = date(2026, 11, 21)
    client.put_object(Bucket=bucket, Key=bureau.object_key(ds), Body=body)
    landed = bureau.land_bureau_file(lake, client, bucket, ds, written_by=WRITTEN_BY)
    table = lk.read_partition(lake, lake.partition("raw", "partner", "bureau", ds=ds))
    assert (table.column_names, table.num_rows, landed["rows"]) == (columns, rows, rows)


@pytest.mark.parametrize(
    ("body", "problem"),
    [(GOOD_CSV[:-9], "Expected 6 columns"), (b"\x00\x01\xff garbage", "not a readable CSV file")],
    ids=["truncated", "garbage"],
)
def test_unreadable_bureau_file_fails_clearly_and_publishes_nothing(lake, partner, body, problem):
    client, bucket = partner
    ds = date(2026, 11, 21)
    client.put_object(Bucket=bucket, Key=bureau.object_key(ds), Body=body)
    with pytest.raises(bureau.UnreadableFileError, match=problem) as raised:
        bureau.land_bureau_file(lake, client, bucket, ds, written_by=WRITTEN_BY)
    assert bureau.object_key(ds) in str(raised.value)
    assert not lk.partition_exists(lake, lake.partition("raw", "partner", "bureau", ds=ds))


# ---------------------------------------------------------------- HDFS archive


@pytest.fixture
def hdfs(stack, settings):
    """The stack's HDFS through the `hdfs` client, as the connection's user."""
    import hdfs as hdfs_client

    conn = settings.connections["webhdfs_default"]
    return hdfs_client.InsecureClient(f"http://{conn.host}:{conn.port}", user=conn.login)


@pytest.fixture
def archive_root(hdfs):
    """An archive root of this test's own on the shared cluster, removed afterwards."""
    root = f"/tests/archive-{uuid.uuid4().hex[:8]}/transactions"
    yield root
    hdfs.delete(root.rsplit("/", 1)[0], recursive=True)


def month_of_events(rows: int) -> bytes:
    table = pa.table(
        {
            "txn_id": [f"t{i}" for i in range(rows)],
            "account_id": pa.array(range(rows), pa.int64()),
            "event_time": pa.array([datetime(2026, 5, 1, tzinfo=UTC)] * rows, pa.timestamp("us", tz="UTC")),
            "amount": pa.array([1.5] * rows),
        }
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_archive_month_lands_every_file_with_paths_and_sizes_in_the_manifest(lake, hdfs, archive_root):
    folder = hdfs_archive.month_folder(archive_root, date(2026, 5, 1))
    hdfs.write(f"{folder}/part-00000.parquet", data=month_of_events(100))
    hdfs.write(f"{folder}/part-00001.parquet", data=month_of_events(50))
    hdfs.write(f"{folder}/_SUCCESS", data=b"")
    landed = hdfs_archive.land_archive_month(lake, hdfs, date(2026, 5, 17), written_by=WRITTEN_BY, root=archive_root)
    ref = lake.partition("raw", "archive", "transactions", ds=date(2026, 5, 1))
    assert landed["rows"] == lk.read_partition(lake, ref).num_rows == 150
    files = lk.read_manifest(lake, ref).source_position["files"]
    assert [f["path"].rsplit("/", 1)[1] for f in files] == ["part-00000.parquet", "part-00001.parquet"]
    assert all(f["length"] > 0 and f["modification_time"] > 0 for f in files)
    reported = [hdfs.checksum(f["path"]) for f in files]
    assert [f["checksum"] for f in files] == [
        {"algorithm": r["algorithm"], "bytes": hdfs_archive.reported_checksum(r)} for r in reported
    ]
    assert {f["checksum"]["algorithm"] for f in files} == {"MD5-of-0MD5-of-512CRC32C"}


def test_missing_archive_month_fails_naming_the_hdfs_path(lake, hdfs, archive_root):
    with pytest.raises(hdfs_archive.ArchiveError, match=rf"2026-04 is missing: {archive_root}/year=2026/month=04: "):
        hdfs_archive.land_archive_month(lake, hdfs, date(2026, 4, 1), written_by=WRITTEN_BY, root=archive_root)


def test_in_flight_upload_is_never_read(lake, hdfs, archive_root):
    folder = hdfs_archive.month_folder(archive_root, date(2026, 6, 1))
    hdfs.write(f"{folder}/part-00000.parquet", data=month_of_events(10))
    hdfs.write(f"{folder}/part-00001.parquet._COPYING_", data=month_of_events(7)[:100])
    landed = hdfs_archive.land_archive_month(lake, hdfs, date(2026, 6, 1), written_by=WRITTEN_BY, root=archive_root)
    assert landed["rows"] == 10


def test_corrupt_archive_file_fails_and_publishes_nothing(lake, hdfs, archive_root):
    folder = hdfs_archive.month_folder(archive_root, date(2026, 7, 1))
    hdfs.write(f"{folder}/part-00000.parquet", data=month_of_events(10)[:-40])
    with pytest.raises(hdfs_archive.ArchiveError, match=r"part-00000\.parquet: not a readable Parquet file"):
        hdfs_archive.land_archive_month(lake, hdfs, date(2026, 7, 1), written_by=WRITTEN_BY, root=archive_root)
    assert not lk.partition_exists(lake, lake.partition("raw", "archive", "transactions", ds=date(2026, 7, 1)))


class RewritingClient:
    """The WebHDFS client, while another writer replaces each file with as many different
    bytes just before it is downloaded: the size still matches, the content does not."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def download(self, hdfs_path, local_path, **kwargs):
        with self._client.read(hdfs_path) as reader:
            data = reader.read()
        self._client.write(hdfs_path, data=bytes(b ^ 0xFF for b in data[:64]) + data[64:], overwrite=True)
        return self._client.download(hdfs_path, local_path, **kwargs)


def test_archive_file_not_matching_its_hdfs_checksum_fails_and_publishes_nothing(lake, hdfs, archive_root):
    folder = hdfs_archive.month_folder(archive_root, date(2026, 8, 1))
    hdfs.write(f"{folder}/part-00000.parquet", data=month_of_events(10))
    with pytest.raises(
        hdfs_archive.ArchiveError,
        match=r"year=2026/month=08/part-00000\.parquet: checksum mismatch: the received bytes give "
        r"MD5-of-0MD5-of-512CRC32C [0-9a-f]{56}, HDFS reports [0-9a-f]{56}$",
    ):
        hdfs_archive.land_archive_month(
            lake, RewritingClient(hdfs), date(2026, 8, 1), written_by=WRITTEN_BY, root=archive_root
        )
    assert not lk.partition_exists(lake, lake.partition("raw", "archive", "transactions", ds=date(2026, 8, 1)))


def contract_month(first: int, rows: int, schema: pa.Schema = hdfs_archive.ARCHIVE_SCHEMA) -> bytes:
    """Archived transactions in the contract's columns (as the seed writes them)."""
    ids = range(first, first + rows)
    table = pa.table(
        {
            "schema_version": [1] * rows,
            "txn_id": [f"t{i}" for i in ids],
            "account_id": list(ids),
            "event_time": [datetime(2026, 9, 1, tzinfo=UTC) + timedelta(seconds=i) for i in ids],
            "amount": [1.5 + i for i in ids],
            "currency": ["EUR"] * rows,
            "mcc": ["5411"] * rows,
            "channel": ["pos"] * rows,
            "country": ["DE"] * rows,
            "declined": [False] * rows,
        }
    ).cast(schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def test_archive_file_of_the_contract_schema_is_published_byte_identical(lake, hdfs, archive_root):
    folder = hdfs_archive.month_folder(archive_root, date(2026, 9, 1))
    bodies = [contract_month(0, 100), contract_month(100, 40)]
    for n, body in enumerate(bodies):
        hdfs.write(f"{folder}/part-{n:05d}.parquet", data=body)
    landed = hdfs_archive.land_archive_month(lake, hdfs, date(2026, 9, 1), written_by=WRITTEN_BY, root=archive_root)
    ref = lake.partition("raw", "archive", "transactions", ds=date(2026, 9, 1))
    manifest = lk.read_manifest(lake, ref)
    published = [Path(lake.path(f"{ref.relative}/{name}")).read_bytes() for name in manifest.file_names]
    assert published == bodies
    table = lk.read_partition(lake, ref)
    assert landed["rows"] == manifest.row_count == table.num_rows == 140
    assert table.schema.equals(hdfs_archive.ARCHIVE_SCHEMA)
    assert table.column("txn_id").to_pylist() == [f"t{i}" for i in range(140)]
    assert [f["path"].rsplit("/", 1)[1] for f in manifest.source_position["files"]] == [
        "part-00000.parquet",
        "part-00001.parquet",
    ]
    lk.verify_partition(lake, ref)


def test_archive_file_of_another_schema_still_lands_through_conversion(lake, hdfs, archive_root):
    folder = hdfs_archive.month_folder(archive_root, date(2026, 10, 1))
    narrow = pa.schema([f.with_type(pa.int32()) if f.name == "account_id" else f for f in hdfs_archive.ARCHIVE_SCHEMA])
    first, second = contract_month(0, 30), contract_month(30, 20, narrow)
    hdfs.write(f"{folder}/part-00000.parquet", data=first)
    hdfs.write(f"{folder}/part-00001.parquet", data=second)
    hdfs_archive.land_archive_month(lake, hdfs, date(2026, 10, 1), written_by=WRITTEN_BY, root=archive_root)
    ref = lake.partition("raw", "archive", "transactions", ds=date(2026, 10, 1))
    manifest = lk.read_manifest(lake, ref)
    assert [f.rows for f in manifest.files] == [30, 20]
    as_is, converted = (Path(lake.path(f"{ref.relative}/{name}")).read_bytes() for name in manifest.file_names)
    assert as_is == first and converted != second
    table = lk.read_partition(lake, ref)
    assert table.schema.equals(hdfs_archive.ARCHIVE_SCHEMA)  # cast to the first file's schema, as before
    assert table.column("account_id").to_pylist() == list(range(50))


def test_unreadable_archive_file_of_the_contract_schema_fails_naming_it_and_publishes_nothing(lake, hdfs, archive_root):
    folder = hdfs_archive.month_folder(archive_root, date(2026, 11, 1))
    hdfs.write(f"{folder}/part-00000.parquet", data=contract_month(0, 10))
    hdfs.write(f"{folder}/part-00001.parquet", data=contract_month(10, 10)[:-40])
    with pytest.raises(
        hdfs_archive.UnreadableArchiveError, match=r"month=11/part-00001\.parquet: not a readable Parquet"
    ):
        hdfs_archive.land_archive_month(lake, hdfs, date(2026, 11, 1), written_by=WRITTEN_BY, root=archive_root)
    assert not lk.partition_exists(lake, lake.partition("raw", "archive", "transactions", ds=date(2026, 11, 1)))


@pytest.fixture
def s3_lake(stack, settings):
    """A lake on an `s3://lake/tests-<uuid>` root of the local S3 endpoint, deleted afterwards."""
    lake = settings.lake(f"s3://lake/tests-archive-{uuid.uuid4().hex}")
    yield lake
    lake.filesystem.delete_dir(lake.root)


def test_archive_file_of_the_contract_schema_is_published_as_is_on_an_s3_lake(s3_lake, hdfs, archive_root):
    folder = hdfs_archive.month_folder(archive_root, date(2026, 12, 1))
    body = contract_month(0, 25)
    hdfs.write(f"{folder}/part-00000.parquet", data=body)
    hdfs_archive.land_archive_month(s3_lake, hdfs, date(2026, 12, 1), written_by=WRITTEN_BY, root=archive_root)
    ref = s3_lake.partition("raw", "archive", "transactions", ds=date(2026, 12, 1))
    [name] = lk.read_manifest(s3_lake, ref).file_names
    with s3_lake.filesystem.open_input_stream(s3_lake.path(f"{ref.relative}/{name}")) as stream:
        assert stream.read() == body
    assert lk.read_partition(s3_lake, ref).column("txn_id").to_pylist() == [f"t{i}" for i in range(25)]
