"""`build_features`, run by Airflow (`bin/airflow dags test`): the SparkSubmitOperator submits
the job through `spark_default` (local[*]) and both feature tables are published for the
D the data interval gives."""

from __future__ import annotations

import subprocess
import uuid
from datetime import timedelta

import pyarrow.fs as pafs
import pytest

from include.features.definitions import CREDIT_DEFAULT, SCORING_SET, TRAINING_SET
from include.lake import Lake, read_manifest
from tests.conftest import ROOT, airflow_subprocess_env, isolated_quality_history
from tests.unit.features.conftest import D, TinyLake, portfolio

pytestmark = [pytest.mark.integration, pytest.mark.airflow]


@pytest.fixture(scope="module", autouse=True)
def quality_history(settings, stack):
    """The feature gate's history in a scratch database (see `isolated_quality_history`)."""
    with isolated_quality_history(settings) as uri:
        yield uri


def test_build_features_publishes_scoring_and_training_sets_for_the_interval(airflow_db, tmp_path):
    training_d = CREDIT_DEFAULT.matured_date(D)
    tiny = TinyLake(Lake.from_uri(f"file://{tmp_path}/lake"), zone="validated")
    portfolio(tiny, training_d)  # activity before the training date too
    portfolio(tiny)
    tiny.publish(through=D - timedelta(days=1), since=training_d - timedelta(days=1))

    # A manual run covers the last complete interval before its date: [D - 1, D), so it builds D.
    result = subprocess.run(
        [str(ROOT / "bin" / "airflow"), "dags", "test", "build_features", str(D)],
        env=airflow_subprocess_env(AIRFLOW_VAR_LAKE_ROOT=tiny.lake.root_uri),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,  # two spark-submits, one after the other
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]

    version = f"v{CREDIT_DEFAULT.version}"
    scoring = read_manifest(tiny.lake, tiny.lake.partition("features", SCORING_SET, version, ds=D))
    training = read_manifest(tiny.lake, tiny.lake.partition("features", TRAINING_SET, version, ds=training_d))
    assert scoring.row_count == 2 and scoring.written_by["dag_id"] == "build_features"
    assert training.row_count == 2
    # Both tables passed the feature suites' gate: still in features/, nothing quarantined.
    assert "Data Docs: file://" in result.stdout + result.stderr
    assert not (tmp_path / "lake" / "quarantine").exists()


def test_build_features_on_an_s3_lake_reads_and_publishes_through_s3a(airflow_db, settings):
    """The same run on `s3://lake/tests-features-<uuid>`: the submit gets the s3a jars and the connection
    `lake_s3`, Spark reads the validated zone from S3 and the gate validates what was published there."""
    lake = settings.lake(f"s3://lake/tests-features-{uuid.uuid4().hex}")
    training_d = CREDIT_DEFAULT.matured_date(D)
    try:
        tiny = TinyLake(lake, zone="validated")
        portfolio(tiny, training_d)
        portfolio(tiny)
        tiny.publish(through=D - timedelta(days=1), since=training_d - timedelta(days=1))
        result = subprocess.run(
            [str(ROOT / "bin" / "airflow"), "dags", "test", "build_features", str(D)],
            env=airflow_subprocess_env(AIRFLOW_VAR_LAKE_ROOT=lake.root_uri),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=900,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-4000:]
        version = f"v{CREDIT_DEFAULT.version}"
        scoring = read_manifest(lake, lake.partition("features", SCORING_SET, version, ds=D))
        training = read_manifest(lake, lake.partition("features", TRAINING_SET, version, ds=training_d))
        assert scoring.row_count == 2 and training.row_count == 2
        read = [folder for folders in scoring.source_position["inputs"].values() for folder in folders]
        assert read and all(folder.startswith(f"{lake.root_uri}/validated/") for folder in read), read
        assert f"Data Docs: {lake.root_uri}/reports/" in output
        assert "spark-s3/hadoop-aws-3.5.0.jar" in output  # the submit's --jars
        assert not lake.filesystem.get_file_info(pafs.FileSelector(f"{lake.root}/quarantine", allow_not_found=True))
    finally:
        lake.filesystem.delete_dir(lake.root)
