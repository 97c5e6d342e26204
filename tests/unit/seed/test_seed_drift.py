"""The drift scenario: identical to normal before `drift_from`, shifted in the intended direction after."""

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from devstack.seed import generate as gen

EVENT_TABLES = [
    ("transactions", "event_time"),
    ("statements", "statement_date"),
    ("repayments", "paid_at"),
    ("bureau", "dt"),
]


def split(table: pa.Table, column: str, at: date) -> tuple[pa.Table, pa.Table]:
    """(rows before `at`, rows on or after it)."""
    values = table[column]
    bound = pa.scalar(at) if pa.types.is_date(values.type) else pa.scalar(np.datetime64(at, "us")).cast(values.type)
    return table.filter(pc.less(values, bound)), table.filter(pc.greater_equal(values, bound))


@pytest.mark.parametrize(("table", "column"), EVENT_TABLES)
def test_drift_changes_nothing_before_its_date(portfolio, drifted, drift_params, table, column):
    normal_before, _ = split(getattr(portfolio, table), column, drift_params.drift_from)
    drift_before, _ = split(getattr(drifted, table), column, drift_params.drift_from)
    assert normal_before.num_rows > 0
    assert drift_before.equals(normal_before)


def test_customers_only_change_after_the_drift_date(portfolio, drifted, drift_params):
    since = pa.scalar(np.datetime64(drift_params.drift_from, "us")).cast(gen.CUSTOMERS.field("updated_at").type)
    changed = pc.invert(pc.equal(drifted.customers["income"], portfolio.customers["income"]))
    assert pc.sum(changed.cast(pa.int64())).as_py() > 0.2 * drifted.customers.num_rows
    assert pc.all(pc.greater_equal(drifted.customers.filter(changed)["updated_at"], since)).as_py()
    normal_income = pc.mean(portfolio.customers["income"]).as_py()
    assert pc.mean(drifted.customers["income"]).as_py() < 0.95 * normal_income


def shares(transactions: pa.Table) -> dict[str, float]:
    txns = transactions.to_pandas()
    return {
        "per_day": len(txns) / txns["event_time"].dt.date.nunique(),
        "night": (txns["event_time"].dt.hour < 6).mean(),
        "atm": (txns["channel"] == "atm").mean(),
        "amount_mean": txns["amount"].mean(),
        "amount_median": txns["amount"].median(),
    }


def test_after_the_drift_date_cards_are_used_more_often_and_more_at_night(portfolio, drifted, drift_params):
    _, normal = split(portfolio.transactions, "event_time", drift_params.drift_from)
    _, drift = split(drifted.transactions, "event_time", drift_params.drift_from)
    before, after = shares(normal), shares(drift)
    assert after["per_day"] > 1.25 * before["per_day"]
    assert after["night"] > 2 * before["night"]


def test_the_drift_keeps_what_each_transaction_costs_within_the_quality_gates_bands(portfolio, drifted, drift_params):
    """The raw suites learn amount mean and median bands of a few per cent: drifted days must pass them."""
    _, normal = split(portfolio.transactions, "event_time", drift_params.drift_from)
    _, drift = split(drifted.transactions, "event_time", drift_params.drift_from)
    before, after = shares(normal), shares(drift)
    for name in ("amount_mean", "amount_median"):
        assert after[name] == pytest.approx(before[name], rel=0.04), name
    assert after["atm"] == pytest.approx(before["atm"], rel=0.1)


def test_after_the_drift_date_the_bureau_sees_more_inquiries_and_lower_scores(portfolio, drifted, drift_params):
    _, normal = split(portfolio.bureau, "dt", drift_params.drift_from)
    _, drift = split(drifted.bureau, "dt", drift_params.drift_from)
    assert pc.mean(drift["inquiries_6m"]).as_py() > pc.mean(normal["inquiries_6m"]).as_py() + 0.5
    normal_score = pc.mean(normal["bureau_score"]).as_py()
    # Lower, but by less than the bureau suite's learned band (2% of the mean).
    assert normal_score - 0.02 * normal_score < pc.mean(drift["bureau_score"]).as_py() < normal_score - 2


def test_after_the_drift_date_more_accounts_fall_behind(portfolio, drifted, drift_params):
    def behind(statements: pa.Table) -> float:
        _, after = split(statements, "statement_date", drift_params.drift_from)
        return pc.mean(pc.greater_equal(after["days_past_due"], 30).cast(pa.float64())).as_py()

    assert behind(drifted.statements) > 1.2 * behind(portfolio.statements)
