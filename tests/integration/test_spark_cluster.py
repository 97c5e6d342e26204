"""The feature job runs unchanged on a Spark standalone cluster: a master and one worker
started from the installed pyspark distribution on loopback, the job sent with `spark-submit`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pytest

from include.features import pandas_reference
from include.features.definitions import CREDIT_DEFAULT, SCORING_SET
from include.lake import Lake, read_manifest, read_partition
from tests.conftest import ROOT
from tests.support.spark_standalone import SPARK_HOME, master_state, spark_standalone
from tests.unit.features.conftest import ZONE, D, TinyLake, portfolio

pytestmark = [pytest.mark.integration]

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A master and one worker (1 core, 1 GB), stopped by the PIDs started here."""
    with spark_standalone(tmp_path_factory.mktemp("spark-standalone")) as cluster:
        yield cluster


def test_feature_job_runs_on_a_standalone_cluster(standalone, tmp_path):
    tiny = TinyLake(Lake.from_uri(f"file://{tmp_path}/lake"))
    portfolio(tiny)
    tiny.publish(through=D - timedelta(days=1))

    result = subprocess.run(
        [str(VENV_BIN / "spark-submit"), "--master", standalone["master"], "--name", "features-cluster-test",
         "--conf", "spark.executor.memory=512m", "--conf", "spark.cores.max=1", "--driver-memory", "1g",
         # No Python on the executors: a Python worker there would fail the job.
         "--conf", f"spark.pyspark.driver.python={sys.executable}", "--conf", "spark.pyspark.python=/bin/false",
         str(ROOT / "include" / "features" / "job.py"),
         "--lake-root", tiny.lake.root_uri, "--date", D.isoformat(), "--kind", "scoring", "--zone", ZONE],
        env={**os.environ, "PYTHONPATH": str(ROOT), "SPARK_HOME": str(SPARK_HOME)},
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]

    summary = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])
    ref = tiny.lake.partition("features", SCORING_SET, f"v{CREDIT_DEFAULT.version}", ds=D)
    assert summary["partitions"] == [{"kind": "scoring", "ds": str(D), "rows": 2, "uri": ref.uri}]
    assert read_manifest(tiny.lake, ref).row_count == 2
    # It ran on the cluster, not in a local driver.
    apps = master_state(standalone["ui"])["completedapps"]
    assert any(app["name"] == "features-cluster-test" for app in apps)

    # The cluster's transaction features equal the pandas reference on the same events.
    published = read_partition(tiny.lake, ref).to_pandas().set_index("account_id")
    events = pd.concat(
        read_partition(tiny.lake, tiny.lake.partition(ZONE, "cards", "card_transactions", ds=day)).to_pandas()
        for day in sorted({ds for (_, dataset, ds) in tiny.rows if dataset == "card_transactions"})
    )
    expected = pandas_reference.transaction_aggregates(CREDIT_DEFAULT, events, D)
    pd.testing.assert_frame_equal(published.loc[expected.index, expected.columns], expected, check_names=False)
    assert pc.sum(pc.is_null(read_partition(tiny.lake, ref).column("product"))).as_py() == 0
