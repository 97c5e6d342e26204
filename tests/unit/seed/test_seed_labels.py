"""The default label: 90+ days past due on a statement in (D, D + 90 days]."""

from datetime import date

import pandas as pd
import pytest

from devstack.seed.labels import default_labels


def statements(*rows: tuple[int, str, int]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "statement_date", "days_past_due"])


def test_labels_on_a_hand_made_example():
    history = statements(
        (1, "2026-01-15", 0),
        (1, "2026-02-15", 30),
        (1, "2026-03-15", 60),
        (1, "2026-04-15", 90),  # account 1 defaults on 15 April
        (2, "2026-01-20", 0),
        (2, "2026-02-20", 30),
        (2, "2026-03-20", 0),  # account 2 cures
        (3, "2026-06-10", 120),  # account 3 is 90+ exactly 90 days after 12 March
    )
    labels = default_labels(history, [date(2026, 1, 15), date(2026, 3, 12), date(2026, 4, 15), date(2026, 4, 16)])
    got = labels.pivot(index="account_id", columns="observation_date", values="label")
    got.columns = [c.date().isoformat() for c in got.columns]
    assert got.to_dict("index") == {
        1: {"2026-01-15": 1, "2026-03-12": 1, "2026-04-15": 0, "2026-04-16": 0},  # 15 Jan + 90 days = 15 Apr
        2: {"2026-01-15": 0, "2026-03-12": 0, "2026-04-15": 0, "2026-04-16": 0},
        3: {"2026-01-15": 0, "2026-03-12": 1, "2026-04-15": 1, "2026-04-16": 1},
    }
    assert labels["label"].dtype == "int8"


def test_the_window_excludes_the_observation_date_and_includes_its_90th_day():
    history = statements((1, "2026-04-15", 90))
    labels = default_labels(history, ["2026-01-15", "2026-01-14", "2026-04-15"]).set_index("observation_date")
    assert labels["label"].to_dict() == {
        pd.Timestamp("2026-01-14"): 0,  # 91 days before
        pd.Timestamp("2026-01-15"): 1,  # exactly 90 days before
        pd.Timestamp("2026-04-15"): 0,  # the statement is on D itself: the features' side
    }


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="missing column"):
        default_labels(pd.DataFrame({"account_id": [1]}), ["2026-01-01"])
