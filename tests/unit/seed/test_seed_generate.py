"""The generated portfolio: deterministic, well-typed, consistent across tables, inside its range."""

import uuid
from dataclasses import fields, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from devstack.seed import encode
from devstack.seed import generate as gen
from devstack.seed.generate import Portfolio, SeedError, SeedParams

TABLES = [f.name for f in fields(Portfolio)]
SCHEMAS = {
    "customers": gen.CUSTOMERS,
    "accounts": gen.ACCOUNTS,
    "statements": gen.STATEMENTS,
    "repayments": gen.REPAYMENTS,
    "transactions": gen.TRANSACTIONS,
    "bureau": gen.BUREAU,
}


def timestamps(table: pa.Table, name: str) -> np.ndarray:
    return table[name].cast(pa.int64()).to_numpy()


def day_us(d: date) -> int:
    return (d - date(1970, 1, 1)).days * gen.DAY_US


def test_same_parameters_give_byte_identical_tables():
    params = SeedParams(customers=300, start=date(2026, 3, 1), end=date(2026, 5, 31), seed=3, block_size=120)
    first, second = gen.generate(params), gen.generate(params)
    for name in TABLES:
        assert encode.parquet_bytes(getattr(first, name)) == encode.parquet_bytes(getattr(second, name)), name
    other = gen.generate(replace(params, seed=4))
    assert not other.transactions.equals(first.transactions)


def test_tables_have_their_schemas_and_enough_rows(portfolio, params):
    for name in TABLES:
        assert getattr(portfolio, name).schema.equals(SCHEMAS[name]), name
    counts = portfolio.counts()
    assert counts["customers"] == params.customers
    assert params.customers * 1.1 < counts["accounts"] < params.customers * 1.2  # ~15% hold a second card
    assert counts["statements"] > counts["accounts"] * 5  # about one per account and month
    assert counts["transactions"] > counts["accounts"] * 6 * 10


def test_keys_are_unique(portfolio):
    for table, key in [
        ("customers", "customer_id"),
        ("accounts", "account_id"),
        ("statements", "statement_id"),
        ("repayments", "repayment_id"),
        ("transactions", "txn_id"),
    ]:
        values = getattr(portfolio, table)[key]
        assert values.null_count == 0, f"{table}.{key} has nulls"
        assert pc.count_distinct(values).as_py() == len(values), f"{table}.{key} is not unique"
    statements = portfolio.statements.select(["account_id", "statement_date"]).group_by(["account_id"])
    assert (
        statements.aggregate([("statement_date", "count_distinct"), ("statement_date", "count")])
        .filter(pc.field("statement_date_count_distinct") != pc.field("statement_date_count"))
        .num_rows
        == 0
    )
    bureau = portfolio.bureau.group_by(["dt", "customer_id"]).aggregate([([], "count_all")])
    assert bureau.num_rows == portfolio.bureau.num_rows
    assert all(uuid.UUID(t).version == 4 for t in portfolio.transactions["txn_id"].slice(0, 1000).to_pylist())


def test_every_reference_points_at_an_existing_row(portfolio):
    customers = portfolio.customers["customer_id"]
    accounts = portfolio.accounts["account_id"]
    assert pc.all(pc.is_in(portfolio.accounts["customer_id"], customers)).as_py()
    assert pc.all(pc.is_in(portfolio.bureau["customer_id"], customers)).as_py()
    for table in ("statements", "repayments", "transactions"):
        assert pc.all(pc.is_in(getattr(portfolio, table)["account_id"], accounts)).as_py(), table


def test_everything_happened_inside_the_range(portfolio, params):
    start, end = params.start, params.end
    after_end = day_us(end + timedelta(days=1))
    for table, name in [("statements", "statement_date"), ("bureau", "dt")]:
        days = getattr(portfolio, table)[name]
        assert pc.min(days).as_py() >= start and pc.max(days).as_py() <= end, table
    for table, name in [("transactions", "event_time"), ("repayments", "paid_at")]:
        times = timestamps(getattr(portfolio, table), name)
        assert times.min() >= day_us(start) and times.max() < after_end, table
    for table in ("customers", "accounts", "statements", "repayments"):
        assert timestamps(getattr(portfolio, table), "updated_at").max() < after_end, table
    customers = portfolio.customers
    assert (timestamps(customers, "updated_at") >= timestamps(customers, "created_at")).all()
    assert pc.max(portfolio.accounts["opened_at"]).as_py() <= end


