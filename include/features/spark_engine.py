"""Run the feature query on Spark and publish the result as a lake partition.

The query is plain Spark SQL over temporary views of the planned relations, so it runs
on the JVM end to end: no Python UDF, and executors never need this project's code
(only the driver imports it). The result is one row per account, small next to the
transactions it summarises, so the driver collects it as Arrow and publishes it with the
lake's manifest commit (`write_partition`): readers see the previous version or the new
one, never a partial partition, on any master (local, standalone, Kubernetes, YARN).
"""

from __future__ import annotations

import logging
import os
from datetime import date
from typing import Any

from include.features import inputs, query
from include.features.definitions import SCORING_SET, TRAINING_SET, FeatureSet
from include.lake import Lake, Manifest, write_partition
from include.lake.spark import s3a_jars, spark_path

log = logging.getLogger(__name__)

KINDS = {"training": TRAINING_SET, "scoring": SCORING_SET}


def session(app_name: str = "features", master: str | None = None, conf: dict[str, str] | None = None):
    """A SparkSession in UTC; under spark-submit the master, resources and jars come from the submit.

    Started here, it gets the s3a connector's jars (`include.lake.spark`); an `s3://` lake's
    endpoint and keys are set on the running session (`configure_s3a`, see `job.run`)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ
    # A driver launched by spark-submit (which hands it a gateway port) takes the submit's --name.
    if not submitted:
        builder = builder.appName(app_name)
    master = master or os.environ.get("SPARK_MASTER")
    if master:
        builder = builder.master(master)
    settings = {
        # Event times are compared with UTC day boundaries and `hour()` means the UTC hour.
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
        # The job names each partition file (a relation lists ~100 daily files). Above 32
        # paths Spark lists them with a distributed job of one task per path, six such jobs
        # per run; listing on the driver costs milliseconds.
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
        # The driver's class path is fixed when its JVM starts: a submit passes them as --jars.
        **({"spark.jars": ",".join(s3a_jars())} if s3a_jars() and not submitted else {}),
        **(conf or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not spark.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):
        # Spark's default of 200 suits a large shuffle. This job shuffles per-account partial
        # aggregates, small next to its input: 4 per core took a demo training date from 70 s to
        # 32 s on 2 cores (local[*]). A submit's own --conf wins.
        spark.conf.set("spark.sql.shuffle.partitions", str(4 * spark.sparkContext.defaultParallelism))
    return spark


def _frame(spark, relation: inputs.Relation, with_ds: bool):
    ddl = relation.columns_ddl + (", ds date" if with_ds else "")
    types = [part.split() for part in ddl.split(",")]
    if not relation.files:
        # Not createDataFrame([]): a local Python collection would start Python workers on the executors.
        return spark.range(0).selectExpr(*(f"cast(null as {kind}) as {name}" for name, kind in types))
    # An explicit schema: no job to read every file's footer, and a file whose column has
    # another type fails the read instead of changing a feature's type.
    paths = map(spark_path, relation.files)
    frame = spark.read.schema(ddl).option("basePath", spark_path(relation.base)).parquet(*paths)
    frame = frame.select(*(name for name, _ in types))
    if relation.event_time_from:
        frame = frame.where(f"event_time >= TIMESTAMP '{relation.event_time_from} 00:00:00'")
    if relation.event_time_before:
        frame = frame.where(f"event_time < TIMESTAMP '{relation.event_time_before} 00:00:00'")
    return frame


def register(spark, relations: list[inputs.Relation]) -> None:
    """One temporary view per relation; the two transaction sources become one `transactions` view."""
    frames = {r.name: _frame(spark, r, with_ds=r.name == "bureau") for r in relations}
    frames["transactions"] = frames.pop("transactions_archive").unionByName(frames.pop("transactions_cards"))
    for name, frame in frames.items():
        frame.createOrReplaceTempView(name)


def build(spark, lake: Lake, zone: str, fs: FeatureSet, d: date, kind: str, *, complete: bool = True):
    """The training (`label`) or scoring feature frame at D, and the relations it read."""
    if kind not in KINDS:
        raise ValueError(f"kind '{kind}': expected one of {sorted(KINDS)}")
    relations = inputs.plan(lake, zone, fs, d, label=kind == "training", complete=complete)
    register(spark, relations)
    return spark.sql(query.features_sql(fs, d, dialect="spark", label=kind == "training")), relations


def publish(
    lake: Lake,
    frame,
    fs: FeatureSet,
    d: date,
    kind: str,
    relations: list[inputs.Relation],
    *,
    written_by: dict[str, Any],
) -> Manifest:
    """Collect the feature frame as Arrow and commit it as `features/<set>_<kind>/v<version>/ds=D`."""
    table = frame.toArrow()
    ref = lake.partition("features", KINDS[kind], f"v{fs.version}", ds=d)
    position = {"inputs": {r.name: sorted({f.rsplit("/", 1)[0] for f in r.files}) for r in relations}}
    manifest = write_partition(
        lake,
        ref,
        table,
        source_position=position,
        written_by=written_by,
        extra={"feature_set": fs.name, "feature_set_version": fs.version, "kind": kind, "observation_date": str(d)},
    )
    log.info("published %s: %d rows", ref.uri, manifest.row_count)
    return manifest
