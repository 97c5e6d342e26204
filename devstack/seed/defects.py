"""Broken deliveries for the data-quality gate: the catalogue of defects and how to make each one.

A defect turns one clean delivery (a day's bureau CSV, a month's transaction archive
file, a batch of Kafka events) into the broken one an upstream could really send.
Row defects hit `AFFECTED_SHARE` of the rows (at least one), chosen by the seed, so
every defective delivery is reproducible.

`defective_table` applies the defects that live in the data (columns, keys, values),
`defective_file` the one that lives in the bytes (corrupt); `bureau_csv` and
`archive_parquet` make a whole delivery through both. Kafka batches can use
`defective_table` too: `encode.json_events` encodes whatever columns it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from devstack.seed import encode

AFFECTED_SHARE = 0.05
DAY_US = 86_400_000_000
ORPHAN_ID_OFFSET = 900_000_000_000  # far above every id the generator gives out
BUREAU, TRANSACTIONS = "bureau", "transactions"


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    sources: frozenset[str]


def _defect(name: str, description: str, *sources: str) -> Defect:
    return Defect(name, description, frozenset(sources or (BUREAU, TRANSACTIONS)))


DEFECTS: dict[str, Defect] = {
    d.name: d
    for d in [
        _defect("missing_column", "a required column is absent (bureau_score; transactions: amount)"),
        _defect("renamed_column", "a column arrives under another name (bureau_score -> score; amount -> amt)"),
        _defect("wrong_type", "the money column arrives as text with a decimal comma (total_debt; amount)"),
        _defect("null_keys", "the key is empty in some rows (customer_id; txn_id)"),
        _defect("duplicate_keys", "some rows are delivered twice (same customer_id; same txn_id)"),
        _defect("negative_amounts", "some amounts are negative (total_debt; amount)"),
        _defect("future_timestamps", "some events are dated after the delivery was made", TRANSACTIONS),
        _defect("unknown_currency", "some currencies are not ISO 4217 codes the bank knows", TRANSACTIONS),
        _defect("empty_file", "the file has no rows (a CSV with its header only; a Parquet file with its schema only)"),
        _defect("corrupt_file", "the file is cut off mid-way and ends in garbage bytes"),
        _defect("volume_drop_90", "90% of the rows are missing"),
        _defect("orphan_ids", "some rows reference ids core does not know (customer_id; account_id)"),
    ]
}


@dataclass(frozen=True)
class _Columns:
    """Which column of a source each defect hits."""

    key: str
    reference: str
    amount: str
    required: str


_COLUMNS = {
    BUREAU: _Columns(key="customer_id", reference="customer_id", amount="total_debt", required="bureau_score"),
    TRANSACTIONS: _Columns(key="txn_id", reference="account_id", amount="amount", required="amount"),
}
_RENAMED = {"bureau_score": "score", "amount": "amt"}
_UNKNOWN_CURRENCIES = ["XXX", "EURO", "ZZZ"]


def check(defect: str, source: str) -> Defect:
    """The catalogue entry, or an error naming what is known."""
    if source not in _COLUMNS:
        raise ValueError(f"unknown source {source!r}: expected one of {', '.join(_COLUMNS)}")
    if defect not in DEFECTS:
        raise ValueError(f"unknown defect {defect!r}: expected one of {', '.join(DEFECTS)}")
    if source not in DEFECTS[defect].sources:
        applies = ", ".join(sorted(DEFECTS[defect].sources))
        raise ValueError(f"defect {defect!r} does not apply to {source}: it applies to {applies}")
    return DEFECTS[defect]


def defective_table(table: pa.Table, defect: str, source: str, seed: int, delivered_at: datetime) -> pa.Table:
    """The rows of a delivery with `defect`; file-level defects leave the rows as they are."""
    check(defect, source)
    rng = np.random.default_rng([seed, list(DEFECTS).index(defect)])
    columns = _COLUMNS[source]
    n = table.num_rows
    hit = np.zeros(n, bool)
    if n:
        hit[rng.choice(n, max(1, round(n * AFFECTED_SHARE)), replace=False)] = True
    hit_array = pa.array(hit)

    if defect == "missing_column":
        return table.drop_columns([columns.required])
    if defect == "renamed_column":
        return table.rename_columns([_RENAMED.get(c, c) if c == columns.required else c for c in table.column_names])
    if defect == "wrong_type":
        text = pc.replace_substring(table[columns.amount].cast(pa.string()), ".", ",")
        return _replace(table, columns.amount, text)
    if defect == "null_keys":
        column = table[columns.key]
        return _replace(table, columns.key, pc.if_else(hit_array, pa.scalar(None, column.type), column))
    if defect == "duplicate_keys":
        return pa.concat_tables([table, table.filter(hit_array)])
    if defect == "negative_amounts":
        column = table[columns.amount]
        return _replace(table, columns.amount, pc.if_else(hit_array, pc.negate(column), column))
    if defect == "future_timestamps":
        ahead_us = ((1 + rng.random(n) * 29) * DAY_US).astype(np.int64)
        future = pa.array(round(delivered_at.timestamp() * 1e6) + ahead_us, table["event_time"].type)
        return _replace(table, "event_time", pc.if_else(hit_array, future, table["event_time"]))
    if defect == "unknown_currency":
        unknown = pa.array(rng.choice(_UNKNOWN_CURRENCIES, n))
        return _replace(table, "currency", pc.if_else(hit_array, unknown, table["currency"]))
    if defect == "empty_file":
        return table.slice(0, 0)
    if defect == "volume_drop_90":
        return table.filter(pa.array(rng.random(n) < 0.1))
    if defect == "orphan_ids":
        column = table[columns.reference]
        return _replace(table, columns.reference, pc.if_else(hit_array, pc.add(column, ORPHAN_ID_OFFSET), column))
    return table


def defective_file(data: bytes, defect: str, seed: int) -> bytes:
    """The bytes of a delivery with a file-level defect (corrupt); others pass through."""
    if defect == "corrupt_file":
        rng = np.random.default_rng([seed, list(DEFECTS).index(defect)])
        cut = max(1, int(len(data) * 0.6))
        return data[:cut] + rng.bytes(64)
    return data


def _replace(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, values)


def bureau_csv(rows: pa.Table, defect: str, seed: int, delivered_at: datetime) -> bytes:
    """A bureau day's CSV file with `defect`."""
    broken = defective_table(rows, defect, BUREAU, seed, delivered_at)
    return defective_file(encode.csv_bytes(broken), defect, seed)


def archive_parquet(events: pa.Table, defect: str, seed: int, delivered_at: datetime) -> bytes:
    """A month's transaction archive file with `defect`."""
    broken = defective_table(events, defect, TRANSACTIONS, seed, delivered_at)
    return defective_file(encode.parquet_bytes(broken), defect, seed)
