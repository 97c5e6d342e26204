"""The SQL rendering of the transaction aggregates on Spark equals the independent pandas implementation."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from include.features import pandas_reference
from include.features.definitions import CREDIT_DEFAULT
from include.features.query import DISTINCT_STRATEGIES, transaction_aggregates_sql
from tests.unit.features.conftest import D, utc


def random_events(n: int = 400, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(utc(D - timedelta(days=100), 0))
    return pd.DataFrame(
        {
            "account_id": rng.integers(1, 12, n).astype("int64"),
            # Some events on or after D: they must not count.
            "event_time": start + pd.to_timedelta(rng.integers(0, 105 * 24 * 3600, n), unit="s"),
            "amount": rng.gamma(2.0, 40.0, n).round(2),
            "mcc": rng.choice(["5411", "5812", "6011", "5999", "4111"], n),
            "country": rng.choice(["DE", "DE", "DE", "FR", "AT"], n),
            "declined": rng.random(n) < 0.1,
        }
    )


@pytest.mark.parametrize("distinct", DISTINCT_STRATEGIES)
def test_spark_sql_equals_pandas_on_random_events(spark, distinct):
    events = random_events()
    spark.createDataFrame(events).createOrReplaceTempView("transactions")

    got = spark.sql(transaction_aggregates_sql(CREDIT_DEFAULT, D, distinct)).toPandas().set_index("account_id")
    expected = pandas_reference.transaction_aggregates(CREDIT_DEFAULT, events, D)

    assert sorted(got.index) == sorted(expected.index)
    pd.testing.assert_frame_equal(
        got.sort_index()[expected.columns].astype("float64"), expected, check_exact=False, rtol=1e-9, check_names=False
    )
