"""Batch inference and monitoring throughput, against the raw operations they wrap, in one run.

- End to end: `include.inference.score_day` over one day of N accounts (read the committed
  features partition in 64k-row batches, predict, COPY + upsert into `ml.scores`, write the
  predictions partition and its manifest; the champion loaded from the MLflow server),
  against raw `Booster.predict` on the same rows already in memory and encoded. Target:
  >= 0.5 of raw. Run twice: into an empty day, then re-scoring the day (every row upserted).
- Postgres write: `ScoresLoad` (delete the day's rows, then per batch COPY into a temporary
  table and insert into `ml.scores`, commit) of the N predictions over an already scored
  day, against a raw COPY of the same CSV into an unindexed table.
- Evidently: `monitoring.drift.drift_report` (data drift, prediction drift, data summary)
  at 100k and 1M rows a side, each in a child process with a time limit; and whether a
  100k-row sample of a drifted 1M-row day gives the same verdict and scores as all of it.

The model is the credit_default YAML's LightGBM, trained on a synthetic training set
(`include.training.synthetic`) widened with `--extra-columns` noise features, so the table
is about as wide as the real feature set (~50 features). The Evidently part uses the
synthetic features only (9 + the prediction). Scratch database, lake and registry model
are created for the run; the database and lake are removed afterwards.

    python -m bench.inference [--rows 1000000] [--evidently-rows 100000 1000000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "inference.md"
DAY = date(2026, 12, 1)
EVIDENTLY_LIMIT_S = 180
NUMERIC = ["utilization_last", "dpd_last", "cash_advance_share_90d", "declined_share_90d", "bureau_score", "income"]
CATEGORICAL = ["product", "age_band", "employment_status"]


def _frame(rows: int, seed: int, extra_columns: int, shift: float = 0.0):
    """Synthetic feature rows with `extra_columns` noise features; `shift` > 0 moves income and utilisation."""
    from include.training.synthetic import synthetic_training_set

    frame = synthetic_training_set(rows, seed=seed)
    rng = np.random.default_rng(seed + 1)
    for i in range(extra_columns):
        frame[f"noise_{i:02d}"] = rng.normal(size=rows)
    frame["income"] *= 1 + 0.8 * shift
    frame["utilization_last"] += 0.35 * shift
    return frame


@contextmanager
def _scratch_ml_database():
    """A throwaway database with the `ml` migrations on the ml_postgres server; yields its URI."""
    import psycopg

    from devstack import airflow_settings
    from include import migrations

    conn = airflow_settings.load().connections["ml_postgres"]
    auth = conn.login + (f":{conn.password}" if conn.password else "")
    server = f"postgresql://{auth}@{conn.host}:{conn.port}"
    name = f"bench_inference_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as pg:
        pg.execute(f'create database "{name}"')
    try:
        with psycopg.connect(f"{server}/{name}", autocommit=True) as pg:
            migrations.apply(pg, "ml")
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as pg:
            pg.execute(f'drop database "{name}" with (force)')


def _tracking_uri() -> str:
    from devstack import airflow_settings

    conn = airflow_settings.load().connections["mlflow_default"]
    return f"{conn.schema or 'http'}://{conn.host}:{conn.port}"


def _train_champion(config, lake, tracking_uri: str, extra_columns: int) -> str:
    """Train the YAML's LightGBM on a 100k-row synthetic training set in `lake`; promote it. Returns its version."""
    from include.lake import detect_code_version
    from include.training import pipeline, tracking
    from include.training.synthetic import publish_to_lake

    sources = publish_to_lake(_frame(100_000, 1, extra_columns), lake, "credit_default_training", "v1")
    lineage = tracking.Lineage(code_version=detect_code_version(), feature_set_version="v1", dag_id="bench")
    run = pipeline.train_and_log(config, sources, "lightgbm", lineage, lake=lake, tracking_uri=tracking_uri)
    tracking.promote(config.name, run["version"], tracking_uri)
    return run["version"]


