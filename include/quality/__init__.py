"""The data-quality gate: GX suites as reviewed files, validation of lake partitions, publish or quarantine.

    from include.quality import gate_partition, quarantine_unreadable, QualityGateFailed

    result = gate_partition(lake, raw_partition_uri, postgres_uri=uri, dag_run=written_by(context))
    # -> dict: dataset, ds, success, row_count, evaluated, failed, failed_names,
    #    data_docs_uri, location_uri (the validated/ partition)
    # raises QualityGateFailed (message: each failed expectation and its observed value,
    # the quarantine location, the Data Docs link; .result: the same dict) after moving
    # the partition to quarantine/ with _reason.json

    quarantine_unreadable(lake, "raw/partner/bureau", ds, error, postgres_uri=uri, dag_run=...)
    # a delivery that could not be parsed: _reason.json under quarantine/, recorded, raises

Suites: `include/quality/suites/<zone>.<parts>.yaml` (see `suites`). Validation and the
engines (pandas, Spark): `validate`. History and verdicts: `store` (`ml.data_quality_runs`).
No Airflow import anywhere here, and GX / Spark / pandas are imported only when a
validation runs, so DAG files may import this package at parse time.
"""

from include.quality.gate import (
    QualityGateFailed,
    gate_feature_partition,
    gate_partition,
    publish,
    quarantine,
    quarantine_unreadable,
)
from include.quality.suites import Suite, SuiteError, load_suite
from include.quality.validate import Verdict, validate_partition

__all__ = [
    "QualityGateFailed",
    "Suite",
    "SuiteError",
    "Verdict",
    "gate_feature_partition",
    "gate_partition",
    "load_suite",
    "publish",
    "quarantine",
    "quarantine_unreadable",
    "validate_partition",
]
