"""spark-submit onto the lake: `LakeSparkSubmitOperator`, a SparkSubmitOperator that adds the lake's S3 access.

At run time (never at parse time) it looks at the variable `lake_root`; for an `s3://`
lake it adds the s3a connector's jars (`--jars`, found as `include.lake.spark.s3a_jars`
finds them for an in-process session), the endpoint's non-secret `spark.hadoop.fs.s3a.*`
settings (`--conf`) and the connection `lake_s3` as the standard AWS variables in the
driver's environment: the keys are never on the command line the hook logs (in client
mode; on YARN and Kubernetes the hook itself turns environment variables into `--conf`
entries, which it masks in its log). A `file://` lake submits exactly what the DAG says.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator


def lake_s3_options():
    """The `lake_s3` connection as `include.lake.S3Options`."""
    from include.lake import S3Options
    from orchestration.connectivity import require

    conn = require("lake_s3")
    extra = conn.extra_dejson
    return S3Options(
        endpoint_url=extra.get("endpoint_url"),
        access_key=conn.login or None,
        secret_key=conn.password or None,
        region=extra.get("region_name"),
    )


class LakeSparkSubmitOperator(SparkSubmitOperator):
    """SparkSubmitOperator whose submit reaches an `s3://` lake through s3a (see the module docstring)."""

    def execute(self, context: Any) -> None:
        from airflow.sdk import Variable

        from include.lake.spark import s3_env, s3a_jars, submit_conf

        if Variable.get("lake_root").startswith("s3://"):
            s3 = lake_s3_options()
            jars = s3a_jars()
            if not jars:
                raise RuntimeError("no s3a connector jars in .local/jvm/spark-s3/ (run `make setup`) or SPARK_S3_JARS")
            self.jars = ",".join([*filter(None, (self.jars or "").split(",")), *jars])
            self.conf = {**submit_conf(s3), **(self.conf or {})}
            self.env_vars = {**(self.env_vars or {}), **s3_env(s3)}
        return super().execute(context)
