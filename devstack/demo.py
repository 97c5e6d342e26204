"""`make demo`: the whole platform on embedded defaults, stage by stage, ending with
`.local/demo/summary.json` (its keys: docs/demo.md) and the commands that open the UIs.

Each stage is a function that fills its part of the summary; `seconds` records how long
each took. Stages run the real DAGs through `bin/airflow dags test` or backfills by the
scheduler, so the demo exercises exactly what the scheduler would run.

The dates, for the default `--end` (yesterday) E:
- the window: the last `--days` days up to E, landed day by day by backfills;
- the training dates: three observation dates in consecutive months (the model's
  out-of-time split: train <= T-3, validate T-2, test T-1), the newest the first day of
  the month of E - 90 days, so that every label (D + 90 days) has matured by E;
- the scoring date: the latest day whose inputs are complete (see `scoring_date`);
- the drift window: from `DRIFT_DAYS` before the scoring date to E (the seed's `drift`
  scenario);
- the seeded history starts on the first of the month of the oldest training date's
  90-day transaction window.

    python -m devstack.demo [--days 14] [--end 2026-11-20] [--customers 50000]
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
from include.features.definitions import CREDIT_DEFAULT

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / ".local" / "demo" / "summary.json"
AIRFLOW_LOG = ROOT / ".local" / "log" / "demo-airflow.log"
# The one broken delivery the demo seeds, so the quality gate has something to quarantine:
# the bureau file of the window's middle day arrives with negative debts.
BAD_DELIVERY = {"defect": "negative_amounts", "source": "bureau"}
# The drift window: the seed's `drift` scenario (valid data, changed behaviour) for the days
# before the scoring date, so the features monitoring compares with the champion's
# training data have drifted: their 7- and 30-day windows entirely, the 90-day ones in part.
DRIFT_DAYS = 31
MODEL = "credit_default"  # include/models/credit_default.yaml; its DAG is train_credit_default
# The bureau refreshes each customer once a month: a month of deliveries before a date gives
# every customer's latest bureau attributes at that date.
BUREAU_CYCLE_DAYS = 31
# How long a backfill may take before the demo gives up: a stuck run, not a slow machine
# (the window's core tables took 17 minutes on 2 cores shared with other jobs).
BACKFILL_TIMEOUT_S = 3600
BACKFILLED = ("ingest_postgres_core", "ingest_s3_bureau", "ingest_hdfs_archive", "validate_card_transactions")


class DemoError(RuntimeError):
    pass


def airflow(*args: str) -> str:
    result = subprocess.run([str(ROOT / "bin" / "airflow"), *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise DemoError(f"bin/airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr


def training_dates(end: date) -> list[date]:
    """Three observation dates in consecutive months whose labels (D + 90 days) have matured by `end`.

    The newest is the first of the month of `end` - 90 days (month M); then the 15th of M-1
    and the last day of M-2: as close together as the split allows, so the bureau history
    they need is short (see `bureau_history`).
    """
    newest = (end - timedelta(days=CREDIT_DEFAULT.label_horizon_days)).replace(day=1)
    middle = (newest - timedelta(days=1)).replace(day=15)
    return [middle.replace(day=1) - timedelta(days=1), middle, newest]


def history_start(end: date) -> date:
    """The first seeded day: the first of the month where the oldest training date's transaction window starts."""
    return (training_dates(end)[0] - timedelta(days=CREDIT_DEFAULT.max_window)).replace(day=1)


def scoring_date(end: date, kafka_from: date) -> date:
    """The latest observation date whose transaction window is complete in the lake.

    The lake holds the archive's closed months (up to the end of the month before `end`) and
    the days still on Kafka (from `kafka_from`). When Kafka starts later than the month,
    the days in between are in neither (gone from the topic, their month not archived yet),
    so the features are complete only up to the first of `end`'s month.
    """
    first = end.replace(day=1)
    return end + timedelta(days=1) if kafka_from <= first else first


