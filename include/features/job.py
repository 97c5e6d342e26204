"""The feature job: `spark-submit include/features/job.py --lake-root URI --date D [...]`.

Builds the training set (features at D + the label matured at D + 90 days) and/or the
scoring set (features at D of the active accounts) for each date, and publishes each as
`features/<set>/v<version>/ds=D`. The same command runs on any master: `--master
local[*]`, `spark://host:7077`, `k8s://...` or `yarn` are spark-submit's business, never
this file's. The driver needs this project on its PYTHONPATH; executors need nothing
(no Python runs on them). It prints a JSON summary of what was published as its last line.

An `s3://` lake is reached with the standard AWS variables (AWS_ENDPOINT_URL_S3,
AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION; the DAG's submit sets them from the
connection `lake_s3`), by pyarrow for the manifests and by Spark's s3a connector for the
data; the submit puts the connector's jars on the class path (`include.lake.spark`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from datetime import date, timedelta

from include.features.definitions import CREDIT_DEFAULT


def _dates(args: argparse.Namespace) -> list[date]:
    if args.date:
        return [date.fromisoformat(d.strip()) for value in args.date for d in value.split(",") if d.strip()]
    start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
    if end < start:
        raise SystemExit(f"--end {end} is before --start {start}")
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="features", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lake-root", required=True, help="file:///... or s3://bucket/prefix")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument(
        "--date", action="append", help="observation date D (YYYY-MM-DD); repeatable, or several separated by commas"
    )
    when.add_argument("--start", help="first D of a range (with --end)")
    parser.add_argument("--end", help="last D of a range (inclusive)")
    parser.add_argument("--zone", default="validated", help="input zone (default: validated)")
    parser.add_argument("--kind", choices=["training", "scoring", "both"], default="both")
    parser.add_argument("--allow-gaps", action="store_true", help="build even if an input's D - 1 partition is missing")
    parser.add_argument("--dag-id", default="", help="recorded in the manifests (written_by)")
    parser.add_argument("--run-id", default="", help="recorded in the manifests (written_by)")
    args = parser.parse_args(argv)
    if args.start and not args.end:
        parser.error("--start needs --end")
    return args


def run(args: argparse.Namespace, spark) -> dict:
    """Build and publish every (date, kind); returns the summary (also what the CLI prints)."""
    from include.features import spark_engine
    from include.lake import Lake, S3Options
    from include.lake.spark import configure_s3a

    lake = Lake.from_uri(args.lake_root, **dataclasses.asdict(S3Options.from_env()))
    configure_s3a(spark, lake.s3)
    fs = CREDIT_DEFAULT
    kinds = ["training", "scoring"] if args.kind == "both" else [args.kind]
    written_by = {"job": "include.features.job", "dag_id": args.dag_id, "run_id": args.run_id}
    published = []
    for d in _dates(args):
        for kind in kinds:
            frame, relations = spark_engine.build(spark, lake, args.zone, fs, d, kind, complete=not args.allow_gaps)
            manifest = spark_engine.publish(lake, frame, fs, d, kind, relations, written_by=written_by)
            published.append(
                {"kind": kind, "ds": str(d), "rows": manifest.row_count, "uri": lake.uri(manifest.partition)}
            )
    return {"feature_set": fs.name, "feature_set_version": fs.version, "partitions": published}


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # spark-submit merges the driver's stderr into stdout; py4j logs its shutdown after the summary.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    args = parse_args(argv)
    from include.features.spark_engine import session

    spark = session(app_name=f"features-{CREDIT_DEFAULT.name}-v{CREDIT_DEFAULT.version}")
    try:
        summary = run(args, spark)
    finally:
        spark.stop()
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    sys.exit(main())
