"""Features at D see only what was known before D: planted future data changes nothing at D."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from include.features import spark_engine
from include.features.definitions import CREDIT_DEFAULT
from include.features.inputs import MissingInputError
from tests.unit.features.conftest import ZONE, D, TinyLake, utc


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
