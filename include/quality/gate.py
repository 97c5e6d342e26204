"""The gate between landing and publishing: validate a raw partition, then publish or quarantine it.

    result = gate_partition(lake, raw_ref, postgres_uri=uri, dag_run=written_by(context))
    # pass: raw copied to validated/<same path> (replacing it), any quarantined copy of
    #       that day removed, returns the verdict as a dict
    # fail: raw moved to quarantine/<same path> with _reason.json, raises QualityGateFailed
    #       whose message lists each failed expectation with its observed value

A delivery that cannot even be read (a truncated file) never reaches the raw zone:
`quarantine_unreadable` records it the same way (a `_reason.json` under quarantine/,
a row in `ml.data_quality_runs`) and raises the same exception. Every verdict, pass or
fail, is recorded in `ml.data_quality_runs` when a `postgres_uri` is given.

Replay: after the source is fixed, land the day again and gate it again: it validates,
publishes to validated/ and removes the quarantined copy.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from include import lake as lk
from include.lake.manifest import REASON_NAME, utc_now
from include.lake.store import write_json
from include.quality import store
from include.quality.suites import load_suite
from include.quality.validate import Verdict, validate_partition

log = logging.getLogger(__name__)


class QualityGateFailed(RuntimeError):  # noqa: N818 (reads as what happened: the gate failed)
    """A partition failed validation (or could not be read) and was quarantined.

    The message is the readable account (dataset, day, each failed expectation with the
    observed value, the quarantine location, the Data Docs link); `result` is the same as
    a JSON-ready dict.
    """

    def __init__(self, message: str, result: dict[str, Any]):
        super().__init__(message)
        self.result = result


def gate_partition(
    lake: lk.Lake,
    raw: lk.PartitionRef | str,
    *,
    postgres_uri: str | None,
    dag_run: dict[str, Any] | None = None,
    interval: tuple[datetime, datetime] | None = None,
    engine: str = "auto",
) -> dict[str, Any]:
    """Validate `raw` (a ref or its URI) and act on the verdict; returns the verdict dict on a pass.

    `dag_run` is `{"dag_id", "run_id", "task_id", ...}` (`plugins.orchestration.resources.written_by`):
    it goes into the validated manifest, `_reason.json` and `ml.data_quality_runs`.
    Raises `QualityGateFailed` after quarantining when the partition fails.
    """
    ref = lake.partition_from_uri(raw) if isinstance(raw, str) else raw
    if ref.zone != "raw":
        raise ValueError(f"partition {ref.uri}: the gate validates raw partitions, not {ref.zone}/")
    verdict = validate_partition(lake, ref, interval=interval, postgres_uri=postgres_uri, engine=engine)
    location = publish(lake, ref, dag_run) if verdict.success else quarantine(lake, ref, verdict, dag_run)
    result = {**verdict.as_dict(), "location_uri": location.uri}
    _record(postgres_uri, verdict, location.uri, dag_run)
    if not verdict.success:
        raise QualityGateFailed(f"{verdict.summary()}\n  quarantined at {location.uri}", result)
    log.info("published %s", location.uri)
    return result


def gate_feature_partition(
    lake: lk.Lake, ref: lk.PartitionRef | str, *, postgres_uri: str | None, dag_run: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate a feature table partition (`features/<set>/v<version>/ds=D`) where it was published.

    Feature partitions are read in place, so there is nothing to copy on a pass. On a
    failure the partition leaves `features/` for `quarantine/features/<set>.v<version>/`
    with `_reason.json`, so no training or scoring reads it, and `QualityGateFailed` is
    raised. The suite is the feature set's (`features.<set>.yaml`), whatever the version.
    """
    ref = lake.partition_from_uri(ref) if isinstance(ref, str) else ref
    if ref.zone != "features":
        raise ValueError(f"partition {ref.uri}: expected a features/ partition, not {ref.zone}/")
    feature_set, version = ref.parts
    verdict = validate_partition(lake, ref, suite=load_suite(("features", feature_set)), postgres_uri=postgres_uri)
    location = ref
    if not verdict.success:
        location = lake.partition("quarantine", "features", f"{feature_set}.{version}", ds=ref.ds)
        lk.move_partition(lake, ref, location, reason=_reason(verdict, dag_run), written_by=dag_run or {})
    result = {**verdict.as_dict(), "location_uri": location.uri}
    _record(postgres_uri, verdict, location.uri, dag_run)
    if not verdict.success:
        raise QualityGateFailed(f"{verdict.summary()}\n  quarantined at {location.uri}", result)
    return result


