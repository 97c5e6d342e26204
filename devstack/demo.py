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
# The last days of the window go to Kafka. The local broker (librdkafka's mock) keeps about
# 125,000 events per partition (4 partitions; measured with bench/ingest.py), older ones are
# dropped: 7 days of the 50,000-customer demo (~200,000 events) fit with room to spare.
KAFKA_DAYS = 7
# The one broken delivery the demo seeds, so the quality gate has something to quarantine:
# the bureau file of the window's middle day arrives with negative debts.
BAD_DELIVERY = {"defect": "negative_amounts", "source": "bureau"}


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


def reset_kafka() -> str:
    """Start the Kafka topic and its landing from empty, like the other sources' re-seed.

    Kafka cannot delete: re-seeding would append the window again, and the lake would hold
    every event twice under its `txn_id`, which the quality gate (rightly) quarantines.
    The local broker keeps its log in memory, so restarting it empties the topic and the
    consumer groups; the lake forgets what it landed of the topic (data, plans, offsets
    checkpoint). Only a broker this project started is restarted; another is left alone.
    """
    import pyarrow.fs as pafs

    from include import lake as lk
    from include.ingestion.kafka import DATASET, REJECTED_DATASET

    kafka = next(service for service in services.services() if service.name == "kafka")
    stopped = services.down(kafka)
    if not stopped.startswith("stopped"):
        return f"kafka {stopped}: its topic keeps earlier seeds"
    started = services.up(kafka)
    lake = lk.Lake.from_uri(airflow_settings.load().variables["lake_root"])
    for zone in ("raw", "validated", "quarantine"):
        for dataset in (DATASET, REJECTED_DATASET):
            path = lake.path(lake.dataset(zone, *dataset))
            if lake.filesystem.get_file_info(path).type != pafs.FileType.NotFound:
                lake.filesystem.delete_dir(path)
    return f"kafka restarted empty ({started}); the lake's Kafka datasets cleared"


def stage_seed(summary: dict) -> None:
    """Seed the sources with the synthetic portfolio (Postgres core, Kafka, S3 bureau drops, HDFS archive)."""
    start, end = date.fromisoformat(summary["dates"][0]), date.fromisoformat(summary["dates"][1])
    print(f"    {reset_kafka()}", flush=True)
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
        "--kafka-days",
        str(min(KAFKA_DAYS, (end - start).days + 1)),
        "--scenario",
        "bad-batch",
        "--defect",
        BAD_DELIVERY["defect"],
        "--defect-source",
        BAD_DELIVERY["source"],
        "--defect-date",
        bad_delivery_day(start, end).isoformat(),
    ]
    result = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise DemoError(f"seeding failed:\n{result.stderr[-3000:]}")
    seeded = json.loads(result.stdout)
    print(f"    {json.dumps({k: v for k, v in seeded.items() if k != 'params'})[:400]}", flush=True)
    summary["seed"] = {"kafka": {k: seeded["kafka"][k] for k in ("topic", "events", "late_events", "window")}}


