"""Spark on the lake: s3a:// paths, the s3a connector's jars and its settings from the lake's `S3Options`.

pyspark ships Hadoop's client (3.5.0) without the S3 connector; `jvm/spark-s3/pom.xml`
brings `hadoop-aws` of that line and the AWS SDK v2 modules it calls into
`.local/jvm/spark-s3/` (`SPARK_S3_JARS`, a folder, elsewhere: the Spark image has them in
`/opt/spark-s3`). Both ways of starting Spark put them in `spark.jars` the same way:
an in-process session (`include.features.spark_engine.session`, the quality gate) and a
`spark-submit` (`orchestration.spark.LakeSparkSubmitOperator`, which also hands the
driver the lake's S3 options as the standard AWS variables).

The keys never travel as Spark configuration (pyspark passes a session's configuration to
its JVM on a command line, the submit hook logs its own): `configure_s3a` sets them on the
running session's Hadoop configuration, from which the scans' configuration (executors
included) is derived.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

from include.lake.store import S3Options

JARS = Path(__file__).resolve().parents[2] / ".local" / "jvm" / "spark-s3"


def spark_path(uri: str) -> str:
    """The URI as Spark reads it: Hadoop's S3 connector is s3a://, the lake's URIs say s3://."""
    return "s3a://" + uri.removeprefix("s3://") if uri.startswith("s3://") else uri


def s3a_jars() -> list[str]:
    """The s3a connector's jars (absolute paths, sorted); empty where they were not fetched (`make setup`)."""
    folder = Path(os.environ.get("SPARK_S3_JARS") or JARS)
    return sorted(str(jar) for jar in folder.glob("*.jar"))


def s3a_settings(s3: S3Options) -> dict[str, str]:
    """The Hadoop settings (`fs.s3a.*`) of the lake's endpoint, without the keys."""
    settings = {"fs.s3a.path.style.access": "true" if s3.endpoint_url else "false"}
    if s3.endpoint_url:
        endpoint = urlparse(s3.endpoint_url)
        settings["fs.s3a.endpoint"] = s3.endpoint_url
        settings["fs.s3a.connection.ssl.enabled"] = "true" if endpoint.scheme == "https" else "false"
    if s3.region:
        settings["fs.s3a.endpoint.region"] = s3.region
    if s3.access_key and s3.secret_key:
        # Only the keys set by `configure_s3a`; without them S3A's default chain (environment, instance role).
        settings["fs.s3a.aws.credentials.provider"] = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
    return settings


def submit_conf(s3: S3Options) -> dict[str, str]:
    """`s3a_settings` as Spark configuration (`spark.hadoop.*`): safe on a submit's command line."""
    return {f"spark.hadoop.{key}": value for key, value in s3a_settings(s3).items()}


def s3_env(s3: S3Options) -> dict[str, str]:
    """The standard AWS variables for a submitted driver (`S3Options.from_env` reads them back)."""
    env = {
        "AWS_ENDPOINT_URL_S3": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_REGION": s3.region,
    }
    return {key: value for key, value in env.items() if value}


def configure_s3a(spark, s3: S3Options | None) -> None:
    """Point the running session's s3a connector at the lake: endpoint, region, path style and keys."""
    if s3 is None:
        return
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in s3a_settings(s3).items():
        conf.set(key, value)
    if s3.access_key and s3.secret_key:
        conf.set("fs.s3a.access.key", s3.access_key)
        conf.set("fs.s3a.secret.key", s3.secret_key)
