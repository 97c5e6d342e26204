"""Quality-gate throughput: rows validated per second by the transactions suite, per GX engine.

Validates one synthetic `raw/archive/transactions` partition of N rows (the full suite:
schema, keys, uniqueness, ranges, sets, regexes, interval, referential integrity against
100,000 known accounts, mean and median) with each engine, side by side in one run:

- `pandas`: GX's pandas datasource, the whole partition in memory (`read_partition` -> pandas).
- `spark`: GX's Spark datasource over the partition's Parquet files (`local[*]`, cached),
  referential integrity as an anti-join (`UnexpectedRowsExpectation`).

Per-process costs are paid before the timer, as a long-lived worker pays them once: the
GX import, the Spark session's cold start and one small warm-up validation per engine
(JVM class loading and JIT: the first Spark validation in a process takes ~50 s longer).

    python -m bench.quality [--rows 1000000 10000000] [--engines pandas spark]

Writes the table to `bench/results/quality.md` (same columns as `make bench`'s table).
The numbers decide `include.quality.validate.SPARK_FROM_ROWS`. 10M rows through pandas
needs several GB (strings as Python objects); skip it with `--engines spark` on small machines.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench import write_results
from include import lake as lk
from include.quality import validate

MONTH = date(2026, 6, 1)
ACCOUNTS = 100_000
CHUNK = 1_000_000
WARM_UP_ROWS = 10_000
RESULTS = Path(__file__).resolve().parent / "results" / "quality.md"


def _chunk(rng: np.random.Generator, start: int, n: int) -> pa.Table:
    month_us = int(np.datetime64("2026-06-01", "us").astype(np.int64))
    return pa.table(
        {
            "schema_version": pa.array(np.ones(n, np.int32)),
            "txn_id": pa.array([f"t{start + i:012d}" for i in range(n)]),
            "account_id": pa.array(rng.integers(1, ACCOUNTS + 1, n)),
            "event_time": pa.array(month_us + rng.integers(0, 29 * 86_400_000_000, n), pa.timestamp("us", tz="UTC")),
            "amount": pa.array(np.round(rng.lognormal(3.5, 1.0, n), 2)),
            "currency": pa.array(rng.choice(["EUR", "EUR", "EUR", "PLN", "GBP", "USD"], n)),
            "mcc": pa.array(rng.choice(["5411", "5812", "5999", "6011"], n)),
            "channel": pa.array(rng.choice(["pos", "ecom", "atm", "contactless"], n)),
            "country": pa.array(rng.choice(["DE", "FR", "AT", "PL"], n)),
            "declined": pa.array(rng.random(n) < 0.03),
        }
    )


def _prepare(lake: lk.Lake, rows: int) -> lk.PartitionRef:
    rng = np.random.default_rng(1)
    accounts = pa.table({"account_id": pa.array(np.arange(1, ACCOUNTS + 1))})
    lk.write_partition(
        lake, lake.partition("validated", "core", "accounts", ds=MONTH), accounts, source_position={}, written_by={}
    )
    ref = lake.partition("raw", "archive", "transactions", ds=MONTH)
    chunks = (_chunk(rng, start, min(CHUNK, rows - start)) for start in range(0, rows, CHUNK))
    lk.write_partition(lake, ref, (b for t in chunks for b in t.to_batches()), source_position={}, written_by={})
    return ref


def run(rows_list: list[int] | None = None, engines: list[str] | None = None) -> list[dict]:
    rows_list, engines = rows_list or [1_000_000, 10_000_000], engines or ["pandas", "spark"]
    import great_expectations  # noqa: F401  (the import costs seconds once per process)

    if "spark" in engines:
        validate.spark_session()
    with tempfile.TemporaryDirectory() as root:
        lake = lk.Lake.from_uri(f"file://{root}")
        ref = _prepare(lake, WARM_UP_ROWS)
        for engine in engines:
            validate.validate_partition(lake, ref, engine=engine)
    out = []
    for rows in rows_list:
        seconds = {}
        with tempfile.TemporaryDirectory() as root:
            lake = lk.Lake.from_uri(f"file://{root}")
            ref = _prepare(lake, rows)
            for engine in engines:
                started = time.perf_counter()
                verdict = validate.validate_partition(lake, ref, engine=engine)
                seconds[engine] = time.perf_counter() - started
                assert verdict.success, verdict.summary()
                print(f"  {rows:,} rows, {engine}: {seconds[engine]:.1f} s", flush=True)
        figures = {e: f"{e} {rows / s:,.0f} rows/s ({s:.1f} s)" for e, s in seconds.items()}
        if "pandas" in figures:  # the pandas frame lives in this process (Spark's data in the JVM's)
            figures["pandas"] += f", peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GB"
        project, reference = figures.get("spark", ""), figures.get("pandas", "")
        ratio = f"{seconds['pandas'] / seconds['spark']:.2f}" if len(seconds) == 2 else "n/a"
        out.append(
            {
                "figure": f"transactions suite, {rows:,} rows: rows validated/s (ratio = spark speed / pandas)",
                "project": project,
                "reference": reference,
                "ratio": ratio,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", choices=["pandas", "spark"], default=["pandas", "spark"])
    args = parser.parse_args()
    command = f"`python -m bench.quality --rows {' '.join(map(str, args.rows))} --engines {' '.join(args.engines)}`"
    rows = (("Quality gate", row) for row in run(args.rows, args.engines))
    write_results(RESULTS, "Quality gate benchmark", command, rows)


if __name__ == "__main__":
    main()
