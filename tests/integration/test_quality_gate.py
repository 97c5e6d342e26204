"""The quality gate on the generator's bad-batch defects: each one caught by the expectation that
names it, quarantined with `_reason.json` and recorded in `ml.data_quality_runs`; the clean delivery
of the same day publishes, and a corrupt file gives a clear failure, not a stack trace.

Bureau deliveries go through the real landing (S3 server -> `land_bureau_file`); archive
months are landed as the HDFS landing writes them (the file's own schema). History for the
volume band comes from earlier clean days recorded in a scratch database.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from devstack.seed import defects, encode
from devstack.seed import generate as gen
from include import lake as lk
from include import migrations
from include.ingestion import bureau
from include.lake.manifest import REASON_NAME
from include.quality import QualityGateFailed, gate_partition, quarantine_unreadable, store
from tests.conftest import scratch_database

pytestmark = pytest.mark.integration

DAG_RUN = {"dag_id": "quality_test", "run_id": "manual__1", "task_id": "gate"}
PARAMS = gen.SeedParams(customers=400, start=date(2026, 8, 1), end=date(2026, 10, 31), kafka_days=0, seed=7)
SEED = 7

# defect -> the expectation that names it (bureau / transactions)
BUREAU_CAUGHT_BY = {
    "missing_column": "schema_columns",
    "renamed_column": "schema_columns",
    "wrong_type": "total_debt_type_float",
    "null_keys": "customer_id_not_null",
    "duplicate_keys": "customer_id_unique",
    "negative_amounts": "total_debt_non_negative",
    "empty_file": "not_empty",
    "volume_drop_90": "volume_vs_trailing_mean",
    "orphan_ids": "customer_id_known",
}
ARCHIVE_CAUGHT_BY = {
    "missing_column": "schema_columns",
    "renamed_column": "schema_columns",
    "wrong_type": "amount_type_float",
    "null_keys": "txn_id_not_null",
    "duplicate_keys": "txn_id_unique",
    "negative_amounts": "amount_non_negative",
    "future_timestamps": "event_time_in_interval",
    "unknown_currency": "currency_known",
    "empty_file": "not_empty",
    "volume_drop_90": "volume_vs_trailing_mean",
    "orphan_ids": "account_id_known",
}
# The rest run on pandas (fast for small months); the bureau test covers pandas' orphan check.
ARCHIVE_ON_SPARK = {"orphan_ids"}


@pytest.fixture(scope="module")
def portfolio():
    return gen.generate(PARAMS)


@pytest.fixture(scope="module")
def quality_db(settings):
    with scratch_database(settings, "quality_test") as conninfo, psycopg.connect(conninfo, autocommit=True) as pg:
        migrations.apply(pg, "ml")
        yield conninfo


@pytest.fixture
def lake(tmp_path, portfolio):
    """A lake whose core zone knows the portfolio's customers and accounts (the reference sets)."""
    lake = lk.Lake.from_uri(f"file://{tmp_path / 'lake'}")
    first = PARAMS.start
    for name, table in (("customers", portfolio.customers), ("accounts", portfolio.accounts)):
        lk.write_partition(
            lake, lake.partition("validated", "core", name, ds=first), table, source_position={}, written_by={}
        )
    return lake


@pytest.fixture
def partner(stack, settings):
    client = settings.connections["partner_s3"].s3_client()
    bucket = f"quality-test-{uuid.uuid4().hex[:8]}"
    client.create_bucket(Bucket=bucket)
    yield client, bucket
    for obj in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=obj["Key"])
    client.delete_bucket(Bucket=bucket)


def _bureau_days(portfolio, count):
    """The `count` days with the most deliveries, in date order: full-volume days (a month's first
    days carry a third of a usual day's), so that a 90% drop is one on this small portfolio too."""
    days = sorted(gen.bureau_days(portfolio.bureau), key=lambda day: day[1].num_rows)[-count:]
    return sorted(days, key=lambda day: day[0])


def _land_bureau(lake, partner, ds, body):
    client, bucket = partner
    client.put_object(Bucket=bucket, Key=bureau.object_key(ds), Body=body)
    return bureau.land_bureau_file(lake, client, bucket, ds, written_by=DAG_RUN)


def _clear_history(quality_db):
    with psycopg.connect(quality_db, autocommit=True) as pg:
        pg.execute("delete from ml.data_quality_runs")


