"""`make demo`: the whole platform on embedded defaults, stage by stage, ending with
`.local/demo/summary.json` (schema in DESIGN.md) and the commands that open the UIs.

Each stage is a function that fills its part of the summary; `seconds` records how long
each took. Stages run the real DAGs through `bin/airflow dags test`, so the demo
exercises exactly what the scheduler would run.

    python -m devstack.demo [--days 14] [--end 2026-11-20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from devstack import airflow_settings, backfill, services
from devstack.airflow_env import airflow_env

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / ".local" / "demo" / "summary.json"
AIRFLOW_LOG = ROOT / ".local" / "log" / "demo-airflow.log"
HISTORY_START = date(2026, 5, 1)  # the seeded history: the HDFS archive starts here


class DemoError(RuntimeError):
    pass


def airflow(*args: str) -> str:
    result = subprocess.run([str(ROOT / "bin" / "airflow"), *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise DemoError(f"bin/airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr


def stage_services(summary: dict) -> None:
    """Start (or reuse) Postgres, S3, Kafka, the WebHDFS double and MLflow."""
    for service in services.services():
        print(f"    {service.name:<8} {services.up(service)}", flush=True)
    summary["platform"] = {"services": services.service_urls()}


def stage_airflow(summary: dict) -> None:
    """Migrate the local Airflow database and load airflow_settings.yaml into it."""
    result = subprocess.run([str(ROOT / "bin" / "airflow-settings")], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise DemoError(f"bin/airflow-settings failed:\n{result.stderr[-3000:]}")
    print(f"    {result.stdout.strip()}", flush=True)


def stage_healthcheck(summary: dict) -> None:
    """Run the platform_healthcheck DAG: every connection answers through its provider hook."""
    output = airflow("dags", "test", "platform_healthcheck")
    checked = [
        line.split("Returned value was: ", 1)[1].split(" [")[0]
        for line in output.splitlines()
        if "Returned value was: " in line
    ]
    for line in checked:
        print(f"    {line}", flush=True)
    summary["platform"]["healthcheck"] = checked


def stage_seed(summary: dict) -> None:
    """Seed the sources with the synthetic portfolio (Postgres core, S3 bureau drops, HDFS archive)."""
    start, end = date.fromisoformat(summary["dates"][0]), date.fromisoformat(summary["dates"][1])
    argv = [
        sys.executable,
        "-m",
        "devstack.seed",
        "--customers",
        str(summary["customers"]),
        "--start",
        min(HISTORY_START, start).isoformat(),
        "--end",
        end.isoformat(),
        "--only",
        "postgres,s3,hdfs",
    ]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise DemoError(f"seeding failed:\n{result.stderr[-3000:]}")
    seeded = json.loads(result.stdout)
    print(f"    {json.dumps({k: v for k, v in seeded.items() if k != 'params'})[:400]}", flush=True)


def stage_ingestion(summary: dict) -> None:
    """Backfill the ingestion DAGs over the demo window with the scheduler running, then count rows."""
    start, end = date.fromisoformat(summary["dates"][0]), date.fromisoformat(summary["dates"][1])
    windows = {
        "ingest_postgres_core": (start, end),
        "ingest_s3_bureau": (start, end),
        # Monthly intervals start on the 2nd: cover every month of the seeded history.
        "ingest_hdfs_archive": (min(HISTORY_START, start).replace(day=2), end.replace(day=1)),
    }
    states = backfill.run_backfills(windows, env=airflow_env(), log=AIRFLOW_LOG)
    failed = {dag_id: runs.count("failed") for dag_id, runs in states.items() if "failed" in runs}
    if failed:
        raise DemoError(f"failed backfill runs: {failed}; see {AIRFLOW_LOG} and the Airflow UI")
    summary["ingestion"] = count_rows(start, end)


def count_rows(start: date, end: date) -> dict:
    """Rows in each source for the window against rows in the lake's raw partitions."""
    import psycopg

    from include import lake as lk

    settings = airflow_settings.load()
    lake = lk.Lake.from_uri(settings.variables["lake_root"])
    conn = settings.connections["core_postgres"]
    counts = {}
    since, until = datetime.combine(start, datetime.min.time(), UTC), datetime.combine(end, datetime.min.time(), UTC)
    with psycopg.connect(host=conn.host, port=conn.port, user=conn.login, dbname=conn.schema) as db:
        for table in ("customers", "accounts", "statements", "repayments"):
            source = db.execute(
                f"select count(*) from core.{table} where updated_at >= %s and updated_at < %s",
                [since, until + timedelta(days=1)],
            ).fetchone()[0]
            days = [d for d in lk.list_partitions(lake, "raw", "core", table) if start <= d <= end]
            landed = sum(lk.read_manifest(lake, lake.partition("raw", "core", table, ds=d)).row_count for d in days)
            counts[f"postgres.core.{table}"] = {"source_rows": source, "lake_rows": landed, "partitions": len(days)}
    counts["s3.bureau"] = _bureau_counts(settings, lake, start, end)
    closed_months = [
        date(y, m, 1)
        for y in range(HISTORY_START.year, end.year + 1)
        for m in range(1, 13)
        if HISTORY_START <= date(y, m, 1) < end.replace(day=1)
    ]
    counts["hdfs.archive"] = _archive_counts(settings, lake, closed_months)
    return counts


