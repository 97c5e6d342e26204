"""The feature job on an `s3://` lake (s3a, the local S3 endpoint) against the same job on a `file://` lake.

Both lakes get the same validated zone (the unit tests' two-account portfolio plus
`--txns` card transactions a day over the 100 days before D: ~190 daily partitions per
daily dataset, so the listing and opening of many small objects is what is measured),
then `include.features.job.run` builds both feature sets at D on each lake in one Spark
session (`local[2]`), alternating, `--runs` times; the first run of each warms the JVM
up and is not counted. The S3 lake lives under `s3://lake/bench-<uuid>` of the
connection `lake_s3` (the local stack must run) and is deleted afterwards.

    python -m bench.features_s3 [--txns 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta

from devstack import airflow_settings
from include.features import job
from include.features.definitions import CREDIT_DEFAULT
from include.features.spark_engine import session
from include.lake import Lake
from include.lake.spark import s3_env
from tests.unit.features.conftest import D, TinyLake, portfolio, utc


def fill(lake: Lake, txns: int) -> None:
    tiny = TinyLake(lake, zone="validated")
    portfolio(tiny)
    for day in range(1, 101):
        when = D - timedelta(days=day)
        for i in range(txns):
            tiny.txn(100 if i % 2 else 200, utc(when, hour=i % 24), 10.0 + i, mcc=["5411", "5812", "4111"][i % 3])
    tiny.publish(through=D + timedelta(days=90), since=D - timedelta(days=101))  # the label matures at D + 90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--txns", type=int, default=20, help="card transactions a day (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per lake after a warm-up (default 3)")
    args = parser.parse_args()

    s3_lake = airflow_settings.load().lake(f"s3://lake/bench-{uuid.uuid4().hex}")
    # The job reads an s3:// lake's options from the AWS variables, as under the DAG's submit.
    os.environ.update(s3_env(s3_lake.s3))
    spark = session(master="local[2]", conf={"spark.ui.enabled": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    times: dict[str, list[float]] = {"file": [], "s3": []}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-features-") as folder:
            lakes = {"file": Lake.from_uri(f"file://{folder}/lake"), "s3": s3_lake}
            for lake in lakes.values():
                fill(lake, args.txns)
            for run in range(args.runs + 1):
                for name, lake in lakes.items():
                    argv = ["--lake-root", lake.root_uri, "--date", str(D), "--kind", "both"]
                    start = time.perf_counter()
                    summary = job.run(job.parse_args(argv), spark)
                    elapsed = time.perf_counter() - start
                    if run:
                        times[name].append(elapsed)
                    print(
                        f"{name} run {run}: {elapsed:.2f} s {[p['rows'] for p in summary['partitions']]}",
                        file=sys.stderr,
                    )
    finally:
        spark.stop()
        s3_lake.filesystem.delete_dir(s3_lake.root)
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        json.dumps(
            {
                "feature_set_version": CREDIT_DEFAULT.version,
                "txns_per_day": args.txns,
                "runs": times,
                "median_s": medians,
                "s3_over_file": medians["s3"] / medians["file"],
            }
        )
    )


if __name__ == "__main__":
    main()