def test_bureau_defects_are_caught_by_the_expectation_that_names_them_and_quarantined(
    lake, partner, portfolio, quality_db
):
    _clear_history(quality_db)
    days = _bureau_days(portfolio, 5)
    with psycopg.connect(quality_db, autocommit=True) as pg:  # two earlier weeks' clean verdicts, for the volume band
        for earlier in range(1, 15):
            pg.execute(
                "insert into ml.data_quality_runs (dataset, ds, success, row_count, evaluated_expectations,"
                " failed_expectations) values ('raw/partner/bureau', %s, true, %s, 19, 0)",
                [days[0][0] - timedelta(days=earlier), days[0][1].num_rows],
            )
    for ds, rows in days[:-1]:  # clean history: volume band and distribution bounds
        _land_bureau(lake, partner, ds, encode.csv_bytes(rows))
        raw = lake.partition("raw", "partner", "bureau", ds=ds)
        assert gate_partition(lake, raw, postgres_uri=quality_db, dag_run=DAG_RUN)["success"]
    ds, rows = days[-1]
    raw = lake.partition("raw", "partner", "bureau", ds=ds)
    quarantined = lake.partition("quarantine", "partner", "bureau", ds=ds)
    validated = lake.partition("validated", "partner", "bureau", ds=ds)
    delivered_at = datetime.combine(ds, datetime.min.time(), tzinfo=UTC) + timedelta(hours=6)
    for defect, expectation in BUREAU_CAUGHT_BY.items():
        _land_bureau(lake, partner, ds, defects.bureau_csv(rows, defect, SEED, delivered_at))
        with pytest.raises(QualityGateFailed) as failed:
            gate_partition(lake, raw, postgres_uri=quality_db, dag_run=DAG_RUN)
        message = str(failed.value)
        assert expectation in failed.value.result["failed_names"], (defect, message)
        assert f"raw/partner/bureau ds={ds.isoformat()}" in message and "Data Docs: file://" in message
        assert not lk.partition_exists(lake, raw) and not lk.partition_exists(lake, validated)
        reason = lk.read_json(lake, f"{quarantined.relative}/{REASON_NAME}")
        assert reason["dataset"] == "raw/partner/bureau" and reason["ds"] == ds.isoformat()
        assert reason["dag_run"] == DAG_RUN and reason["data_docs_uri"].endswith(".html")
        named = [f for f in reason["failed_expectations"] if f["expectation"] == expectation]
        assert named and (named[0]["observed"] is not None or named[0]["unexpected_count"] or named[0]["details"])
        assert lk.read_manifest(lake, quarantined).row_count == failed.value.result["row_count"]

    # The corrected delivery of the same day passes, publishes, and supersedes the quarantined copy.
    _land_bureau(lake, partner, ds, encode.csv_bytes(rows))
    result = gate_partition(lake, raw, postgres_uri=quality_db, dag_run=DAG_RUN)
    assert result["success"] and result["location_uri"] == validated.uri
    assert lk.read_partition(lake, validated).num_rows == rows.num_rows
    assert not lk.partition_exists(lake, quarantined)
    assert lk.read_json(lake, f"{quarantined.relative}/{REASON_NAME}") is None

    recorded = store.runs(quality_db, "raw/partner/bureau", ds)
    assert [r["success"] for r in recorded] == [False] * len(BUREAU_CAUGHT_BY) + [True]
    assert "schema_columns" in recorded[0]["failed_expectation_names"]  # missing_column came first
    assert recorded[-1]["row_count"] == rows.num_rows and recorded[-1]["evaluated_expectations"] > 15
    assert recorded[-1]["dag_id"] == "quality_test" and recorded[-1]["data_docs_uri"].startswith("file://")


def test_a_corrupt_bureau_file_gives_a_clear_failure_and_a_quarantine_record(lake, partner, portfolio, quality_db):
    ds, rows = _bureau_days(portfolio, 1)[0]
    body = defects.bureau_csv(rows, "corrupt_file", SEED, datetime.now(UTC))
    with pytest.raises(bureau.UnreadableFileError, match=r"bureau_.*\.csv: not a readable CSV file") as unreadable:
        _land_bureau(lake, partner, ds, body)
    assert not lk.partition_exists(lake, lake.partition("raw", "partner", "bureau", ds=ds))
    with pytest.raises(QualityGateFailed, match="unreadable file") as failed:
        quarantine_unreadable(
            lake, "raw/partner/bureau", ds, unreadable.value, postgres_uri=quality_db, dag_run=DAG_RUN
        )
    quarantined = lake.partition("quarantine", "partner", "bureau", ds=ds)
    reason = lk.read_json(lake, f"{quarantined.relative}/{REASON_NAME}")
    assert reason["reason"].startswith("unreadable file: s3://") and reason["dag_run"] == DAG_RUN
    assert failed.value.result["failed_names"] == ["readable_file"]
    last = store.runs(quality_db, "raw/partner/bureau", ds)[-1]
    assert (last["success"], last["row_count"], last["reason"]) == (False, None, reason["reason"])


def _month_events(portfolio):
    events = gen.archive(PARAMS, portfolio.transactions)
    return {date(y, m, 1): t for y, m, t in gen.archive_months(events)}