def scoring(rows: int, extra_columns: int) -> list[dict]:
    """End to end against raw predict, and the Postgres write against raw COPY."""
    import psycopg
    import pyarrow as pa

    from include import lake as lk
    from include.inference.plan import scoring_partition
    from include.inference.scoring import load_champion, score_batch, score_day
    from include.inference.store import ScoresLoad, csv_rows
    from include.models import load_model
    from include.training.lightgbm_trainer import _encode  # the model's own encoding, outside the timed call

    base = load_model(ROOT / "include" / "models" / "credit_default.yaml")
    config = dataclasses.replace(
        base,
        name=f"bench_inference_{uuid.uuid4().hex[:8]}",
        feature_set=dataclasses.replace(base.feature_set, version=1),
        algorithms=(base.algorithm("lightgbm"),),
    )
    tracking_uri = _tracking_uri()
    with tempfile.TemporaryDirectory() as scratch, _scratch_ml_database() as ml_postgres:
        lake = lk.Lake.from_uri(f"file://{scratch}/lake")
        _train_champion(config, lake, tracking_uri, extra_columns)
        day = _frame(rows, 7, extra_columns).drop(columns=["label"]).assign(ds=DAY)
        ref = scoring_partition(config, lake, DAY)
        lk.write_partition(
            lake, ref, pa.Table.from_pandas(day, preserve_index=False), source_position={}, written_by={}
        )
        features = len([c for c in day.columns if c not in ("account_id", "ds", "region")])

        e2e = []
        for _ in range(2):  # an empty day, then the same day again (every row an update)
            started = time.perf_counter()
            result = score_day(config, DAY, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri)
            e2e.append(time.perf_counter() - started)
        assert result["rows_scored"] == rows

        champion = load_champion(config.name, tracking_uri)
        model = champion.model
        in_memory = lk.read_partition(lake, ref).to_pandas()
        encoded = _encode(in_memory, model.spec, model.categories)
        started = time.perf_counter()
        model.booster.predict(encoded, num_iteration=model.best_iteration)
        raw = time.perf_counter() - started

        batches = [score_batch(model, b, DAY, champion.version, ref.uri) for b in lk.iter_batches(lake, ref)]
        started = time.perf_counter()
        with ScoresLoad(ml_postgres, config.name, DAY, champion.version, "bench") as load:
            for b in batches:
                load.write(b)
            load.finish()
        write = time.perf_counter() - started
        payload = [csv_rows(b) for b in batches]
        with psycopg.connect(ml_postgres) as pg, pg.cursor() as cursor:
            cursor.execute("create unlogged table raw_copy (account_id bigint, probability double precision)")
            started = time.perf_counter()
            with cursor.copy("copy raw_copy (account_id, probability) from stdin (format csv)") as copy:
                for chunk in payload:
                    copy.write(chunk)
            pg.commit()
            raw_copy = time.perf_counter() - started

    trees = model.best_iteration
    return [
        {
            "figure": f"score_day end to end, {rows:,} accounts x {features} features (LightGBM, {trees} trees)",
            "project": f"{rows / e2e[0]:,.0f} rows/s ({e2e[0]:.1f} s); re-scoring the day {rows / e2e[1]:,.0f} rows/s "
            f"({e2e[1]:.1f} s)",
            "reference": f"raw Booster.predict in memory {rows / raw:,.0f} rows/s ({raw:.1f} s)",
            "ratio": f"{raw / e2e[0]:.2f} (re-score {raw / e2e[1]:.2f})",
        },
        {
            "figure": f"ml.scores write, {rows:,} rows (`ScoresLoad`: delete the day, COPY + insert per batch, commit)",
            "project": f"{rows / write:,.0f} rows/s ({write:.1f} s)",
            "reference": f"raw COPY into an unindexed table {rows / raw_copy:,.0f} rows/s ({raw_copy:.1f} s)",
            "ratio": f"{raw_copy / write:.2f}",
        },
    ]


