"""The scoring and monitoring DAGs are generated from the model YAMLs, and chain into training by Assets.

Parsed in a fresh interpreter like the DAG processor, with the generators pointed at the
test models folder (`PLATFORM_MODELS_DIR`).
"""

import json
import subprocess
import sys

from tests.conftest import ROOT, airflow_subprocess_env

PARSE_SCRIPT = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

def names(condition):
    # One Asset is the condition itself; `a | b` is an AssetAny of them.
    return sorted(a.name for a in condition.objects) if hasattr(condition, "objects") else [condition.name]


dags = {}
for path in sys.argv[1:]:
    bag = DagBag(dag_folder=path)
    assert not bag.import_errors, bag.import_errors
    for dag_id, dag in bag.dags.items():
        dags[dag_id] = {
            "schedule": names(dag.timetable.asset_condition),
            "tasks": {t.task_id: sorted(o.name for o in t.outlets) for t in dag.tasks},
            "owners": sorted({t.owner for t in dag.tasks}),
            "params": sorted(dag.params),
            "doc_md": dag.doc_md or "",
        }
print(json.dumps(dags))
"""


def test_each_model_gets_a_scoring_and_a_monitoring_dag_chained_by_assets_into_training():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PARSE_SCRIPT,
            str(ROOT / "dags" / "score_models.py"),
            str(ROOT / "dags" / "train_models.py"),
        ],
        env=airflow_subprocess_env(PLATFORM_MODELS_DIR=str(ROOT / "tests" / "fixtures" / "models")),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    dags = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(dags) == ["monitor_small_default", "score_small_default", "train_small_default"]
    score, monitor = dags["score_small_default"], dags["monitor_small_default"]
    # features published -> score -> predictions -> monitor -> drift signal -> training
    assert score["schedule"] == ["lake/features/small_default_scoring"]
    assert score["tasks"] == {"scoring_dates": [], "score": ["lake/predictions/small_default"]}
    assert monitor["schedule"] == ["lake/predictions/small_default"]
    assert monitor["tasks"] == {
        "monitoring_dates": [],
        "monitor": [],
        "signal_retraining": ["lake/signals/drift/small_default"],
    }
    assert "lake/signals/drift/small_default" in dags["train_small_default"]["schedule"]
    for dag in (score, monitor):
        assert dag["owners"] == ["test-owner@bank.example"] and dag["params"] == ["ds"]
        assert "tests/fixtures/models/small_default.yaml" in dag["doc_md"]
    assert "drift share >= 0.5" in monitor["doc_md"] and "ROC AUC < 0.6" in monitor["doc_md"]