def drift_start(end: date, kafka_from: date) -> date:
    """The first drifted day: `DRIFT_DAYS` before the scoring date, after the newest training date's
    transaction window (the champion learns from undrifted features)."""
    return scoring_date(end, kafka_from) - timedelta(days=DRIFT_DAYS)


def bureau_history(dates: list[date], window: tuple[date, date]) -> list[tuple[date, date]]:
    """The bureau days outside the window that the features at `dates` read: a month of deliveries
    before each date (every customer's latest refresh), as contiguous [first, last] ranges."""
    days = {
        d - timedelta(days=back)
        for d in dates
        for back in range(1, BUREAU_CYCLE_DAYS + 1)
        if not window[0] <= d - timedelta(days=back) <= window[1]
    }
    ranges: list[tuple[date, date]] = []
    for day in sorted(days):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def stage_services(summary: dict) -> None:
    """Start (or reuse) Postgres, S3, Kafka, HDFS (NameNode and DataNode) and MLflow."""
    for service in services.services():
        print(f"    {service.name:<14} {services.up(service)}", flush=True)
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

    Kafka cannot delete records: re-seeding would append the window again, and the lake
    would hold every event twice under its `txn_id`, which the quality gate (rightly)
    quarantines. So the demo deletes the platform's topic and the landing's consumer group
    and creates the topic anew (admin API), and the lake forgets what it landed of the
    topic (data, plans, offsets checkpoint, quality gate results). Only on a broker this
    project started: another broker's topic is left alone.
    """
    import psycopg
    import pyarrow.fs as pafs

    from devstack import kafka as broker
    from include.ingestion.kafka import DATASET, REJECTED_DATASET

    settings = airflow_settings.load()
    service = next(service for service in services.services() if service.name == "kafka")
    if not services.up(service).startswith("reused (ours)"):
        return "kafka: not started by this project, its topic keeps earlier seeds"
    config = settings.connections["kafka_default"].extra
    topic = settings.variables["card_transactions_topic"]
    broker.delete_topics(config, [topic], groups=[config["group.id"]])
    broker.create_topic(config, topic)
    lake = airflow_settings.load().lake()
    for zone in ("raw", "validated", "quarantine"):
        for dataset in (DATASET, REJECTED_DATASET):
            path = lake.path(lake.dataset(zone, *dataset))
            if lake.filesystem.get_file_info(path).type != pafs.FileType.NotFound:
                lake.filesystem.delete_dir(path)
    # And the quality gate's history of those partitions: its volume and learned bands are
    # means over earlier partitions, and a partition that no longer exists (an earlier seed's
    # first Kafka day, cut short by the broker) must not set them.
    conn = airflow_settings.load().connections["ml_postgres"]
    with psycopg.connect(host=conn.host, port=conn.port, user=conn.login, dbname=conn.schema) as db:
        forgotten = db.execute(
            "delete from ml.data_quality_runs where dataset = any(%s)",
            [[lake.dataset(zone, *DATASET) for zone in ("raw", "validated", "quarantine")]],
        ).rowcount
    return f"kafka topic {topic} created empty; the lake's Kafka datasets and {forgotten} gate results cleared"


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
        summary["history_start"],
        "--end",
        end.isoformat(),
        "--kafka-days",
        str((end - start).days + 1),
        "--scenario",
        "drift",
        "--drift-from",
        summary["drift_from"],
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
    summary["seed"] = {
        "kafka": {k: seeded["kafka"][k] for k in ("topic", "events", "late_events", "window", "per_day")}
    }


def bad_delivery_day(start: date, end: date) -> date:
    return start + timedelta(days=(end - start).days // 2)


def stage_ingestion(summary: dict) -> None:
    """Land every source through the real DAGs and their quality gates, then count rows.

    First the core tables' history (one `initial_load` run for the day before the window)
    and the Kafka topic (one run of the hourly DAG takes everything up to the high
    watermarks). Then, with the scheduler running, backfills over the window: the core
    tables first, because the other sources' referential checks look their ids up there,
    and a row changed during the window is only in that day's partition (the initial load
    holds each row's latest version). Next the bureau history the features read before the
    window, one catch-up run per range, oldest first: the volume check compares each day
    with the days before it. Last, backfills of the bureau, the archive months and the
    daily gate of each closed Kafka day. The one expected failure is the broken bureau
    delivery the seed planted."""
    start, end = date.fromisoformat(summary["dates"][0]), date.fromisoformat(summary["dates"][1])
    history = date.fromisoformat(summary["history_start"])
    # At 01:00 of the window's first day: the run covers the day before, and its logical date
    # is not the midnight one of the backfill's first run, which Airflow would then skip.
    initial = f"{start.isoformat()}T01:00:00+00:00"
    airflow("dags", "test", "ingest_postgres_core", initial, "--conf", json.dumps({"initial_load": True}))
    airflow("dags", "test", "ingest_kafka_transactions", datetime.now(UTC).replace(microsecond=0).isoformat())
    env = airflow_env()
    # An interrupted demo leaves backfills the scheduler would go on with: the gates of the
    # second group would then run before the core tables are in (see above).
    print(backfill.cancel_unfinished([*BACKFILLED], env=env), end="", flush=True)
    states = backfill.run_backfills(
        {"ingest_postgres_core": (start, end)}, env=env, log=AIRFLOW_LOG, timeout_s=BACKFILL_TIMEOUT_S
    )
    dates = summary["observation_dates"]
    ranges = bureau_history([date.fromisoformat(d) for d in [*dates["training"], dates["scoring"]]], (start, end))
    for first, last in ranges:
        # The run of the range's last day; `catch_up_from` lands the days before it in the same run.
        conf = {"catch_up_from": first.isoformat()} if first < last else {}
        airflow("dags", "test", "ingest_s3_bureau", (last + timedelta(days=1)).isoformat(), "--conf", json.dumps(conf))
        print(f"    bureau history {first} .. {last} landed and validated", flush=True)
    windows = {
        "ingest_s3_bureau": (start, end),
        # Monthly intervals start on the 2nd: cover every month of the seeded history.
        "ingest_hdfs_archive": (history.replace(day=2), end.replace(day=1)),
    }
    kafka = summary.get("seed", {}).get("kafka")
    if kafka:
        # A day's gate runs at 02:00 the next day: only days already closed by then.
        last_closed = min(end, (datetime.now(UTC) - timedelta(hours=2)).date() - timedelta(days=1))
        windows["validate_card_transactions"] = (date.fromisoformat(kafka["window"][0]), last_closed)
    states |= backfill.run_backfills(windows, env=env, log=AIRFLOW_LOG, timeout_s=BACKFILL_TIMEOUT_S)
    failed = {dag_id: runs.count("failed") for dag_id, runs in states.items() if "failed" in runs}
    if failed != {"ingest_s3_bureau": 1}:
        raise DemoError(
            f"failed backfill runs: {failed}, expected only the planted bad bureau delivery;"
            f" see {AIRFLOW_LOG} and the Airflow UI"
        )
    summary["ingestion"] = count_rows(start, end, history)
    summary["ingestion"]["s3.bureau_history"] = _bureau_history_counts(ranges)
    if kafka:
        counts = summary["ingestion"]["kafka.card_transactions"] = _kafka_counts(kafka)
        if mismatch := counts.pop("per_day_mismatch"):
            raise DemoError(f"Kafka: seeded and landed events (distinct txn_id) differ on these days: {mismatch}")


def stage_quality(summary: dict) -> None:
    """What the quality gate decided during this demo, from `ml.data_quality_runs`."""
    import psycopg

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
    lake = settings.lake()
    summary["quality"] = {
        "passed": sum(1 for row in latest if row[2]),
        "quarantined": len(quarantined),
        "data_docs": lake.uri(f"{DATA_DOCS}/index.html"),
        "quarantined_deliveries": quarantined,
    }
    for item in quarantined:
        print(f"    quarantined {item['dataset']} {item['ds']}: {', '.join(item['failed'])}", flush=True)


def stage_features(summary: dict) -> None:
    """Build the feature tables with Spark (`build_features`): the scoring set and the training sets."""
    from include import lake as lk
    from include.features.definitions import SCORING_SET, TRAINING_SET

    dates = summary["observation_dates"]
    conf = {"training_dates": dates["training"]}
    airflow("dags", "test", "build_features", dates["scoring"], "--conf", json.dumps(conf))
    lake = airflow_settings.load().lake()
    version = f"v{CREDIT_DEFAULT.version}"

    def published(feature_set: str, day: str) -> dict:
        ref = lake.partition("features", feature_set, version, ds=day)
        table = lk.read_partition(lake, ref, columns=["label"]) if feature_set == TRAINING_SET else None
        counts = {"ds": day, "rows": lk.read_manifest(lake, ref).row_count, "uri": ref.uri}
        if table is not None:
            counts["default_rate"] = round(sum(table.column("label").to_pylist()) / max(table.num_rows, 1), 4)
        return counts

    scoring = published(SCORING_SET, dates["scoring"])
    training = [published(TRAINING_SET, day) for day in dates["training"]]
    summary["features"] = {
        "feature_set_version": CREDIT_DEFAULT.version,
        "rows": scoring["rows"],
        "uri": scoring["uri"],
        "observation_date": scoring["ds"],
        "training_sets": training,
    }
    print(f"    scoring set {scoring['ds']}: {scoring['rows']} rows, {scoring['uri']}", flush=True)
    for part in training:
        print(f"    training set {part['ds']}: {part['rows']} rows, default rate {part['default_rate']}", flush=True)


def stage_training(summary: dict) -> None:
    """Train, evaluate and register every algorithm of the model (`train_credit_default`); dev auto-approves."""
    from include.training import tracking

    started_ms = int(time.time() * 1000)
    airflow("dags", "test", f"train_{MODEL}")
    uri = _mlflow_uri()
    client = tracking.client(uri)
    experiment = client.get_experiment_by_name(MODEL)
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.dag_id = 'train_{MODEL}' and attributes.start_time >= {started_ms}",
        order_by=["attributes.start_time ASC"],
    )
    if not runs:
        raise DemoError(f"train_{MODEL} logged no MLflow run; see the DAG run's logs in the Airflow UI")
    versions = {v.run_id: v.version for v in client.search_model_versions(f"name='{MODEL}'")}
    champion = tracking.alias_version(MODEL, tracking.CHAMPION, uri)
    summary["training"] = {
        "runs": [
            {
                "algorithm": run.data.tags["algorithm"],
                "roc_auc": round(run.data.metrics["roc_auc"], 4),
                "gini": round(run.data.metrics["gini"], 4),
                "mlflow_run_id": run.info.run_id,
                "device": run.data.tags["device"],
                "version": versions.get(run.info.run_id),
                "test_month": run.data.params["test_month"],
                "rows": {k: int(run.data.params[f"rows.{k}"]) for k in ("train", "validate", "test")},
            }
            for run in runs
        ],
        "champion": {"model": MODEL, "version": champion},
        "promoted": champion in {versions.get(run.info.run_id) for run in runs},
        "mlflow": f"{uri}/#/experiments/{experiment.experiment_id}",
    }
    for run in summary["training"]["runs"]:
        print(
            f"    {run['algorithm']:<12} v{run['version']} ROC AUC {run['roc_auc']:.4f} Gini {run['gini']:.4f}"
            f" on {run['test_month']} ({run['device']})",
            flush=True,
        )
    verdict = "promoted" if summary["training"]["promoted"] else "kept (the challenger did not pass the gate)"
    print(f"    champion: {MODEL} v{champion}, {verdict}", flush=True)


def stage_inference(summary: dict) -> None:
    """Score the scoring set with the champion (`score_credit_default`) into ml.scores and the lake."""
    import psycopg

    from include import lake as lk
    from include.inference.plan import predictions_partition
    from include.models import load_model

    day = summary["observation_dates"]["scoring"]
    airflow("dags", "test", f"score_{MODEL}", "--conf", json.dumps({"ds": day}))
    settings = airflow_settings.load()
    lake = settings.lake()
    config = load_model(ROOT / "include" / "models" / f"{MODEL}.yaml")
    ref = predictions_partition(config, lake, day)
    manifest = lk.read_manifest(lake, ref)
    if manifest is None:
        raise DemoError(f"score_{MODEL} committed no predictions partition {ref.uri}; see its run in the Airflow UI")
    version = str(manifest.extra["model_version"])
    conn = settings.connections["ml_postgres"]
    with psycopg.connect(host=conn.host, port=conn.port, user=conn.login, dbname=conn.schema) as db:
        rows, mean_pd = db.execute(
            "select count(*), avg(probability) from ml.scores"
            " where model = %s and score_date = %s and model_version = %s",
            [config.registered_model_name, day, version],
        ).fetchone()
    summary["inference"] = {
        "rows_scored": manifest.row_count,
        "model_version": version,
        "score_date": day,
        "postgres_rows": rows,
        "mean_pd": round(float(mean_pd or 0.0), 4),
        "predictions": ref.uri,
    }
    print(
        f"    {day}: {manifest.row_count} accounts scored by {MODEL} v{version} (mean PD {float(mean_pd or 0):.4f});"
        f" ml.scores holds {rows} rows for the day; {ref.uri}",
        flush=True,
    )


def stage_monitoring(summary: dict) -> None:
    """Drift and matured-label performance of the scored day (`monitor_credit_default`), with its actions."""
    from include.lake.store import get_bytes
    from include.monitoring import store
    from include.monitoring.report import report_folder

    day = summary["observation_dates"]["scoring"]
    airflow("dags", "test", f"monitor_{MODEL}", "--conf", json.dumps({"ds": day}))
    settings = airflow_settings.load()
    lake = settings.lake()
    conn = settings.connections["ml_postgres"]
    # Every action recorded for the day: this run's, and those an earlier run took (at most once each).
    recorded = store.actions(
        f"postgresql://{conn.login}@{conn.host}:{conn.port}/{conn.schema}", MODEL, date.fromisoformat(day)
    )
    written = get_bytes(lake, f"{report_folder(MODEL, date.fromisoformat(day))}/summary.json")
    if written is None:
        raise DemoError(f"monitor_{MODEL} wrote no summary for {day}; see its run in the Airflow UI")
    result = json.loads(written)
    performance = result.get("performance") or {}
    summary["monitoring"] = {
        "drift_detected": result["drift_detected"],
        "drift_share": result["drift_share"],
        "drift_threshold": result["drift_threshold"],
        "top_drifted": result["top_drifted"],
        "performance": {k: round(v, 4) for k, v in performance.items() if isinstance(v, float)},
        "performance_labels": result["performance_labels"],
        "report": result["report"],
        "trend": result["trend"],
        "actions": sorted(action for action, record in recorded.items() if record["status"] == "done"),
        "taken_by_this_run": [a["action"] for a in result["actions"]],
    }
    verdict = "DRIFT" if result["drift_detected"] else "no drift"
    print(
        f"    {day}: {verdict}, share {result['drift_share']:.2f} of features (threshold {result['drift_threshold']})",
        flush=True,
    )
    if result["top_drifted"]:
        top = ", ".join(f"{f['feature']} ({f['method']} {f['score']})" for f in result["top_drifted"])
        print(f"    most drifted: {top}", flush=True)
    if performance:
        print(
            f"    matured labels: ROC AUC {performance.get('roc_auc', float('nan')):.4f}"
            f" ({result['performance_labels']})",
            flush=True,
        )
    actions = summary["monitoring"]["actions"]
    print(f"    actions recorded for the day: {', '.join(actions) or 'none'}; report {result['report']}", flush=True)


def _mlflow_uri() -> str:
    conn = airflow_settings.load().connections["mlflow_default"]
    return f"{conn.schema or 'http'}://{conn.host}:{conn.port}"


def count_rows(start: date, end: date, history: date) -> dict:
    """Rows in each source for the window against rows in the lake's raw partitions."""
    import psycopg

    from include import lake as lk

    settings = airflow_settings.load()
    lake = settings.lake()
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
        for y in range(history.year, end.year + 1)
        for m in range(1, 13)
        if history <= date(y, m, 1) < end.replace(day=1)
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


