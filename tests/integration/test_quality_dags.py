"""The quality gate inside the DAGs, run by Airflow (`bin/airflow dags test`): a clean closed
day of card transactions is published to validated/, a broken one is quarantined and the run
fails with the expectation that caught it."""

from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from devstack.seed import defects
from devstack.seed import generate as gen
from include import lake as lk
from include.lake.manifest import REASON_NAME
from tests.conftest import isolated_quality_history
from tests.integration.test_ingestion_dags import dags_test

pytestmark = [pytest.mark.integration, pytest.mark.airflow]


@pytest.fixture(scope="module", autouse=True)
def quality_history(settings, stack):
    """The quality gate's history in a scratch database (see `isolated_quality_history`)."""
    with isolated_quality_history(settings) as uri:
        yield uri


DAY = date(2030, 5, 1)  # after every DAG start, clear of any demo data
# A manual run covers the last complete interval before its logical date: [DAY 02:00, DAY+1 02:00) validates DAY.
LOGICAL_DATE = "2030-05-02T03:00:00+00:00"


@pytest.fixture(scope="module")
def portfolio():
    return gen.generate(gen.SeedParams(customers=300, start=date(2026, 8, 1), end=date(2026, 8, 31), kafka_days=0))


def landed_day(portfolio) -> pa.Table:
    """One day of the portfolio's transactions moved to DAY, shaped as the Kafka landing writes them."""
    txns = portfolio.transactions
    source_day = date(2026, 8, 20)
    start = datetime.combine(source_day, datetime.min.time(), UTC)
    day = txns.filter(pc.equal(pc.cast(txns["event_time"], pa.date32()), pa.scalar(source_day, pa.date32())))
    shift = datetime.combine(DAY, datetime.min.time(), UTC) - start
    moved = pc.add(day["event_time"], pa.scalar(shift, pa.duration("us")))
    day = day.set_column(day.schema.get_field_index("event_time"), "event_time", moved).drop_columns(["arrival_time"])
    return day.append_column("kafka_partition", pa.array([0] * day.num_rows, pa.int32())).append_column(
        "kafka_offset", pa.array(range(day.num_rows), pa.int64())
    )


def prepare_lake(root: str, portfolio, transactions: pa.Table) -> lk.Lake:
    lake = lk.Lake.from_uri(root)
    accounts = lake.partition("validated", "core", "accounts", ds=date(2030, 4, 30))
    lk.write_partition(lake, accounts, portfolio.accounts, source_position={}, written_by={})
    raw = lake.partition("raw", "cards", "card_transactions", ds=DAY)
    lk.write_partition(lake, raw, transactions, source_position={}, written_by={})
    return lake


def test_a_clean_closed_day_is_published_to_validated(airflow_db, stack, portfolio, tmp_path):
    root = f"file://{tmp_path / 'lake'}"
    transactions = landed_day(portfolio)
    lake = prepare_lake(root, portfolio, transactions)
    output = dags_test("validate_card_transactions", LOGICAL_DATE, root)
    assert "Data Docs: file://" in output
    validated = lk.read_partition(lake, lake.partition("validated", "cards", "card_transactions", ds=DAY))
    assert validated.num_rows == transactions.num_rows > 0


def test_a_broken_day_is_quarantined_and_the_run_fails_naming_the_expectation(airflow_db, stack, portfolio, tmp_path):
    root = f"file://{tmp_path / 'lake'}"
    delivered_at = datetime(2030, 5, 2, tzinfo=UTC)
    broken = defects.defective_table(landed_day(portfolio), "orphan_ids", defects.TRANSACTIONS, 5, delivered_at)
    lake = prepare_lake(root, portfolio, broken)
    with pytest.raises(AssertionError) as failed:
        dags_test("validate_card_transactions", LOGICAL_DATE, root)
    assert "account_id_known" in str(failed.value)
    quarantined = lake.partition("quarantine", "cards", "card_transactions", ds=DAY)
    assert lk.partition_exists(lake, quarantined)
    reason = lk.read_json(lake, f"{quarantined.relative}/{REASON_NAME}")
    assert "account_id_known" in str(reason)
    assert not lk.partition_exists(lake, lake.partition("validated", "cards", "card_transactions", ds=DAY))