def _land_archive(lake, month, data: bytes):
    """As the HDFS landing writes a month: the file's own schema, streamed in batches."""
    ref = lake.partition("raw", "archive", "transactions", ds=month)
    parquet = pq.ParquetFile(io.BytesIO(data))
    lk.write_partition(
        lake, ref, parquet.iter_batches(), schema=parquet.schema_arrow, source_position={}, written_by=DAG_RUN
    )
    return ref


def test_archive_defects_are_caught_and_quarantined_and_the_clean_month_publishes(lake, portfolio, quality_db):
    _clear_history(quality_db)
    months = _month_events(portfolio)
    month, events = max(months.items())
    with psycopg.connect(quality_db, autocommit=True) as pg:  # earlier months' clean verdicts, for the volume band
        for earlier in range(1, 4):
            pg.execute(
                "insert into ml.data_quality_runs (dataset, ds, success, row_count, evaluated_expectations,"
                " failed_expectations) values ('raw/archive/transactions', %s, true, %s, 26, 0)",
                [month - timedelta(days=31 * earlier), events.num_rows],
            )
    delivered_at = datetime.combine(month + timedelta(days=31), datetime.min.time(), tzinfo=UTC)
    quarantined = lake.partition("quarantine", "archive", "transactions", ds=month)
    known = pa.array(portfolio.accounts.column("account_id").to_pylist())
    for defect, expectation in ARCHIVE_CAUGHT_BY.items():
        ref = _land_archive(lake, month, defects.archive_parquet(events, defect, SEED, delivered_at))
        landed = lk.read_partition(lake, ref)
        engine = "spark" if defect in ARCHIVE_ON_SPARK else "pandas"
        with pytest.raises(QualityGateFailed) as failed:
            gate_partition(lake, ref, postgres_uri=quality_db, dag_run=DAG_RUN, engine=engine)
        assert expectation in failed.value.result["failed_names"], (defect, str(failed.value))
        assert lk.partition_exists(lake, quarantined) and not lk.partition_exists(lake, ref)
        named = next(f for f in failed.value.result["failed"] if f["expectation"] == expectation)
        assert named["observed"] is not None or named["unexpected_count"] or named["details"], named
        if defect == "orphan_ids":  # Spark's anti-join reports the number of orphan rows
            orphans = pc.sum(pc.invert(pc.is_in(landed.column("account_id"), value_set=known))).as_py()
            assert orphans > 0 and named["observed"] == orphans, named
            assert named["expected"] == {"values_known_in": "core/accounts.account_id"}
    ref = _land_archive(lake, month, encode.parquet_bytes(events))
    result = gate_partition(lake, ref, postgres_uri=quality_db, dag_run=DAG_RUN, engine="spark")
    assert result["success"] and result["engine"] == "spark", result
    assert (
        lk.read_manifest(lake, lake.partition("validated", "archive", "transactions", ds=month)).row_count
        == events.num_rows
    )
    assert not lk.partition_exists(lake, quarantined)


@pytest.fixture
def s3_lake(stack, settings, portfolio):
    """`lake`'s reference sets on an `s3://lake/tests-<uuid>` root of the local S3 endpoint, deleted afterwards."""
    lake = settings.lake(f"s3://lake/tests-quality-{uuid.uuid4().hex}")
    first = PARAMS.start
    for name, table in (("customers", portfolio.customers), ("accounts", portfolio.accounts)):
        lk.write_partition(
            lake, lake.partition("validated", "core", name, ds=first), table, source_position={}, written_by={}
        )
    yield lake
    lake.filesystem.delete_dir(lake.root)


def test_the_spark_gate_reads_an_s3_lake_in_place_through_s3a(s3_lake, portfolio, quality_db):
    """Spark reads the partition's files from S3 itself (s3a, the lake's endpoint and keys): an orphan is
    counted by the anti-join, then the clean month publishes."""
    _clear_history(quality_db)
    month, events = max(_month_events(portfolio).items())
    delivered_at = datetime.combine(month + timedelta(days=31), datetime.min.time(), tzinfo=UTC)
    ref = _land_archive(s3_lake, month, defects.archive_parquet(events, "orphan_ids", SEED, delivered_at))
    with pytest.raises(QualityGateFailed) as failed:
        gate_partition(s3_lake, ref, postgres_uri=quality_db, dag_run=DAG_RUN, engine="spark")
    named = next(f for f in failed.value.result["failed"] if f["expectation"] == "account_id_known")
    assert named["observed"] > 0 and failed.value.result["engine"] == "spark", named
    ref = _land_archive(s3_lake, month, encode.parquet_bytes(events))
    result = gate_partition(s3_lake, ref, postgres_uri=quality_db, dag_run=DAG_RUN, engine="spark")
    assert result["success"] and result["engine"] == "spark", result
    validated = s3_lake.partition("validated", "archive", "transactions", ds=month)
    assert lk.read_manifest(s3_lake, validated).row_count == events.num_rows
    assert result["data_docs_uri"].startswith(f"{s3_lake.root_uri}/reports/"), result