def _bureau_history_counts(ranges: list[tuple[date, date]]) -> dict:
    """The bureau days landed before the window for the features: validated partitions and rows."""
    from include import lake as lk

    lake = airflow_settings.load().lake()
    days = [
        d for d in lk.list_partitions(lake, "validated", "partner", "bureau") if any(a <= d <= b for a, b in ranges)
    ]
    return {
        "ranges": [[a.isoformat(), b.isoformat()] for a, b in ranges],
        "lake_rows": _lake_rows(lake, ("partner", "bureau"), days, zone="validated"),
        "partitions": len(days),
    }


def _kafka_counts(seeded: dict) -> dict:
    """The events this demo produced to Kafka against the distinct events landed, day by day
    (exactly once: the same `txn_id`s, no more, no fewer)."""
    import pyarrow.compute as pc

    from include import lake as lk
    from include.ingestion.kafka import DATASET

    lake = airflow_settings.load().lake()
    landed = {}
    for day in lk.list_partitions(lake, "raw", *DATASET):
        if day.isoformat() in seeded["per_day"]:
            ids = lk.read_partition(lake, lake.partition("raw", *DATASET, ds=day)).column("txn_id")
            landed[day.isoformat()] = pc.count_distinct(ids).as_py()
    return {
        "source_rows": seeded["events"],
        "lake_rows": sum(landed.values()),
        "partitions": len(landed),
        "per_day_mismatch": {
            day: {"seeded": n, "landed": landed.get(day, 0)}
            for day, n in seeded["per_day"].items()
            if landed.get(day, 0) != n
        },
    }