def test_transactions_only_happen_on_open_accounts(portfolio):
    first = portfolio.transactions.group_by("account_id").aggregate([("event_time", "min")])
    joined = first.join(portfolio.accounts.select(["account_id", "opened_at"]), "account_id")
    opened_us = joined["opened_at"].cast(pa.int32()).to_numpy().astype(np.int64) * gen.DAY_US
    assert joined.num_rows == first.num_rows
    assert (timestamps(joined, "event_time_min") >= opened_us).all()


def test_rows_change_over_time_so_updated_at_moves(portfolio, params):
    start_us = day_us(params.start)
    customers, accounts = portfolio.customers, portfolio.accounts
    changed = (timestamps(customers, "updated_at") > timestamps(customers, "created_at")) & (
        timestamps(customers, "created_at") < start_us
    )
    assert changed.sum() > 50  # income or employment changed after the customer joined
    opened_us = accounts["opened_at"].cast(pa.int32()).to_numpy().astype(np.int64) * gen.DAY_US
    assert (timestamps(accounts, "updated_at") > opened_us + gen.DAY_US).sum() > 50  # limit or status changes
    statuses = set(accounts["status"].to_pylist())
    assert {"active", "charged_off", "closed"} <= statuses
    assert (timestamps(customers, "created_at") >= start_us).sum() > 50  # new customers join during the range


def test_statements_follow_the_delinquency_rules(portfolio):
    st = portfolio.statements.to_pandas()
    assert set(st["days_past_due"].unique()) <= {0, 30, 60, 90, 120, 150, 180}
    assert (st["min_payment_due"] <= st["balance"].clip(lower=0) + 0.005).all()
    due_in = pd.to_datetime(st["due_date"]) - pd.to_datetime(st["statement_date"])
    assert (due_in.dt.days == gen.DUE_DAYS).all()
    st = st.sort_values(["account_id", "statement_date"])
    step = st.groupby("account_id")["days_past_due"].diff().dropna()
    # One cycle more at most, except insolvency which jumps straight to 90 (the largest jump).
    assert step.max() <= 90 and set(step[step > 0].unique()) <= {30, 60, 90}


def test_kafka_window_and_archive_split_the_transactions(portfolio, params):
    window = gen.kafka_window(params, portfolio.transactions)
    archive = gen.archive(params, portfolio.transactions)
    assert window.num_rows + archive.num_rows == portfolio.transactions.num_rows
    since = day_us(params.kafka_from)
    assert timestamps(window, "event_time").min() >= since > timestamps(archive, "event_time").max()
    assert archive.schema.equals(gen.TRANSACTION_EVENT)
    months = [(y, m, t.num_rows) for y, m, t in gen.archive_months(archive)]
    assert [(y, m) for y, m, _ in months] == [(2026, m) for m in range(1, 7)]
    assert sum(n for *_, n in months) == archive.num_rows


def test_late_arrivals_are_a_few_percent_and_produced_after_later_events(portfolio, params):
    window = gen.kafka_window(params, portfolio.transactions)
    arrival = timestamps(window, "arrival_time")
    event = timestamps(window, "event_time")
    assert (np.diff(arrival) >= 0).all()  # the window is in the order events reached Kafka
    late = arrival - event >= gen.LATE_AFTER_US
    assert gen.late_arrivals(window) == late.sum()
    assert 0.01 < late.mean() < 0.06
    assert (arrival - event).max() <= 48 * gen.HOUR_US
    behind = event < np.maximum.accumulate(event)  # produced after an event that happened later
    assert behind[late].all()
    assert behind.sum() < 1.5 * late.sum()  # on-time events are only seconds apart


def test_every_day_has_a_bureau_delivery_and_customers_refresh_monthly(portfolio, params):
    days = [d for d, _ in gen.bureau_days(portfolio.bureau)]
    assert days == [params.start + timedelta(days=i) for i in range((params.end - params.start).days + 1)]
    per_customer = portfolio.bureau.group_by("customer_id").aggregate([([], "count_all")])["count_all"].to_numpy()
    assert np.median(per_customer) == 6  # six months in the range
    _, rows = next(gen.bureau_days(portfolio.bureau))
    assert rows.column_names == list(gen.BUREAU_COLUMNS)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customers": 0}, "customers"),
        ({"start": date(2026, 7, 1)}, "after end"),
        ({"scenario": "chaos"}, "scenario"),
        ({"scenario": "drift", "drift_from": date(2025, 1, 1)}, "drift_from"),
        ({"drift_from": date(2026, 3, 1)}, "only applies to scenario 'drift'"),
    ],
)
def test_parameters_that_cannot_make_a_portfolio_name_the_problem(params, change, message):
    with pytest.raises(SeedError, match=message):
        replace(params, **change)


def test_drift_defaults_to_the_middle_of_the_range(params):
    assert replace(params, scenario="drift").drift_from == date(2026, 4, 1)
