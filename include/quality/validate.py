"""Validating one lake partition with its suite: a GX checkpoint run, Data Docs, and a `Verdict`.

The partition is handed to GX as a dataframe of one of two engines:
- `pandas`: the whole partition in memory (`read_partition`); fastest for small days.
- `spark`: Spark reads the partition's committed Parquet files (`local[*]` here, a cluster
  in production); memory stays bounded whatever the size, so large transaction days and
  archive months go there. On an `s3://` lake Spark reads them in place through the s3a
  connector, with the lake's endpoint and keys (`include.lake.spark`).
`engine="auto"` picks Spark from `SPARK_FROM_ROWS` rows on (see `bench/quality.py` for
the measurement behind it). Referential integrity never hands GX the set of known ids
(see `reference_checks`).

Each run gets a fresh ephemeral GX context (about 50 ms): the suite, the validation
definition and a checkpoint whose `UpdateDataDocsAction` renders the Data Docs site into
a scratch directory, which is then copied under the lake's `reports/data_docs/` (the
same code for file:// and s3:// lakes; GX's own S3 site backend would need boto3
options of its own). `index.html` there shows the latest validation; every validation
keeps its own page under `validations/`, and that page's URI is in the verdict.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from include import lake as lk
from include.lake.spark import configure_s3a, s3a_jars, spark_path
from include.quality import store
from include.quality.suites import Suite, load_suite

log = logging.getLogger(__name__)

ENGINES = ("auto", "pandas", "spark")
# Measured (bench/results/quality.md, 2 loaded cores): pandas validates 1M rows 2-2.5x and 10M
# rows 1.5x faster than local Spark, but needs ~0.5 GB of memory per 1M rows (4.9 GB peak at
# 10M) where Spark's stays bounded. So the threshold is a memory bound, not a speed one: up to
# ~2 GB per validation on pandas, bigger partitions (10M-row months) on Spark.
SPARK_FROM_ROWS = 4_000_000
DATA_DOCS = "reports/data_docs"
SITE = "lake"
_SHOWN_UNEXPECTED = 5


@dataclass(frozen=True)
class Verdict:
    """The outcome of one validation, small and JSON-ready (XCom, `_reason.json`, alerts)."""

    dataset: str  # zone/parts, e.g. raw/partner/bureau
    ds: date
    partition_uri: str
    success: bool
    row_count: int | None
    evaluated: int
    failed: list[dict[str, Any]]  # one entry per failed expectation, see `_failure`
    observed: dict[str, float] = field(default_factory=dict)  # expectation id -> observed number
    parameters: dict[str, Any] = field(default_factory=dict)  # the run-time parameters (value sets summarised)
    data_docs_uri: str | None = None
    engine: str | None = None
    reason: str | None = None  # set when there was nothing GX could read

    @property
    def failed_names(self) -> list[str]:
        return [f["expectation"] for f in self.failed]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ds": self.ds.isoformat(), "failed_names": self.failed_names}

    def summary(self) -> str:
        """A readable account: what was validated, and each failed check with what was observed."""
        rows = "unreadable" if self.row_count is None else f"{self.row_count:,} rows"
        head = f"{self.dataset} ds={self.ds.isoformat()} ({rows})"
        if self.success:
            return f"{head}: all {self.evaluated} expectations passed"
        lines = [f"{head}: {len(self.failed)} of {self.evaluated} expectations failed"]
        lines += [f"  - {describe_failure(f)}" for f in self.failed]
        if self.data_docs_uri:
            lines.append(f"  Data Docs: {self.data_docs_uri}")
        return "\n".join(lines)


def describe_failure(failure: dict[str, Any]) -> str:
    what = failure["type"] + (f"({failure['column']})" if failure.get("column") else "")
    if failure.get("exception"):
        return f"{failure['expectation']} [{what}]: could not be evaluated: {failure['exception']}"
    parts = []
    if failure.get("observed") is not None:
        parts.append(f"observed {failure['observed']}")
    if failure.get("unexpected_count"):
        percent = failure.get("unexpected_percent")
        share = f" ({percent:.2f}%)" if isinstance(percent, int | float) else ""
        parts.append(f"{failure['unexpected_count']} unexpected{share}, e.g. {failure.get('unexpected_sample')}")
    if failure.get("details"):
        parts.append(f"details {failure['details']}")
    if failure.get("expected"):
        parts.append(f"expected {failure['expected']}")
    return f"{failure['expectation']} [{what}]: " + ("; ".join(parts) or "failed")


def default_interval(suite: Suite, ds: date) -> tuple[datetime, datetime]:
    """The partition's data interval in UTC: its day, or for monthly datasets the month it starts."""
    start = datetime.combine(ds, time(), tzinfo=UTC)
    if suite.interval == "month":
        following = (ds.replace(day=1) + timedelta(days=32)).replace(day=1)
        return start, datetime.combine(following, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def resolve_parameters(
    suite: Suite,
    lake: lk.Lake,
    ds: date,
    interval: tuple[datetime, datetime],
    past: list[store.PastRun],
) -> dict[str, Any]:
    """Every `$PARAMETER` value of the suite for one partition (see `include.quality.suites`)."""
    values: dict[str, Any] = {"interval_start": interval[0], "interval_end": interval[1]}
    for name, spec in suite.parameters.items():
        kind = spec["kind"]
        if kind == "volume":
            values[f"{name}_min"], values[f"{name}_max"] = volume_band(spec, past)
        elif kind == "learned":
            values[f"{name}_min"], values[f"{name}_max"] = learned_bounds(spec, past)
        else:
            values[name] = reference_values(lake, spec, ds)
    return values


def volume_band(spec: dict[str, Any], past: list[store.PastRun]) -> tuple[int, int | None]:
    counts = [run.row_count for run in past[-int(spec.get("last", 7)) :]]
    if len(counts) < int(spec.get("min_history", 3)):
        return 1, None
    mean, band = statistics.fmean(counts), float(spec.get("band", 0.5))
    return math.floor(mean * (1 - band)), math.ceil(mean * (1 + band))


def learned_bounds(spec: dict[str, Any], past: list[store.PastRun]) -> tuple[float, float]:
    key = spec["expectation"]
    seen = [run.observed[key] for run in past[-int(spec.get("last", 28)) :] if run.observed.get(key) is not None]
    if len(seen) < int(spec.get("min_history", 5)):
        low, high = spec["default"]
        return float(low), float(high)
    mean = statistics.fmean(seen)
    spread = max(float(spec.get("k", 4)) * statistics.pstdev(seen), float(spec.get("rel", 0.05)) * abs(mean))
    return mean - spread, mean + spread


def reference_values(lake: lk.Lake, spec: dict[str, Any], ds: date) -> list[Any]:
    """The known values of a column across every validated and raw partition of a dataset.

    Every partition, not only those up to `ds`: core tables land incrementally by `updated_at`,
    so an account opened in April and last changed in October sits only in October's
    partition, and May's transactions on it are not orphans. `ds` is kept for the signature
    other parameter kinds share.
    """
    parts = tuple(spec["dataset"].split("/"))
    column = spec["column"]
    known: set[Any] = set()
    for zone in spec.get("zones", ("validated", "raw")):
        for day in lk.list_partitions(lake, zone, *parts):
            table = lk.read_partition(lake, lake.partition(zone, *parts, ds=day), columns=[column])
            known.update(v for v in table.column(column).to_pylist() if v is not None)
    return sorted(known)


def validate_partition(
    lake: lk.Lake,
    ref: lk.PartitionRef,
    *,
    suite: Suite | None = None,
    interval: tuple[datetime, datetime] | None = None,
    postgres_uri: str | None = None,
    engine: str = "auto",
) -> Verdict:
    """Validate one committed partition against its dataset's suite; renders Data Docs into the lake.

    `interval` defaults to the partition's day (or month, for monthly suites); history for
    volume bands and learned bounds comes from `ml.data_quality_runs` at `postgres_uri`
    (none without it: the suites' first-run defaults apply). Validation only: acting on
    the verdict is `include.quality.gate`'s job.
    """
    suite = suite or load_suite((ref.zone, *ref.parts))
    manifest = lk.verify_partition(lake, ref)
    interval = interval or default_interval(suite, ref.ds)
    past = store.history(postgres_uri, "/".join(suite.dataset), ref.ds, _history_depth(suite)) if postgres_uri else []
    parameters = resolve_parameters(suite, lake, ref.ds, interval, past)
    chosen = choose_engine(engine, manifest.row_count)
    with tempfile.TemporaryDirectory(prefix="quality-") as scratch:
        dataframe = _dataframe(chosen, lake, ref)
        configs, views = reference_checks(suite, chosen, dataframe, parameters)
        given = {k: v for k, v in parameters.items() if k not in suite_references(suite)}
        try:
            result, page = _run_checkpoint(suite, configs, chosen, dataframe, given, Path(scratch) / "site")
        finally:
            _release(chosen, dataframe, views)
        docs_uri = publish_data_docs(lake, Path(scratch) / "site", page)
    failed, observed = [], {}
    for res in result.results:
        exp_id = res.expectation_config.meta.get("id", res.expectation_config.type)
        value = res.result.get("observed_value")
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            observed[exp_id] = float(value)
        if not res.success:
            failed.append(_failure(res, exp_id))
    verdict = Verdict(
        dataset="/".join(suite.dataset),
        ds=ref.ds,
        partition_uri=ref.uri,
        success=bool(result.success),
        row_count=manifest.row_count,
        evaluated=int(result.statistics["evaluated_expectations"]),
        failed=failed,
        observed=observed,
        parameters=_summarised(parameters),
        data_docs_uri=docs_uri,
        engine=chosen,
    )
    log.info("%s", verdict.summary())
    return verdict


def choose_engine(engine: str, rows: int) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine '{engine}': expected one of {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    return "spark" if rows >= SPARK_FROM_ROWS else "pandas"


def _history_depth(suite: Suite) -> int:
    return max([int(spec.get("last", 7)) for spec in suite.parameters.values() if spec["kind"] != "reference"] or [0])


def _dataframe(engine: str, lake: lk.Lake, ref: lk.PartitionRef) -> Any:
    if engine == "pandas":
        return _pandas_frame(lk.read_partition(lake, ref))
    spark = spark_session()
    configure_s3a(spark, lake.s3)
    paths = [spark_path(uri) for uri in lk.data_file_uris(lake, ref)]
    # Cached: GX runs one Spark job per group of metrics, each would otherwise re-read and decode the files.
    return spark.read.parquet(*paths).cache()


def _release(engine: str, dataframe: Any, views: list[str]) -> None:
    if engine != "spark":
        return
    dataframe.unpersist()
    for view in views:
        spark_session().catalog.dropTempView(view)


def suite_references(suite: Suite) -> set[str]:
    return {name for name, spec in suite.parameters.items() if spec["kind"] == "reference"}


def reference_checks(
    suite: Suite, engine: str, dataframe: Any, parameters: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """The suite's expectation configs with each referential-integrity check in a form that scales.

    A reviewed `expect_column_values_to_be_in_set` whose `value_set` is a `reference`
    parameter (every known account id: 100k+ values) would put the whole set into the
    expectation's configuration, which GX re-serialises dozens of times per run and
    renders into Data Docs (at 100k ids that was ~90% of a validation's time). Instead:
    - spark: the known values become a temp view and the check an `UnexpectedRowsExpectation`
      whose query anti-joins the batch with it; observed value = the number of orphan rows.
    - pandas: the orphan values are found first (a hash lookup) and the check becomes
      `expect_column_values_to_not_be_in_set` of them (up to `_ORPHANS_LISTED`), so the
      failure shows the orphan count and examples; a clean batch gets an empty set.
    Both keep the expectation's id. Returns the configs and the temp views to drop afterwards.
    """
    references = suite_references(suite)
    configs, views = [], []
    for config in suite.expectation_configs():
        value_set = config["kwargs"].get("value_set")
        name = value_set.get("$PARAMETER") if isinstance(value_set, dict) else None
        if config["type"] != "expect_column_values_to_be_in_set" or name not in references:
            configs.append(config)
            continue
        column, known, spec = config["kwargs"]["column"], parameters[name], suite.parameters[name]
        meta = {**config["meta"], "reference": f"{spec['dataset']}.{spec['column']}"}
        # A missing column goes the pandas way on Spark too: GX reports it as such, no SQL analysis error.
        if engine == "spark" and column in dataframe.columns:
            views.append(_known_view(name, column, known))
            configs.append(_anti_join_check(column, views[-1], {**meta, "column": column}))
        else:
            configs.append(_orphan_check(dataframe, column, known, meta))
    return configs, views


_ORPHANS_LISTED = 1000


def _known_view(name: str, column: str, known: list[Any]) -> str:
    import uuid

    import pandas as pd

    view = f"reference_{name}_{uuid.uuid4().hex[:8]}"
    spark = spark_session()
    spark.createDataFrame(pd.DataFrame({column: known})).createOrReplaceTempView(view)
    return view


def _anti_join_check(column: str, view: str, meta: dict[str, Any]) -> dict[str, Any]:
    query = (
        f"SELECT b.`{column}` FROM {{batch}} b LEFT ANTI JOIN {view} k ON b.`{column}` = k.`{column}`"
        f" WHERE b.`{column}` IS NOT NULL"
    )
    return {
        "type": "unexpected_rows_expectation",
        # A missing column must fail this check (the schema check names it), not the whole run.
        "kwargs": {"unexpected_rows_query": query, "catch_exceptions": True},
        "description": f"every non-null {column} is a known {meta['reference']} (anti-join: rows found = orphans)",
        "meta": meta,
    }


def _orphan_check(frame: Any, column: str, known: list[Any], meta: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    orphans: list[Any] = []
    if column in frame.columns:
        values = pd.Series(frame[column].dropna().unique())
        orphans = sorted(values[~values.isin(known)].tolist())
    meta = {**meta, "orphan_values": len(orphans)}
    return {
        "type": "expect_column_values_to_not_be_in_set",
        "kwargs": {"column": column, "value_set": orphans[:_ORPHANS_LISTED]},
        "meta": meta,
    }


def _pandas_frame(table: Any) -> Any:
    """The partition as pandas, in types GX's pandas checks can name.

    GX cannot name a tz-aware dtype in a type list, so UTC timestamps become naive UTC
    (the interval parameters too, see `_naive`); dates become datetime64, not objects.
    """
    import pyarrow as pa

    fields = [pa.field(f.name, pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) else f for f in table.schema]
    return table.cast(pa.schema(fields)).to_pandas(date_as_object=False)


def _naive(parameters: dict[str, Any]) -> dict[str, Any]:
    return {k: v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v for k, v in parameters.items()}


_SPARK = None


def spark_session():
    """One local Spark session per process (the cold start costs seconds, not worth paying twice)."""
    global _SPARK
    if _SPARK is None:
        from pyspark.sql import SparkSession

        _SPARK = (
            SparkSession.builder.master(os.environ.get("QUALITY_SPARK_MASTER", "local[*]"))
            .appName("quality-gate")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", os.environ.get("QUALITY_SPARK_DRIVER_MEMORY", "4g"))
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.jars", ",".join(s3a_jars()))
            .getOrCreate()
        )
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def _run_checkpoint(
    suite: Suite, configs: list[dict[str, Any]], engine: str, dataframe: Any, parameters: dict[str, Any], site: Path
):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from include.quality.suites import gx_suite

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        SITE,
        {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    if engine == "spark":
        source = context.data_sources.add_spark(engine, persist=False)
    else:
        source = context.data_sources.add_pandas(engine)
    batch = source.add_dataframe_asset(suite.name).add_batch_definition_whole_dataframe("partition")
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=context.suites.add(gx_suite(suite, configs)))
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"gate-{suite.name}",
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[SITE])],
            # BASIC: counts and up to 20 unexpected values; SUMMARY adds an index list per
            # expectation, one more pass over the data each (on Spark a job each).
            result_format={"result_format": "BASIC"},
        )
    )
    if engine == "pandas":
        parameters = _naive(parameters)
    outcome = checkpoint.run(batch_parameters={"dataframe": dataframe}, expectation_parameters=parameters)
    identifier, result = next(iter(outcome.run_results.items()))
    url = context.get_docs_sites_urls(resource_identifier=identifier, site_name=SITE)[0]["site_url"]
    return result, Path(url.removeprefix("file://")).relative_to(site)


