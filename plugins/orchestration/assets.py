"""Airflow Assets for lake datasets, named one way everywhere.

`lake_asset("raw", "core", "accounts")` is the Asset `lake/raw/core/accounts`: the
producer's outlet and every consumer's schedule refer to it through this function.
Names carry no URI scheme on purpose: an Asset URI with a scheme makes Airflow load
every provider's URI handlers at DAG parse time (boto3 among them, ~200 ms a file).
"""

from __future__ import annotations

from airflow.sdk import Asset


def lake_asset(zone: str, *parts: str) -> Asset:
    return Asset(name="/".join(("lake", zone, *parts)))