def _lake_rows(lake, parts: tuple[str, ...], days: list[date]) -> int:
    from include import lake as lk

    return sum(lk.read_manifest(lake, lake.partition("raw", *parts, ds=d)).row_count for d in days)


def _bureau_counts(settings, lake, start: date, end: date) -> dict:
    """Data rows of the window's bureau files in S3 against the landed rows."""
    from include import lake as lk
    from include.ingestion.bureau import object_key

    conn = settings.connections["partner_s3"]
    s3 = conn.s3_client()
    bucket = settings.variables["partner_drops_bucket"]
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    source = sum(s3.get_object(Bucket=bucket, Key=object_key(d))["Body"].read().count(b"\n") - 1 for d in days)
    landed = [d for d in lk.list_partitions(lake, "raw", "partner", "bureau") if start <= d <= end]
    return {
        "source_rows": source,
        "lake_rows": _lake_rows(lake, ("partner", "bureau"), landed),
        "partitions": len(landed),
    }


def _archive_counts(settings, lake, months: list[date]) -> dict:
    """Rows of the closed archive months on HDFS (Parquet footers) against the landed months."""
    import io

    import hdfs
    import pyarrow.parquet as pq

    from include import lake as lk
    from include.ingestion.hdfs_archive import ARCHIVE_ROOT, list_month

    conn = settings.connections["webhdfs_default"]
    client = hdfs.InsecureClient(f"http://{conn.host}:{conn.port}", user=conn.login)
    source = 0
    for month in months:
        for file in list_month(client, ARCHIVE_ROOT, month):
            with client.read(file.path) as reader:
                source += pq.ParquetFile(io.BytesIO(reader.read())).metadata.num_rows
    landed = [m for m in lk.list_partitions(lake, "raw", "archive", "transactions") if m in months]
    return {
        "source_rows": source,
        "lake_rows": _lake_rows(lake, ("archive", "transactions"), landed),
        "partitions": len(landed),
    }


STAGES: list[tuple[str, Callable[[dict], None]]] = [
    ("services", stage_services),
    ("airflow", stage_airflow),
    ("healthcheck", stage_healthcheck),
    ("seed", stage_seed),
    ("ingestion", stage_ingestion),
]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--end", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--customers", type=int, default=50_000)
    args = parser.parse_args(argv)
    start = args.end - timedelta(days=args.days - 1)
    summary: dict = {"dates": [start.isoformat(), args.end.isoformat()], "customers": args.customers, "seconds": {}}
    print(f"demo: {start} .. {args.end}", flush=True)
    for name, stage in STAGES:
        print(f"==> {name}: {stage.__doc__.splitlines()[0]}", flush=True)
        began = time.monotonic()
        try:
            stage(summary)
        except (DemoError, backfill.BackfillError, services.ServiceError) as exc:
            print(f"demo: stage '{name}' failed: {exc}", file=sys.stderr)
            return 1
        finally:
            summary["seconds"][name] = round(time.monotonic() - began, 1)
            SUMMARY.parent.mkdir(parents=True, exist_ok=True)
            SUMMARY.write_text(json.dumps(summary, indent=2))
    print(f"\nsummary: {SUMMARY.relative_to(ROOT)}")
    print(json.dumps(summary, indent=2))
    print("\nopen the results:\n  make airflow   # Airflow UI on http://localhost:8080\n  make mlflow    # MLflow UI")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