def publish_data_docs(lake: lk.Lake, site: Path, page: Path) -> str:
    """Copy the rendered site under `reports/data_docs/` (static assets once); returns the page's URI."""
    import pyarrow.fs as pafs

    from include.lake.store import ensure_dir

    local = pafs.LocalFileSystem()
    static_marker = lake.path(f"{DATA_DOCS}/static/styles/data_docs_default_styles.css")
    have_static = lake.filesystem.get_file_info(static_marker).type == pafs.FileType.File
    for path in sorted(site.rglob("*")):
        relative = path.relative_to(site).as_posix()
        if path.is_dir() or (have_static and relative.startswith("static/")):
            continue
        target = f"{DATA_DOCS}/{relative}"
        ensure_dir(lake, target.rpartition("/")[0])
        pafs.copy_files(str(path), lake.path(target), source_filesystem=local, destination_filesystem=lake.filesystem)
    return lake.uri(f"{DATA_DOCS}/{page.as_posix()}")


def _failure(res: Any, exp_id: str) -> dict[str, Any]:
    """One failed expectation as JSON: what it checks, what it saw, and what it expected."""
    body = res.to_json_dict()
    config, result = body["expectation_config"], body.get("result") or {}
    kwargs, meta = config.get("kwargs", {}), config.get("meta") or {}
    if meta.get("reference"):  # a referential-integrity check (see `reference_checks`): say what it checks against
        expected = {"values_known_in": meta["reference"]}
    else:
        expected = {k: v for k, v in kwargs.items() if k not in ("column", "batch_id") and not _is_big(v)}
    exception = body.get("exception_info") or {}
    return {
        "expectation": exp_id,
        "type": config["type"],
        "column": kwargs.get("column") or meta.get("column"),
        "observed": result.get("observed_value"),
        "unexpected_count": result.get("unexpected_count"),
        "unexpected_percent": result.get("unexpected_percent"),
        "unexpected_sample": (result.get("partial_unexpected_list") or [])[:_SHOWN_UNEXPECTED],
        "details": result.get("details") or _orphans(meta),
        "expected": expected,
        "exception": exception.get("exception_message") if exception.get("raised_exception") else None,
    }


def _is_big(value: Any) -> bool:
    return isinstance(value, list) and len(value) > 20


def _summarised(parameters: dict[str, Any]) -> dict[str, Any]:
    return {k: (f"<{len(v)} values>" if _is_big(v) else v) for k, v in parameters.items()}


def _orphans(meta: dict[str, Any]) -> dict[str, Any] | None:
    return {"orphan_values": meta["orphan_values"]} if "orphan_values" in meta else None
