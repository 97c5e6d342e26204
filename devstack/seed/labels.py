"""The default label of the credit-default model, as a plain function of statements.

Default = 90+ days past due within 90 days of the observation date: for an account and
an observation date D, the label is 1 if any of the account's statements dated in
(D, D + 90 days] has `days_past_due >= 90`, else 0. Statements dated on D itself belong
to the features' side of D, never to the label's.

A label is only final once D + 90 days has passed; choosing observation dates that have
matured, and which accounts are in the population (on book at D, not already in default),
is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd

HORIZON_DAYS = 90
DEFAULT_DPD = 90


def default_labels(
    statements: pd.DataFrame,
    observation_dates: Iterable[date | str | pd.Timestamp],
    horizon_days: int = HORIZON_DAYS,
    dpd_threshold: int = DEFAULT_DPD,
) -> pd.DataFrame:
    """One row per account in `statements` and observation date: account_id, observation_date, label (0/1).

    `statements` needs the columns account_id, statement_date and days_past_due.
    """
    needed = ["account_id", "statement_date", "days_past_due"]
    missing = [c for c in needed if c not in statements.columns]
    if missing:
        raise ValueError(f"statements: missing column(s) {', '.join(missing)}; expected {', '.join(needed)}")
    dates = pd.DatetimeIndex(pd.to_datetime(list(observation_dates))).unique().sort_values()
    accounts = pd.Index(statements["account_id"].unique(), name="account_id").sort_values()

    # Only the few defaulted statements need pairing with the dates, not every statement.
    bad = statements.loc[statements["days_past_due"] >= dpd_threshold, ["account_id", "statement_date"]]
    bad = bad.assign(statement_date=pd.to_datetime(bad["statement_date"]))
    pairs = bad.merge(pd.DataFrame({"observation_date": dates}), how="cross")
    in_window = (pairs["statement_date"] > pairs["observation_date"]) & (
        pairs["statement_date"] <= pairs["observation_date"] + pd.Timedelta(days=horizon_days)
    )
    defaulted = pd.MultiIndex.from_frame(pairs.loc[in_window, ["account_id", "observation_date"]].drop_duplicates())

    grid = pd.MultiIndex.from_product([accounts, dates], names=["account_id", "observation_date"])
    return pd.DataFrame(
        {
            "account_id": grid.get_level_values(0),
            "observation_date": grid.get_level_values(1),
            "label": grid.isin(defaulted).astype("int8"),
        }
    )
