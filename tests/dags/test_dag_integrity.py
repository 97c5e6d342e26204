"""Every DAG file parses, follows the platform's conventions, and stays cheap to parse.

The DAG folder is parsed in a fresh interpreter (as the DAG processor does), so the
check of `sys.modules` sees exactly what parsing imported.
"""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from orchestration.deadlines import CALLBACK, deadline_doc
from tests.conftest import ROOT, airflow_subprocess_env

HEAVY_MODULES = ["pandas", "pyspark", "torch", "mlflow", "great_expectations", "evidently", "lightgbm", "sklearn"]

PARSE_SCRIPT = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])
dags = {}
for dag_id, dag in bag.dags.items():
    deadlines = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline] if dag.deadline else []
    dags[dag_id] = {
        "fileloc": dag.fileloc,
        "scheduled": type(dag.timetable).__name__ != "NullTimetable",
        "deadlines": [
            {
                "reference": type(d.reference).__name__,
                "seconds": d.interval.total_seconds(),
                "callback": d.callback.path,
            }
            for d in deadlines
        ],
        "tags": sorted(dag.tags),
        "doc_md": dag.doc_md or "",
        "tasks": {
            t.task_id: {
                "owner": t.owner,
                "retries": t.retries,
                "doc_md": t.doc_md or "",
                "on_failure_callback": [getattr(c, "__name__", repr(c)) for c in (t.on_failure_callback or [])],
                "on_retry_callback": [getattr(c, "__name__", repr(c)) for c in (t.on_retry_callback or [])],
            }
            for t in dag.tasks
        },
    }
heavy = sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)
print(json.dumps({"import_errors": bag.import_errors, "dags": dags, "heavy": heavy}))
"""


@pytest.fixture(scope="module")
def parsed() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, str(ROOT / "dags"), json.dumps(HEAVY_MODULES)],
        env=airflow_subprocess_env(),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_dag_file_imports_without_error(parsed):
    assert parsed["import_errors"] == {}


def test_every_dag_file_defines_a_dag(parsed):
    files = {Path(p).name for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_")}
    with_dags = {Path(d["fileloc"]).name for d in parsed["dags"].values()}
    assert files <= with_dags, f"DAG files without a DAG: {sorted(files - with_dags)}"


def test_parsing_imports_no_heavy_module(parsed):
    assert parsed["heavy"] == [], "import these inside tasks, not at DAG parse time"


def test_every_dag_has_tags_and_documentation(parsed):
    for dag_id, dag in parsed["dags"].items():
        assert dag["tags"], f"{dag_id}: no tags"
        assert len(dag["doc_md"].strip()) > 80, f"{dag_id}: doc_md missing or too short for the UI"


def test_every_task_has_an_owner_retries_and_alert_callbacks(parsed):
    for dag_id, dag in parsed["dags"].items():
        for task_id, task in dag["tasks"].items():
            where = f"{dag_id}.{task_id}"
            assert task["owner"] not in ("", "airflow"), f"{where}: set a real owner"
            # Fewer retries are allowed when the task's doc says why ("Retries: ...").
            assert task["retries"] >= 2 or "Retries:" in task["doc_md"], f"{where}: retries {task['retries']} < 2"
            assert "on_failure" in task["on_failure_callback"], f"{where}: no failure alert"
            assert "on_retry" in task["on_retry_callback"], f"{where}: no retry alert"


def test_every_scheduled_dag_alerts_when_a_run_is_late_and_says_when(parsed):
    scheduled = {dag_id: dag for dag_id, dag in parsed["dags"].items() if dag["scheduled"]}
    assert {"ingest_postgres_core", "build_features", "train_credit_default", "score_credit_default"} <= set(scheduled)
    for dag_id, dag in scheduled.items():
        assert len(dag["deadlines"]) == 1, f"{dag_id}: expected one deadline, got {dag['deadlines']}"
        [deadline] = dag["deadlines"]
        # Counted from when the run was queued: a backfill's logical dates lie in the past.
        assert deadline["reference"] == "DagRunQueuedAtDeadline", f"{dag_id}: {deadline}"
        assert deadline["callback"] == CALLBACK, f"{dag_id}: {deadline}"
        assert deadline_doc(timedelta(seconds=deadline["seconds"])) in dag["doc_md"], f"{dag_id}: doc_md omits it"
