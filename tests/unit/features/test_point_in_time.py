"""Features at D see only what was known before D: planted future data changes nothing at D."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from include.features import spark_engine
from include.features.definitions import CREDIT_DEFAULT
from include.features.inputs import MissingInputError
from include.lake import Lake
from tests.unit.features.conftest import ZONE, D, TinyLake, portfolio, utc


def features(spark, tiny: TinyLake, d: date = D, kind: str = "scoring") -> pd.DataFrame:
    frame, _ = spark_engine.build(spark, tiny.lake, ZONE, CREDIT_DEFAULT, d, kind)
    return frame.toPandas().set_index("account_id")


def plant_future(tl: TinyLake) -> None:
    """Everything that happens on or after D, each of it able to move some feature if it leaked."""
    # Events at D 00:00 (the first instant not before D) and later, in the Kafka days and in the archive.
    tl.txn(100, utc(D, 0), 9_999.0, mcc="7995", country="US")
    tl.txn(200, utc(D + timedelta(days=1), 3), 5_000.0, mcc="6011", declined=True)
    tl.add(
        "archive",
        "transactions",
        date(2030, 3, 1),
        schema_version=1,
        txn_id="a1",
        account_id=100,
        event_time=utc(D + timedelta(days=5)),
        amount=777.0,
        currency="EUR",
        mcc="4722",
        channel="ecom",
        country="NL",
        declined=False,
        arrival_time=utc(D + timedelta(days=5)),
    )
    # Customer and account changes landed on D and after.
    tl.add(
        "core",
        "customers",
        D,
        customer_id=10,
        birth_date=date(1960, 1, 1),
        gender="F",
        income=1.0,
        employment_status="unemployed",
        region="DE-HH",
        created_at=utc(date(2029, 1, 1)),
        updated_at=utc(D, 0),
    )
    tl.add(
        "core",
        "accounts",
        D + timedelta(days=2),
        account_id=200,
        customer_id=20,
        product="gold",
        credit_limit=20_000.0,
        status="active",
        opened_at=date(2029, 1, 1),
        updated_at=utc(D + timedelta(days=2)),
    )
    # A statement dated D, a re-stated earlier statement updated after D, a repayment on D.
    tl.add(
        "core",
        "statements",
        D,
        statement_id=100_99,
        account_id=100,
        statement_date=D,
        balance=4_900.0,
        credit_limit=5_000.0,
        min_payment_due=300.0,
        due_date=D + timedelta(days=25),
        days_past_due=95,
        updated_at=utc(D),
    )
    tl.add(
        "core",
        "statements",
        D + timedelta(days=1),
        statement_id=200_01,
        account_id=200,
        statement_date=D - timedelta(days=15),
        balance=4_000.0,
        credit_limit=5_000.0,
        min_payment_due=200.0,
        due_date=D + timedelta(days=10),
        days_past_due=120,
        updated_at=utc(D + timedelta(days=1)),
    )
    tl.add(
        "core", "repayments", D, repayment_id=2, account_id=200, paid_at=utc(D, 1), amount=1_000.0, updated_at=utc(D, 1)
    )
    # Bureau deliveries of D itself and the day after.
    for day in (D, D + timedelta(days=1)):
        tl.add(
            "partner",
            "bureau",
            day,
            customer_id=20,
            bureau_score=300,
            open_loans=9,
            total_debt=99_000.0,
            max_dpd_12m=90,
            inquiries_6m=8,
        )


def test_future_data_does_not_change_the_features_at_d(spark, tiny):
    tiny.publish(through=D - timedelta(days=1))
    before = features(spark, tiny)

    plant_future(tiny)
    tiny.publish(through=D + timedelta(days=6))
    after = features(spark, tiny)

    pd.testing.assert_frame_equal(after, before)
    # The planted data is visible a week later: the test above could have failed.
    later = features(spark, tiny, D + timedelta(days=7))
    assert later.loc[100, "amount_max_7d"] == 9_999.0
    assert later.loc[200, "bureau_score"] == 300
    assert later.loc[200, "dpd_max_180d"] == 120


def test_a_missing_input_day_fails_naming_the_partition(spark, tiny):
    tiny.publish(through=D - timedelta(days=2))
    with pytest.raises(MissingInputError, match=r"raw/core/\w+: no partition ds=2030-02-28"):
        features(spark, tiny)


def only_version(tl: TinyLake, dataset: str, key: str, value: int, **changes) -> None:
    """Turn the row of `key` = `value` into one changed after D (a source keeps only the latest version)."""
    for (_, name, _), rows in tl.rows.items():
        for row in rows:
            if name == dataset and row[key] == value:
                row.update(changes)


def snapshot_lake(tmp_path, name: str, **later) -> TinyLake:
    """The portfolio with its core tables landed by one initial load after D + 90. Account 100 and its
    customer 10 changed at D + 10 (values from `later`), so their only version is from after D."""
    tl = TinyLake(Lake.from_uri(f"file://{tmp_path}/{name}"))
    portfolio(tl)
    changed_at = utc(D + timedelta(days=10))
    only_version(
        tl, "accounts", "account_id", 100, updated_at=changed_at, status=later["status"], credit_limit=later["limit"]
    )
    only_version(
        tl,
        "customers",
        "customer_id",
        10,
        updated_at=changed_at,
        income=later["income"],
        employment_status=later["employment"],
    )
    snapshot = D + timedelta(days=91)
    tl.publish(through=snapshot, snapshot=snapshot)
    return tl


@pytest.mark.parametrize("kind", ["scoring", "training"])
def test_a_row_whose_only_version_is_later_keeps_its_stable_columns_and_nothing_later(spark, tmp_path, tiny, kind):
    charged_off = snapshot_lake(tmp_path, "a", status="charged_off", limit=500.0, income=1.0, employment="unemployed")
    raised = snapshot_lake(tmp_path, "b", status="active", limit=20_000.0, income=250_000.0, employment="retired")

    got = features(spark, charged_off, kind=kind)

    # Whatever the later version says, the features at D are the same: nothing of it leaks.
    pd.testing.assert_frame_equal(got, features(spark, raised, kind=kind))
    # The account is in the population (active at D), with what cannot change and its limit as of D.
    account = got.loc[100]
    assert account["product"] == "classic" and account["age_band"] == "36-45"
    assert account["credit_limit"] == 5_000.0  # its latest statement before D says so
    assert pd.isna(account["income"]) and account["employment_status"] is None
    # A row with a version before D is read as before.
    tiny.publish(through=D + timedelta(days=91))
    daily = features(spark, tiny, kind=kind)
    pd.testing.assert_series_equal(got.loc[200], daily.loc[200])
    assert daily.loc[100, "income"] == 40_000.0


def test_a_later_daily_partition_does_not_stand_in_for_earlier_days(spark, tiny):
    tiny.publish(through=D + timedelta(days=3), since=D + timedelta(days=1))
    with pytest.raises(MissingInputError, match=r"raw/core/\w+: no partition ds=2030-02-28 \(latest 2029-01-01\)"):
        features(spark, tiny)


def archive_month(tl: TinyLake, month: date) -> None:
    """One archived event in `month` (the archive lands whole months as ds=<first day>)."""
    tl.add(
        "archive",
        "transactions",
        month,
        schema_version=1,
        txn_id=f"a{month}",
        account_id=100,
        event_time=utc(month + timedelta(days=3)),
        amount=10.0,
        currency="EUR",
        mcc="5411",
        channel="pos",
        country="DE",
        declined=False,
        arrival_time=utc(month + timedelta(days=3)),
    )


def test_days_between_the_archive_and_the_kafka_days_fail_naming_them(spark, tmp_path):
    # Archived through January; Kafka holds only the days from Feb 15 (its older days expired unlanded).
    tl = TinyLake(Lake.from_uri(f"file://{tmp_path}/lake"))
    portfolio(tl)
    tl.rows = {k: v for k, v in tl.rows.items() if k[1] != "card_transactions" or k[2] >= date(2030, 2, 15)}
    archive_month(tl, date(2030, 1, 1))
    tl.publish(through=D - timedelta(days=1), since=date(2030, 2, 15))
    with pytest.raises(MissingInputError, match=r"no transactions for 2030-02-01\.\.2030-02-14, between the archive"):
        features(spark, tl)

    archive_month(tl, date(2030, 2, 1))  # February archived: nothing missing any more
    tl.publish(through=D - timedelta(days=1), since=date(2030, 2, 15))
    assert list(features(spark, tl).index) == [100, 200]