def publish(lake: lk.Lake, raw: lk.PartitionRef, dag_run: dict[str, Any] | None = None) -> lk.PartitionRef:
    """Copy the validated raw partition to validated/<same path> (replacing it); drop a quarantined copy."""
    validated = lake.partition("validated", *raw.parts, ds=raw.ds)
    lk.copy_partition(lake, raw, validated, written_by=dag_run or {})
    quarantined = lake.partition("quarantine", *raw.parts, ds=raw.ds)
    if lk.delete_partition(lake, quarantined):
        log.info("replay: %s superseded by %s", quarantined.uri, validated.uri)
    _delete_reason(lake, quarantined)
    return validated


def quarantine(
    lake: lk.Lake, raw: lk.PartitionRef, verdict: Verdict, dag_run: dict[str, Any] | None = None
) -> lk.PartitionRef:
    """Move the raw partition to quarantine/<same path> with `_reason.json`; returns where it went."""
    target = lake.partition("quarantine", *raw.parts, ds=raw.ds)
    lk.move_partition(lake, raw, target, reason=_reason(verdict, dag_run), written_by=dag_run or {})
    return target


def quarantine_unreadable(
    lake: lk.Lake,
    dataset: str,
    ds: date | str,
    error: BaseException | str,
    *,
    postgres_uri: str | None,
    dag_run: dict[str, Any] | None = None,
    source: dict[str, Any] | None = None,
) -> None:
    """Record a delivery that could not be read at all, and raise `QualityGateFailed`.

    `dataset` is the raw dataset (`raw/partner/bureau`); nothing was landed, so the
    quarantine holds only `_reason.json` ("unreadable file ..."), with `source` (bucket,
    key, ETag, path) saying which delivery it was. Any earlier quarantined data of that
    day is removed so the reason and the content cannot disagree.
    """
    zone, *parts = dataset.split("/")
    target = lake.partition("quarantine", *parts, ds=ds)
    # Parsers quote the broken bytes; escape what is not printable (Postgres text refuses NUL).
    reason_text = "unreadable file: " + "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(error))
    verdict = Verdict(
        dataset=dataset,
        ds=target.ds,
        partition_uri=lake.partition(zone, *parts, ds=ds).uri,
        success=False,
        row_count=None,
        evaluated=0,
        failed=[{"expectation": "readable_file", "type": "unreadable_file", "column": None, "exception": reason_text}],
        reason=reason_text,
    )
    lk.delete_partition(lake, target)
    write_json(lake, f"{target.relative}/{REASON_NAME}", {**_reason(verdict, dag_run), "source": source or {}})
    result = {**verdict.as_dict(), "location_uri": target.uri}
    _record(postgres_uri, verdict, target.uri, dag_run)
    raise QualityGateFailed(f"{dataset} ds={target.ds.isoformat()}: {reason_text}\n  recorded at {target.uri}", result)


def _reason(verdict: Verdict, dag_run: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "dataset": verdict.dataset,
        "ds": verdict.ds.isoformat(),
        "reason": verdict.reason or f"{len(verdict.failed)} of {verdict.evaluated} expectations failed",
        "summary": verdict.summary() if verdict.reason is None else verdict.reason,
        "failed_expectations": verdict.failed,
        "row_count": verdict.row_count,
        "parameters": verdict.parameters,
        "data_docs_uri": verdict.data_docs_uri,
        "validated_partition": verdict.partition_uri,
        "dag_run": dag_run or {},
        "quarantined_at": utc_now(),
    }


def _delete_reason(lake: lk.Lake, ref: lk.PartitionRef) -> None:
    """An unreadable delivery leaves only `_reason.json` (no manifest): remove it on replay too."""
    path = lake.path(f"{ref.relative}/{REASON_NAME}")
    import pyarrow.fs as pafs

    if lake.filesystem.get_file_info(path).type == pafs.FileType.File:
        lake.filesystem.delete_file(path)


def _record(postgres_uri: str | None, verdict: Verdict, location: str, dag_run: dict[str, Any] | None) -> None:
    if not postgres_uri:
        return
    run = dag_run or {}
    store.record_run(
        postgres_uri,
        {
            "dataset": verdict.dataset,
            "ds": verdict.ds,
            "success": verdict.success,
            "row_count": verdict.row_count,
            "evaluated_expectations": verdict.evaluated,
            "failed_expectations": len(verdict.failed),
            "failed_expectation_names": verdict.failed_names,
            "observed": verdict.observed,
            "reason": verdict.reason or (None if verdict.success else verdict.summary().splitlines()[0]),
            "data_docs_uri": verdict.data_docs_uri,
            "partition_uri": location,
            "engine": verdict.engine,
            "dag_id": run.get("dag_id"),
            "run_id": run.get("run_id"),
            "task_id": run.get("task_id"),
        },
    )