def bad_delivery_day(start: date, end: date) -> date:
    return start + timedelta(days=(end - start).days // 2)


def stage_ingestion(summary: dict) -> None:
    """Land every source through the real DAGs and their quality gates, then count rows.

    First the core tables' history (one `initial_load` run for the day before the window),
    and the Kafka topic (one run of the hourly DAG takes everything up to the high
    watermarks); then, with the scheduler running, backfills of the daily and monthly
    DAGs over the window and of the daily gate of each closed Kafka day. The one
    expected failure is the broken bureau delivery the seed planted."""
    start, end = date.fromisoformat(summary["dates"][0]), date.fromisoformat(summary["dates"][1])
    airflow("dags", "test", "ingest_postgres_core", start.isoformat(), "--conf", json.dumps({"initial_load": True}))
    airflow("dags", "test", "ingest_kafka_transactions", datetime.now(UTC).replace(microsecond=0).isoformat())
    windows = {
        "ingest_postgres_core": (start, end),
        "ingest_s3_bureau": (start, end),
        # Monthly intervals start on the 2nd: cover every month of the seeded history.
        "ingest_hdfs_archive": (min(HISTORY_START, start).replace(day=2), end.replace(day=1)),
    }
    kafka = summary.get("seed", {}).get("kafka")
    if kafka:
        # A day's gate runs at 02:00 the next day: only days already closed by then.
        last_closed = min(end, (datetime.now(UTC) - timedelta(hours=2)).date() - timedelta(days=1))
        windows["validate_card_transactions"] = (date.fromisoformat(kafka["window"][0]), last_closed)
    states = backfill.run_backfills(windows, env=airflow_env(), log=AIRFLOW_LOG)
    failed = {dag_id: runs.count("failed") for dag_id, runs in states.items() if "failed" in runs}
    if failed != {"ingest_s3_bureau": 1}:
        raise DemoError(
            f"failed backfill runs: {failed}, expected only the planted bad bureau delivery;"
            f" see {AIRFLOW_LOG} and the Airflow UI"
        )
    summary["ingestion"] = count_rows(start, end)
    if kafka:
        summary["ingestion"]["kafka.card_transactions"] = _kafka_counts(kafka)


def stage_quality(summary: dict) -> None:
    """What the quality gate decided during this demo, from `ml.data_quality_runs`."""
    import psycopg

    from include import lake as lk
    from include.quality.validate import DATA_DOCS

    settings = airflow_settings.load()
    conn = settings.connections["ml_postgres"]
    began = summary["started_at"]
    with psycopg.connect(host=conn.host, port=conn.port, user=conn.login, dbname=conn.schema) as db:
        latest = db.execute(
            """select distinct on (dataset, ds) dataset, ds, success, failed_expectation_names, partition_uri
               from ml.data_quality_runs where validated_at >= %s order by dataset, ds, validated_at desc""",
            [began],
        ).fetchall()
    quarantined = [
        {"dataset": dataset, "ds": ds.isoformat(), "failed": names, "where": uri}
        for dataset, ds, success, names, uri in latest
        if not success
    ]
    lake = lk.Lake.from_uri(settings.variables["lake_root"])
    summary["quality"] = {
        "passed": sum(1 for row in latest if row[2]),
        "quarantined": len(quarantined),
        "data_docs": lake.uri(f"{DATA_DOCS}/index.html"),
        "quarantined_deliveries": quarantined,
    }
    for item in quarantined:
        print(f"    quarantined {item['dataset']} {item['ds']}: {', '.join(item['failed'])}", flush=True)


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


def _lake_rows(lake, parts: tuple[str, ...], days: list[date], zone: str = "raw") -> int:
    from include import lake as lk

    return sum(lk.read_manifest(lake, lake.partition(zone, *parts, ds=d)).row_count for d in days)


def _bureau_counts(settings, lake, start: date, end: date) -> dict:
    """Data rows of the window's bureau files in S3 against the landed rows, quarantined ones included:
    the gate moves a failed delivery out of raw/, but it is still in the lake."""
    from include import lake as lk
    from include.ingestion.bureau import object_key

    conn = settings.connections["partner_s3"]
    s3 = conn.s3_client()
    bucket = settings.variables["partner_drops_bucket"]
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    source = sum(s3.get_object(Bucket=bucket, Key=object_key(d))["Body"].read().count(b"\n") - 1 for d in days)
    landed = [d for d in lk.list_partitions(lake, "raw", "partner", "bureau") if start <= d <= end]
    held = [d for d in lk.list_partitions(lake, "quarantine", "partner", "bureau") if start <= d <= end]
    return {
        "source_rows": source,
        "lake_rows": _lake_rows(lake, ("partner", "bureau"), landed)
        + _lake_rows(lake, ("partner", "bureau"), held, zone="quarantine"),
        "partitions": len(landed) + len(held),
        "quarantined_partitions": len(held),
    }


def _kafka_counts(seeded: dict) -> dict:
    """The events this demo produced to Kafka against the distinct events landed for their days.

    Distinct by `txn_id`: Kafka cannot delete, so a re-seed appends the window again, and
    both copies land (exactly once per offset)."""
    import pyarrow.compute as pc

    from include import lake as lk
    from include.ingestion.kafka import DATASET

    lake = lk.Lake.from_uri(airflow_settings.load().variables["lake_root"])
    first, last = (date.fromisoformat(d) for d in seeded["window"])
    days = [d for d in lk.list_partitions(lake, "raw", *DATASET) if first <= d <= last]
    landed = 0
    for day in days:
        ids = lk.read_partition(lake, lake.partition("raw", *DATASET, ds=day)).column("txn_id")
        landed += pc.count_distinct(ids).as_py()
    return {"source_rows": seeded["events"], "lake_rows": landed, "partitions": len(days)}


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
    ("quality", stage_quality),
]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--end", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--customers", type=int, default=50_000)
    args = parser.parse_args(argv)
    start = args.end - timedelta(days=args.days - 1)
    summary: dict = {
        "dates": [start.isoformat(), args.end.isoformat()],
        "customers": args.customers,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": {},
    }
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
