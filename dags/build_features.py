"""
### Build the credit-default features (Spark)

Reads the **validated** lake zone and publishes two feature tables, each a Parquet
partition with a manifest and an Asset of its own:

| feature set | what | observation date |
| --- | --- | --- |
| `features/credit_default_scoring/v<version>/ds=D` | features at D of every active account | D |
| `features/credit_default_training/v<version>/ds=D'` | features at D' + label matured at D' + 90 d | D' = D - 91 d |

Point in time: a feature at D uses only events before D and the latest version of each
customer, account and bureau record known before D (`include/features/`). The version is a
hash of the feature definitions, so a changed definition writes a new `v<version>`.

**Which D a run builds.** A scheduled or backfill run over the interval [X, X + 1 day)
builds D = X + 1 day: the interval's day is then complete. A run triggered by the validated
Assets of its daily inputs (core tables, bureau, card transactions) has no data
interval and builds the latest D whose inputs are all validated. A missing input fails
the run naming the partition; the retry picks it up once it is validated.

**A model's history.** A manual run with the param `training_dates` (a list of days) builds
the training set for those days instead of D - 91, all in one Spark job: e.g. one date per
month to train a first model out of time. `bin/airflow dags test build_features 2026-11-01
--conf '{"training_dates": ["2026-06-30", "2026-07-15", "2026-08-01"]}'`.

**Where Spark runs.** Each table is one `spark-submit` of `include/features/job.py` through
the connection `spark_default`: `local[*]` locally, a `spark://`, `k8s://` or `yarn`
master by configuration only (`SPARK_MASTER` in `airflow_settings.yaml`). Jobs take a
slot of the `spark` pool. On an `s3://` lake the submit adds the s3a connector's jars and
the connection `lake_s3` (`orchestration.spark.LakeSparkSubmitOperator`).

**Quality gate.** After each build, `validate_<kind>_set` checks the partition with the feature
table's GX suite (`include/quality/suites/features.credit_default_<kind>.yaml`: keys, shares
in [0, 1], counts, bureau score range, volume against the trailing week, the default rate
and mean activity within bounds learned from history). Only a pass emits the feature set's
Asset, which schedules training. A failure moves the partition to
`quarantine/features/<set>.v<version>/` with `_reason.json`, alerts, and fails without retry.

Backfill: `bin/airflow backfill create --dag-id build_features --from-date 2026-11-01 --to-date 2026-11-14`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import AssetAll, AssetOrTimeSchedule, CronDataIntervalTimetable, Param, dag, task

from include.features.definitions import CREDIT_DEFAULT, SCORING_SET, TRAINING_SET
from orchestration.assets import lake_asset
from orchestration.deadlines import completion_deadline, deadline_doc
from orchestration.defaults import task_defaults
from orchestration.spark import LakeSparkSubmitOperator

JOB = str(Path(__file__).resolve().parent.parent / "include" / "features" / "job.py")
DAILY_INPUTS = [
    ("core", "customers"),
    ("core", "accounts"),
    ("core", "statements"),
    ("core", "repayments"),
    ("partner", "bureau"),
    ("cards", "card_transactions"),
]


# Two Spark jobs and their gates; the 3-hour run timeout is the hard stop.
FINISHED_WITHIN = timedelta(hours=2)


@dag(
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
        assets=AssetAll(*(lake_asset("validated", *dataset) for dataset in DAILY_INPUTS)),
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=2,
    default_args=task_defaults(owner="ml-eng", pool="spark"),
    dagrun_timeout=timedelta(hours=3),
    params={
        "training_dates": Param(
            [],
            type="array",
            items={"type": "string", "format": "date"},
            description="Observation dates to build the training set for, instead of D - 91 (a manual run that "
            "builds a model's history, e.g. one date per month); every label must have matured.",
        )
    },
    tags=["features", "spark"],
    deadline=completion_deadline(FINISHED_WITHIN),
    doc_md=__doc__ + deadline_doc(FINISHED_WITHIN),
)
def build_features():
    @task(pool="default_pool")
    def observation_dates(params=None, data_interval_end=None) -> dict:
        """The scoring D (the end of the data interval, or the latest complete day) and the training D - 91,
        or the param `training_dates`; several dates are comma-separated (one Spark job builds them all)."""
        from include.features.inputs import latest_complete_date
        from orchestration.resources import lake

        d = data_interval_end.date() if data_interval_end else latest_complete_date(lake(), "validated")
        training = params["training_dates"] or [CREDIT_DEFAULT.matured_date(d).isoformat()]
        return {"scoring": d.isoformat(), "training": ",".join(sorted(training))}

    def submit(kind: str, feature_set: str) -> LakeSparkSubmitOperator:
        return LakeSparkSubmitOperator(
            task_id=f"build_{kind}_set",
            application=JOB,
            conn_id="spark_default",
            name=f"features-{feature_set}",
            application_args=[
                "--lake-root",
                "{{ var.value.lake_root }}",
                "--date",
                "{{ ti.xcom_pull(task_ids='observation_dates')['" + kind + "'] }}",
                "--kind",
                kind,
                "--dag-id",
                "{{ dag.dag_id }}",
                "--run-id",
                "{{ run_id }}",
            ],
            execution_timeout=timedelta(hours=2),
        )

    def validate(kind: str, feature_set: str):
        published_set = lake_asset("features", feature_set)

        @task(task_id=f"validate_{kind}_set", pool="default_pool", outlets=[published_set])
        def validate_set(dates: dict, outlet_events=None, **context) -> list[dict]:
            """Validate each built partition with the feature table's GX suite; on a failure quarantine it and fail.

            A pass emits the feature set's Asset with the (newest) day in its extra (`ds`), so
            consumers (`score_<model>`) know which day was published without listing the lake."""
            from orchestration.quality import run_feature_gate
            from orchestration.resources import lake

            verdicts, days = [], dates[kind].split(",")
            for day in days:
                ref = lake().partition("features", feature_set, f"v{CREDIT_DEFAULT.version}", ds=day)
                verdicts.append(run_feature_gate(ref.uri, context))
            extra = {"ds": days[-1], "uri": ref.uri}
            outlet_events[published_set].extra = {**extra, "days": days} if len(days) > 1 else extra
            return verdicts

        return validate_set

    @task(pool="default_pool")
    def published(dates: dict) -> dict:
        """References to the committed partitions (URI, rows, version) for downstream tasks: per kind the
        newest day's, and every day's under `partitions`."""
        from include.features.spark_engine import KINDS
        from include.lake import read_manifest
        from orchestration.resources import lake

        store, version = lake(), f"v{CREDIT_DEFAULT.version}"
        out = {"feature_set_version": CREDIT_DEFAULT.version}
        for kind, feature_set in KINDS.items():
            parts = []
            for day in dates[kind].split(","):
                ref = store.partition("features", feature_set, version, ds=day)
                parts.append({"ds": day, "uri": ref.uri, "rows": read_manifest(store, ref).row_count})
            out[kind] = {**parts[-1], "partitions": parts}
        return out

    dates = observation_dates()
    gates = []
    for kind, feature_set in (("training", TRAINING_SET), ("scoring", SCORING_SET)):
        gate = validate(kind, feature_set)(dates)
        dates >> submit(kind, feature_set) >> gate
        gates.append(gate)
    gates >> published(dates)


build_features()
