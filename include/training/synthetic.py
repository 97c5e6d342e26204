"""A learnable training set in the feature pipeline's contract, for tests and benchmarks.

Not demo data (that is `devstack.seed`, through the real pipeline): a hand-made frame
whose default probability is a known logistic function of a latent risk, so a trainer
that learns anything reaches a ROC AUC well above 0.7, `utilization_last` raises and
`bureau_score` lowers the risk, and `region` carries no signal at all. Column names and
types follow `include.features` (a subset of its columns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EMPLOYMENT = np.array(["employed", "self_employed", "retired", "unemployed"])
REGIONS = np.array(["DE-BY", "DE-BE", "DE-HH", "DE-NW", "DE-SN"])
PRODUCTS = np.array(["classic", "gold", "platinum"])
AGE_BANDS = np.array(["18-25", "26-35", "36-45", "46-55", "56-65", "66+"])


def synthetic_training_set(
    rows: int, *, months: int = 6, last_month: str = "2026-09", seed: int = 0, default_rate: float = 0.05
) -> pd.DataFrame:
    """`rows` observations spread over `months` month-start dates ending at `last_month`."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=rows)  # the latent risk, never a column
    first = pd.Period(last_month, "M") - (months - 1)
    ds = np.array([(first + int(k)).to_timestamp() for k in range(months)])[rng.integers(0, months, rows)]
    unemployed = rng.random(rows) < 1 / (1 + np.exp(-(z - 2.5)))
    employment = np.where(unemployed, "unemployed", EMPLOYMENT[rng.integers(0, 3, rows)])
    frame = pd.DataFrame(
        {
            "account_id": np.arange(1, rows + 1, dtype=np.int64),
            "ds": pd.to_datetime(ds),
            "utilization_last": np.clip(0.35 + 0.2 * z + rng.normal(0, 0.2, rows), 0, 1.5),
            "dpd_last": np.clip(np.round(z + rng.normal(0, 1.2, rows) - 1.3), 0, 3) * 30.0,
            "cash_advance_share_90d": np.clip(0.05 + 0.05 * z + rng.normal(0, 0.06, rows), 0, 1),
            "declined_share_90d": np.clip(0.02 + 0.02 * z + rng.normal(0, 0.03, rows), 0, 1),
            "bureau_score": np.round(680 - 45 * z + rng.normal(0, 40, rows)),
            "income": np.exp(10.6 - 0.2 * z + rng.normal(0, 0.4, rows)),
            "product": PRODUCTS[rng.integers(0, len(PRODUCTS), rows)],
            "age_band": AGE_BANDS[rng.integers(0, len(AGE_BANDS), rows)],
            "employment_status": employment,
            "region": REGIONS[rng.integers(0, len(REGIONS), rows)],
        }
    )
    frame.loc[rng.random(rows) < 0.03, "bureau_score"] = np.nan  # no bureau hit
    logit = 1.3 * z + 1.2 * unemployed
    intercept = _intercept_for(logit, default_rate)
    frame["label"] = (rng.random(rows) < 1 / (1 + np.exp(-(intercept + logit)))).astype(np.int64)
    return frame


def _intercept_for(logit: np.ndarray, rate: float) -> float:
    low, high = -20.0, 20.0
    for _ in range(50):
        mid = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(mid + logit)))) < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def publish_to_lake(frame: pd.DataFrame, lake, feature_set: str, version: str) -> list[str]:
    """Commit `frame` as `features/<feature_set>/<version>/ds=…` partitions, one per `ds`, as the feature
    pipeline lays them out; returns their URIs, oldest first (for tests and benchmarks without Spark)."""
    import pyarrow as pa

    from include.lake import write_partition

    uris = []
    for ds, part in frame.groupby(frame["ds"].dt.date):
        ref = lake.partition("features", feature_set, version, ds=ds)
        table = pa.Table.from_pandas(part.reset_index(drop=True), preserve_index=False)
        write_partition(lake, ref, table, source_position={"synthetic": True}, written_by={"dag_id": "synthetic"})
        uris.append(ref.uri)
    return uris
