"""The training set: features at D with the label matured at D + 90 days; the scoring set: active accounts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from include.features.inputs import MissingInputError
from tests.unit.features.conftest import D, TinyLake, utc
from tests.unit.features.test_point_in_time import features


def statement(tl: TinyLake, account: int, day: date, dpd: int, sid: int) -> None:
    tl.add(
        "core",
        "statements",
        day,
        statement_id=sid,
        account_id=account,
        statement_date=day,
        balance=4_000.0,
        credit_limit=5_000.0,
        min_payment_due=200.0,
        due_date=day + timedelta(days=25),
        days_past_due=dpd,
        updated_at=utc(day),
    )


def test_label_is_90_plus_dpd_within_the_horizon_only(spark, tiny):
    statement(tiny, 100, D + timedelta(days=90), 95, 1)  # on the horizon's last day: counts
    statement(tiny, 200, D + timedelta(days=91), 120, 2)  # a day too late
    tiny.publish(through=D + timedelta(days=91))

    got = features(spark, tiny, kind="training")

    assert got["label"].to_dict() == {100: 1, 200: 0}
    assert str(got["label"].dtype) == "int32"


def test_accounts_already_in_default_or_inactive_are_left_out(spark, tiny):
    statement(tiny, 200, D - timedelta(days=5), 90, 3)  # in default at D
    tiny.add(
        "core",
        "customers",
        date(2029, 2, 1),
        customer_id=30,
        birth_date=date(2000, 1, 1),
        gender="M",
        income=20_000.0,
        employment_status="student",
        region="DE-BE",
        created_at=utc(date(2029, 2, 1)),
        updated_at=utc(date(2029, 2, 1)),
    )
    tiny.add(
        "core",
        "accounts",
        date(2029, 2, 1),
        account_id=300,
        customer_id=30,
        product="student",
        credit_limit=1_000.0,
        status="closed",
        opened_at=date(2029, 2, 1),
        updated_at=utc(date(2029, 2, 1)),
    )
    tiny.publish(through=D + timedelta(days=90))

    assert list(features(spark, tiny, kind="training").index) == [100]
    assert list(features(spark, tiny, kind="scoring").index) == [100, 200]


def test_a_label_not_yet_matured_fails(spark, tiny):
    tiny.publish(through=D + timedelta(days=30))
    with pytest.raises(MissingInputError, match="label matures"):
        features(spark, tiny, kind="training")
