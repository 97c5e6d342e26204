"""The transaction aggregates in plain pandas: an independent second implementation.

Not on any production path. The unit tests check the SQL rendering against it on random
data, and `bench/features.py` times it as the straightforward single-machine baseline.
It interprets the same `Aggregate` declarations, in pandas terms.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from include.features.definitions import Aggregate, FeatureSet


def _mask(events: pd.DataFrame, where: str | None) -> pd.Series:
    """The SQL predicates the feature set uses, as pandas masks."""
    if where is None:
        return pd.Series(True, index=events.index)
    if where == "not declined":
        return ~events["declined"]
    if where == "declined":
        return events["declined"].astype(bool)
    if where.startswith("mcc = "):
        return events["mcc"] == where.split("'")[1]
    if where.startswith("country <> "):
        return events["country"] != where.split("'")[1]
    if where == "hour(event_time) < 6":
        return events["event_time"].dt.hour < 6
    raise ValueError(f"pandas reference: no translation for predicate '{where}'")


def _one(agg: Aggregate, frame: pd.DataFrame) -> pd.Series:
    groups_all = frame.groupby("account_id")
    if agg.fn == "share":
        return _mask(frame, agg.where).astype(float).groupby(frame["account_id"]).mean()
    selected = frame[_mask(frame, agg.where)]
    groups = selected.groupby("account_id")
    if agg.fn == "count":
        return groups.size().reindex(groups_all.size().index, fill_value=0)
    if agg.fn == "distinct":
        return groups[agg.value].nunique().reindex(groups_all.size().index, fill_value=0)
    column = groups[agg.value]
    result = {"sum": column.sum, "mean": column.mean, "std": column.std, "max": column.max}[agg.fn]()
    if agg.fn == "sum":
        return result.reindex(groups_all.size().index, fill_value=0.0)
    return result.reindex(groups_all.size().index)


def transaction_aggregates(fs: FeatureSet, events: pd.DataFrame, d: date) -> pd.DataFrame:
    """One row per account with events in [D - max window, D), indexed by account_id."""
    end = datetime(d.year, d.month, d.day, tzinfo=UTC)
    events = events.reset_index(drop=True)
    times = events["event_time"]
    if times.dt.tz is None:
        times = times.dt.tz_localize("UTC")
    columns = {}
    for w in fs.windows_days:
        in_window = events[(times >= end - timedelta(days=w)) & (times < end)]
        in_window = in_window.assign(event_time=times[in_window.index])
        for agg in fs.transaction_aggregates:
            columns[f"{agg.name}_{w}d"] = _one(agg, in_window)
    out = pd.DataFrame(columns)
    zero = [
        f"{a.name}_{w}d"
        for a in fs.transaction_aggregates
        if a.fn in ("count", "sum", "distinct")
        for w in fs.windows_days
    ]
    out[zero] = out[zero].fillna(0)
    ordered = [f"{agg.name}_{w}d" for agg in fs.transaction_aggregates for w in fs.windows_days]
    return out[ordered].astype(np.float64).sort_index()
