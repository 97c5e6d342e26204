"""The job entry point publishes committed feature partitions, and a re-run replaces them."""

from __future__ import annotations

from datetime import timedelta

from include.features import job
from include.features.definitions import CREDIT_DEFAULT, SCORING_SET, TRAINING_SET
from include.lake import list_partitions, read_manifest, read_partition
from include.lake.store import list_files
from tests.unit.features.conftest import ZONE, D


def test_job_publishes_both_sets_and_a_rerun_replaces_them(spark, tiny):
    tiny.publish(through=D + timedelta(days=90))
    args = job.parse_args(["--lake-root", tiny.lake.root_uri, "--date", str(D), "--zone", ZONE, "--run-id", "r1"])

    first = job.run(args, spark)
    second = job.run(args, spark)

    version = f"v{CREDIT_DEFAULT.version}"
    assert first["feature_set_version"] == CREDIT_DEFAULT.version
    assert [(p["kind"], p["rows"]) for p in second["partitions"]] == [
        (p["kind"], p["rows"]) for p in first["partitions"]
    ]
    for feature_set in (TRAINING_SET, SCORING_SET):
        assert list_partitions(tiny.lake, "features", feature_set, version) == [D]
        ref = tiny.lake.partition("features", feature_set, version, ds=D)
        manifest = read_manifest(tiny.lake, ref)
        assert manifest.written_by["run_id"] == "r1"
        assert manifest.extra["feature_set_version"] == CREDIT_DEFAULT.version
        assert manifest.source_position["inputs"]["accounts"]  # lineage: the partitions read
        # Replaced, not appended: only the second run's files remain.
        assert {f.base_name for f in list_files(tiny.lake, ref.relative)} == {"_manifest.json", *manifest.file_names}
        table = read_partition(tiny.lake, ref)
        assert table.column("account_id").to_pylist() == sorted(table.column("account_id").to_pylist())
    training = read_partition(tiny.lake, tiny.lake.partition("features", TRAINING_SET, version, ds=D))
    assert "label" in training.column_names


def test_dates_repeat_or_come_comma_separated():
    args = job.parse_args(["--lake-root", "file:///l", "--date", "2030-01-31,2030-02-15", "--date", "2030-03-01"])
    assert [str(d) for d in job._dates(args)] == ["2030-01-31", "2030-02-15", "2030-03-01"]