def evidently_child(rows: int, sample: int | None) -> dict:
    """One drift report (in a child process): `rows` a side, or a `sample` of each side. Drifted current day."""
    from bench.training import PeakRss
    from include.monitoring.drift import PREDICTION, drift_report

    reference, current = _frame(rows, 1, 0), _frame(rows, 2, 0, shift=1.0)
    for frame in (reference, current):
        frame[PREDICTION] = 1 / (1 + np.exp(-(frame["utilization_last"] * 4 - 5)))
    if sample:
        reference, current = (f.sample(sample, random_state=3) for f in (reference, current))
    with PeakRss() as memory:
        started = time.perf_counter()
        result = drift_report(reference, current, numeric=NUMERIC, categorical=CATEGORICAL, drift_share=0.3)
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_rss_mb": memory.peak / 2**20,
        "scores": {c.column: c.score for c in result.features},
        "drifted": sorted(c.column for c in result.drifted),
        "html_mb": len(result.html) / 1e6,
    }


def _child(rows: int, sample: int | None) -> dict | None:
    argv = [sys.executable, "-m", "bench.inference", "--child", str(rows), str(sample or 0)]
    try:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=EVIDENTLY_LIMIT_S, check=False)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        raise RuntimeError(f"bench.inference evidently {rows}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def evidently(rows_list: list[int], sample: int = 100_000) -> list[dict]:
    out = []
    for rows in rows_list:
        full = _child(rows, None)
        figure = f"Evidently drift + summary report, {rows:,} rows a side (9 features + PD)"
        if full is None:
            out.append({"figure": figure, "project": f"> {EVIDENTLY_LIMIT_S} s (stopped)", "reference": "—"})
        else:
            out.append(
                {
                    "figure": figure,
                    "project": f"{full['seconds']:.1f} s, peak RSS {full['peak_rss_mb']:,.0f} MB, "
                    f"HTML {full['html_mb']:.1f} MB",
                    "reference": "1 minute target",
                    "ratio": f"{full['seconds'] / 60:.2f}",
                }
            )
        if rows > sample:
            sampled = _child(rows, sample)
            verdict = "—"
            if full is not None:
                gap = max(abs(full["scores"][c] - sampled["scores"][c]) for c in full["scores"])
                same = "same drifted features" if full["drifted"] == sampled["drifted"] else "DIFFERENT verdict"
                verdict = f"{same} ({', '.join(sampled['drifted'])}); max score gap {gap:.4f} (threshold 0.1)"
            out.append(
                {
                    "figure": f"the same day, a {sample:,}-row sample a side (`monitoring.sample_rows`)",
                    "project": f"{sampled['seconds']:.1f} s, peak RSS {sampled['peak_rss_mb']:,.0f} MB",
                    "reference": verdict,
                    "ratio": f"{sampled['seconds'] / 60:.2f}",
                }
            )
    for row in out:
        row.setdefault("ratio", "—")
    return out


def run(rows: int = 1_000_000, evidently_rows: list[int] | None = None, extra_columns: int = 40) -> list[dict]:
    from devstack import services

    for service in services.services():
        if service.name in ("postgres", "mlflow"):
            services.up(service)
    return [*scoring(rows, extra_columns), *evidently(evidently_rows or [100_000, 1_000_000])]


def main() -> None:
    from bench import write_results

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--evidently-rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--extra-columns", type=int, default=40)
    parser.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        rows, sample = args.child
        print(json.dumps(evidently_child(rows, sample or None)))
        return
    command = (
        f"`python -m bench.inference --rows {args.rows} --evidently-rows {' '.join(map(str, args.evidently_rows))} "
        f"--extra-columns {args.extra_columns}`"
    )
    results = run(args.rows, args.evidently_rows, args.extra_columns)
    write_results(RESULTS, "Inference and monitoring benchmark", command, (("Inference", r) for r in results))


if __name__ == "__main__":
    main()
