"""The data carries a learnable, realistic default signal: a few per cent default within 90 days,
and a plain model on simple features separates them about as well as a bank's scorecard does."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from devstack.seed.generate import Portfolio, SeedParams, generate
from devstack.seed.labels import default_labels

PARAMS = SeedParams(customers=5_000, start=date(2026, 1, 1), end=date(2026, 9, 30), seed=42)
TRAIN_DATE, TEST_DATE = pd.Timestamp("2026-05-01"), pd.Timestamp("2026-06-01")  # an out-of-time holdout


@pytest.fixture(scope="module")
def book() -> Portfolio:
    return generate(PARAMS)


def features(book: Portfolio, d: pd.Timestamp) -> pd.DataFrame:
    """Simple point-in-time features of the accounts on book and not in default at `d`, with their label."""
    st = book.statements.to_pandas()
    st["statement_date"] = pd.to_datetime(st["statement_date"])
    seen = st[st["statement_date"] <= d].sort_values("statement_date")
    last = seen.groupby("account_id").tail(1).set_index("account_id")
    last = last[(last["statement_date"] > d - pd.Timedelta(days=31)) & (last["days_past_due"] < 90)]
    frame = pd.DataFrame(index=last.index)
    frame["utilisation"] = last["balance"] / last["credit_limit"]
    recent = seen[seen["statement_date"] > d - pd.Timedelta(days=92)]
    frame["max_dpd_3m"] = recent.groupby("account_id")["days_past_due"].max()

    owner = book.accounts.to_pandas().set_index("account_id")["customer_id"].reindex(frame.index)
    income = book.customers.to_pandas().set_index("customer_id")["income"]
    frame["log_income"] = np.log(owner.map(income))
    bureau = book.bureau.to_pandas()
    bureau = bureau[pd.to_datetime(bureau["dt"]) <= d].sort_values("dt").groupby("customer_id").tail(1)
    frame["bureau_score"] = owner.map(bureau.set_index("customer_id")["bureau_score"])

    txns = book.transactions.select(["account_id", "event_time", "amount", "channel", "declined"]).to_pandas()
    since, until = (d - pd.Timedelta(days=90)).tz_localize("UTC"), d.tz_localize("UTC")
    txns = txns[(txns["event_time"] >= since) & (txns["event_time"] < until)]
    txns = txns.assign(cash=np.where(txns["channel"] == "atm", txns["amount"], 0.0)).groupby("account_id")
    frame["cash_share"] = txns["cash"].sum() / txns["amount"].sum()
    frame["decline_share"] = txns["declined"].mean()
    frame = frame.fillna({"cash_share": 0.0, "decline_share": 0.0, "bureau_score": 700.0})
    frame["label"] = default_labels(st, [d]).set_index("account_id")["label"].reindex(frame.index)
    return frame


def test_default_rate_is_a_few_percent_and_a_simple_model_reaches_a_realistic_auc(book):
    train, test = features(book, TRAIN_DATE), features(book, TEST_DATE)
    for frame in (train, test):
        assert 0.02 <= frame["label"].mean() <= 0.06
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1_000))
    model.fit(train.drop(columns="label"), train["label"])
    auc = roc_auc_score(test["label"], model.predict_proba(test.drop(columns="label"))[:, 1])
    assert 0.72 <= auc <= 0.88


@pytest.mark.parametrize(
    ("feature", "riskier_when"),
    [
        ("utilisation", "higher"),
        ("max_dpd_3m", "higher"),
        ("cash_share", "higher"),
        ("decline_share", "higher"),
        ("bureau_score", "lower"),
        ("log_income", "lower"),
    ],
)
def test_the_latent_risk_shows_in_each_observable_driver(book, feature, riskier_when):
    frame = features(book, TEST_DATE)
    auc = roc_auc_score(frame["label"], frame[feature] if riskier_when == "higher" else -frame[feature])
    assert auc > 0.58, f"{feature} alone separates defaulters with AUC {auc:.3f}"
