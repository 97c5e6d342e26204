"""The quality gate as an Airflow task: every ingestion DAG puts one between landing and publishing.

    landed = land_bureau_file()
    quality_gate("partner", "bureau")(landed)

The task validates the raw partition its upstream landed (`partition_uri` in the
upstream's return value) with the dataset's GX suite (`include/quality`), then either
publishes it to `validated/` and emits the `validated/...` Asset that downstream DAGs are
scheduled on, or quarantines it and fails. A quality failure fails at once, without
retries (a retry would validate the same bad data again), and the failure alert carries
each failed expectation with its observed value and the Data Docs link. Anything else
(Postgres or the lake unreachable) fails like any task: retried, then alerted.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import task

from orchestration.assets import lake_asset

log = logging.getLogger(__name__)

# What the gate's XCom keeps: a reference and the verdict's headline, never the observed values.
RESULT_KEYS = ("dataset", "ds", "success", "row_count", "evaluated", "engine", "data_docs_uri", "location_uri")


def quality_gate(source: str, dataset: str, *, task_id: str | None = None):
    """A task that gates `raw/<source>/<dataset>` partitions; call it with the landing task's output."""

    @task(
        task_id=task_id or f"validate_{dataset}",
        outlets=[lake_asset("validated", source, dataset)],
        execution_timeout=timedelta(minutes=30),
    )
    def validate(landed: dict[str, Any], **context) -> dict[str, Any]:
        """Validate the landed partition with its GX suite; publish it to validated/ or quarantine it and fail."""
        return run_gate(landed, context)

    return validate


def quarantine_unreadable_delivery(
    dataset: str, ds: Any, error: BaseException, context: dict[str, Any], source: dict[str, Any] | None = None
) -> None:
    """A delivery that could not be parsed at all: quarantine its reason, record it, fail without retry."""
    from airflow.exceptions import AirflowFailException

    from include.quality import QualityGateFailed, quarantine_unreadable
    from orchestration.resources import lake, postgres_uri, written_by

    try:
        uri = postgres_uri("ml_postgres")
        quarantine_unreadable(lake(), dataset, ds, error, postgres_uri=uri, dag_run=written_by(context), source=source)
    except QualityGateFailed as failed:
        raise AirflowFailException(str(failed)) from error


def run_gate(landed: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """The gate for one landed partition, from inside a task (also used by tasks that land and gate in one)."""
    from include.quality import gate_partition
    from orchestration.resources import lake, postgres_uri, written_by

    interval = None
    if landed.get("since") and landed.get("until"):  # a window other than the partition's day (initial loads)
        interval = (datetime.fromisoformat(landed["since"]), datetime.fromisoformat(landed["until"]))
    return _verdict(
        gate_partition,
        lake(),
        landed["partition_uri"],
        postgres_uri=postgres_uri("ml_postgres"),
        dag_run=written_by(context),
        interval=interval,
    )


def land_and_gate_each(days: list[Any], land_day: Any, context: dict[str, Any]) -> dict[str, Any]:
    """Land and gate each day in one task (a catch-up over many days): `land_day(day)` returns what a
    landing task returns. A day that fails its gate is quarantined and the others still go on; the
    task then fails naming every quarantined day. Other errors (a source unreachable) fail at once."""
    from airflow.exceptions import AirflowFailException

    passed, failed = [], []
    for day in days:
        try:
            passed.append(run_gate(land_day(day), context))
        except AirflowFailException as exc:
            failed.append(f"{day}: {exc}")
    if failed:
        raise AirflowFailException(f"{len(failed)} of {len(days)} days quarantined:\n" + "\n".join(failed))
    log.info("caught up %d days: %d rows passed the gate", len(days), sum(v["row_count"] or 0 for v in passed))
    return {"days": len(days), "rows": sum(v["row_count"] or 0 for v in passed)}


def run_feature_gate(partition_uri: str, context: dict[str, Any]) -> dict[str, Any]:
    """The gate for a feature table partition, validated where it was published (see `gate_feature_partition`)."""
    from include.quality import gate_feature_partition
    from orchestration.resources import lake, postgres_uri, written_by

    uri = postgres_uri("ml_postgres")
    return _verdict(gate_feature_partition, lake(), partition_uri, postgres_uri=uri, dag_run=written_by(context))


def _verdict(gate: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run a gate; a quality failure fails the task without retry, with the gate's account as the message."""
    from airflow.exceptions import AirflowFailException

    from include.quality import QualityGateFailed

    try:
        result = gate(*args, **kwargs)
    except QualityGateFailed as failed:
        log.error("Data Docs: %s", failed.result.get("data_docs_uri"))
        raise AirflowFailException(str(failed)) from failed
    log.info("Data Docs: %s", result.get("data_docs_uri"))
    log.info("passed: %s, %s rows, %s expectations", result["location_uri"], result["row_count"], result["evaluated"])
    return {k: result.get(k) for k in RESULT_KEYS}
