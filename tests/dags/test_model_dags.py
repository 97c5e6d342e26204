"""The training DAGs are generated from the model YAMLs: a second model is one file.

Parsed in a fresh interpreter like the DAG processor, with the generator pointed at the
test models folder (`PLATFORM_MODELS_DIR`).
"""

import json
import subprocess
import sys

from include.models import load_model
from tests.conftest import ROOT, airflow_subprocess_env

PARSE_SCRIPT = """
import json, sys
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[1])


def names(condition):  # one Asset, or an AssetAny/AssetAll of several
    return sorted(a.name for a in getattr(condition, "objects", [condition]))


dags = {
    dag_id: {
        "schedule": names(dag.timetable.asset_condition),
        "cron": getattr(getattr(dag.timetable, "timetable", None), "expression", None),
        "owners": sorted({t.owner for t in dag.tasks}),
        "tasks": {t.task_id: [t.queue, t.pool, type(t).__name__] for t in dag.tasks},
        "doc_md": dag.doc_md or "",
        "approval": {
            t.task_id: {"defaults": t.defaults, "timeout_s": t.response_timeout.total_seconds()}
            for t in dag.tasks
            if type(t).__name__ == "ApprovalOperator"
        },
    }
    for dag_id, dag in bag.dags.items()
    if dag_id.startswith("train_")
}
print(json.dumps({"errors": bag.import_errors, "dags": dags}))
"""


def parse(models_dir) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PARSE_SCRIPT, str(ROOT / "dags" / "train_models.py")],
        env=airflow_subprocess_env(PLATFORM_MODELS_DIR=str(models_dir)),
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_second_models_yaml_alone_yields_its_training_dag():
    parsed = parse(ROOT / "tests" / "fixtures" / "models")
    assert parsed["errors"] == {}
    assert list(parsed["dags"]) == ["train_small_default"]
    dag = parsed["dags"]["train_small_default"]
    assert dag["owners"] == ["test-owner@bank.example"]
    assert dag["schedule"] == ["lake/signals/drift/small_default"]
    assert dag["cron"] == "0 0 * * 0"  # the YAML's schedule.training, @weekly
    assert set(dag["tasks"]) == {
        "locate_training_set",
        "train_lightgbm",
        "gate",
        "route",
        "request_approval",
        "approve",
        "promote",
        "keep_champion",
    }
    assert dag["tasks"]["approve"][2] == "ApprovalOperator"
    assert "tests/fixtures/models/small_default.yaml" in dag["doc_md"]


def test_the_reference_models_mlp_trains_on_the_gpu_queue_and_pool():
    dag = parse(ROOT / "include" / "models")["dags"]["train_credit_default"]
    assert dag["tasks"]["train_pytorch_mlp"][:2] == ["gpu", "gpu"]
    assert dag["tasks"]["train_lightgbm"][:2] == ["default", "default_pool"]


def test_no_answer_within_the_prod_policys_timeout_counts_as_a_rejection():
    """Airflow answers an expired approval with the operator's defaults: Reject, after the YAML's hours."""
    dag = parse(ROOT / "include" / "models")["dags"]["train_credit_default"]
    config = load_model(ROOT / "include" / "models" / "credit_default.yaml")
    hours = config.environments["prod"].timeout_hours
    assert dag["approval"] == {"approve": {"defaults": ["Reject"], "timeout_s": hours * 3600}}


def test_a_malformed_model_yaml_is_an_import_error_naming_the_file_and_field(tmp_path):
    text = (ROOT / "tests" / "fixtures" / "models" / "small_default.yaml").read_text()
    (tmp_path / "small_default.yaml").write_text(text.replace("min_roc_auc: 0.7", "min_roc_auc: high"))
    errors = parse(tmp_path)["errors"]
    (message,) = errors.values()
    assert "small_default.yaml: thresholds.min_roc_auc: expected a number in [0.5, 1], got 'high'" in message