def _archive_counts(settings, lake, months: list[date]) -> dict:
    """Rows of the closed archive months on HDFS (Parquet footers) against the landed months."""
    import io

    import hdfs
    import pyarrow.parquet as pq

    from include import lake as lk
    from include.ingestion.hdfs_archive import list_month

    conn = settings.connections["webhdfs_default"]
    client = hdfs.InsecureClient(f"http://{conn.host}:{conn.port}", user=conn.login)
    source = 0
    for month in months:
        for file in list_month(client, settings.variables["hdfs_archive_root"], month):
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
    ("features", stage_features),
    ("training", stage_training),
    ("inference", stage_inference),
    ("monitoring", stage_monitoring),
]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--end", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--customers", type=int, default=50_000)
    args = parser.parse_args(argv)
    start = args.end - timedelta(days=args.days - 1)
    kafka_from = start  # every day of the window is on Kafka
    summary: dict = {
        "dates": [start.isoformat(), args.end.isoformat()],
        "observation_dates": {
            "scoring": scoring_date(args.end, kafka_from).isoformat(),
            "training": [d.isoformat() for d in training_dates(args.end)],
        },
        "history_start": min(history_start(args.end), start).isoformat(),
        "drift_from": drift_start(args.end, kafka_from).isoformat(),
        "customers": args.customers,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": {},
    }
    print(
        f"demo: {start} .. {args.end}, history from {summary['history_start']}, drift from {summary['drift_from']},"
        f" {summary['observation_dates']}",
        flush=True,
    )
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
