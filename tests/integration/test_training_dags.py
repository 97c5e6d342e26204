"""The generated training DAG and the reproduce DAG, run by Airflow itself (`bin/airflow dags test`)
on a small synthetic training set in a temporary lake, against the real MLflow server.

The model is the fixture YAML under a name unique to the test (and a fast MLP added), in a
models folder of its own (`PLATFORM_MODELS_DIR`): its DAG appears from that file alone, and
its registry entries never collide with other tests on the shared server.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow import MlflowClient

from include import lake as lk
from include.training import tracking
from include.training.reproduce import report_path
from include.training.synthetic import publish_to_lake, synthetic_training_set
from tests.conftest import ROOT, airflow_subprocess_env
from tests.support.models import model_with_gpu_mlp

pytestmark = [pytest.mark.integration, pytest.mark.airflow]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> tuple[str, Path]:
    """A models folder with one model: the fixture YAML, renamed, with a fast MLP on the gpu queue."""
    folder = tmp_path_factory.mktemp("models")
    return model_with_gpu_mlp(folder, "dagtest"), folder


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory) -> str:
    lake = lk.Lake.from_uri(f"file://{tmp_path_factory.mktemp('lake')}")
    publish_to_lake(synthetic_training_set(6_000, seed=5), lake, "small_default_training", "v2")
    return lake.root_uri


def dags_test(dag_id: str, lake_root: str, models: Path, *args: str, environment: str = "dev") -> str:
    result = subprocess.run(
        [str(ROOT / "bin" / "airflow"), "dags", "test", dag_id, *args],
        env=airflow_subprocess_env(
            AIRFLOW_VAR_LAKE_ROOT=lake_root, AIRFLOW_VAR_ENVIRONMENT=environment, PLATFORM_MODELS_DIR=str(models)
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    return result.stdout + result.stderr


def test_training_dag_in_dev_registers_both_candidates_and_promotes_the_best(
    airflow_db, tracking_uri, model, lake_root
):
    name, folder = model
    dags_test(f"train_{name}", lake_root, folder)
    client = MlflowClient()
    versions = {v.version: v for v in client.search_model_versions(f"name='{name}'")}
    assert {v.tags["algorithm"] for v in versions.values()} == {"lightgbm", "pytorch_mlp"}
    champion = tracking.alias_version(name, tracking.CHAMPION)
    assert champion is not None and tracking.alias_version(name, tracking.CHALLENGER) is None
    # The champion is the better of the two on the shared test month (the gate's choice).
    best = max(versions.values(), key=lambda v: float(v.tags["roc_auc"]))
    assert champion == best.version
    run = client.get_run(versions[champion].run_id)
    assert run.data.tags["dag_id"] == f"train_{name}" and run.data.tags["environment"] == "dev"
    assert run.data.tags["feature_set_version"] == "v2"
    lineage = json.loads(mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/evaluation/lineage.json"))
    assert all(uri.startswith(f"{lake_root}/features/small_default_training/v2/ds=") for uri in lineage["sources"])


def test_reproduce_dag_recovers_the_champions_metrics(airflow_db, tracking_uri, model, lake_root):
    name, folder = model
    champion = tracking.alias_version(name, tracking.CHAMPION)
    assert champion, "runs after the training DAG test"
    dags_test("reproduce_model", lake_root, folder, "--conf", json.dumps({"model": name, "version": champion}))
    lake = lk.Lake.from_uri(lake_root)
    report = lk.read_json(lake, report_path(name, champion))
    assert report["reproduced"] and report["abs_delta_roc_auc"] <= 0.005
    recorded = MlflowClient().get_run(report["run_id"]).data.metrics["roc_auc"]
    assert report["reproduced_metrics"]["roc_auc"] == pytest.approx(recorded, abs=0.005)
    assert MlflowClient().get_model_version(name, champion).tags["reproduction"] == "passed"


class _Approver:
    """The signed-in user the HITL API handler records as the respondent."""

    def get_id(self) -> str:
        return "risk-officer"

    def get_name(self) -> str:
        return "Risk Officer"


def _respond(dag_id: str, task_id: str, option: str, wait_s: float = 240) -> dict:
    """Wait until `task_id` of `dag_id`'s run waits for input, then answer it through the REST API's handler."""
    import time

    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with create_session() as session:
            ti = (
                session.query(TaskInstance)
                .filter_by(dag_id=dag_id, task_id=task_id, state=TaskInstanceState.AWAITING_INPUT)
                .one_or_none()
            )
            if ti is not None:
                request = session.query(HITLDetail).filter_by(ti_id=ti.id).one()
                detail = {"subject": request.subject, "body": request.body, "defaults": request.defaults}
                detail["run_id"] = ti.run_id
                update_hitl_detail(
                    dag_id=dag_id,
                    dag_run_id=ti.run_id,
                    task_id=task_id,
                    update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=[option]),
                    user=_Approver(),
                    session=session,
                )
                return detail
        time.sleep(2)
    raise AssertionError(f"{dag_id}.{task_id} never waited for input within {wait_s} s")


def _states(dag_id: str, run_id: str, *task_ids: str) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id)
        return {ti.task_id: str(ti.state) for ti in rows if ti.task_id in task_ids}


def test_in_prod_a_person_is_asked_and_a_rejection_leaves_the_champion(airflow_db, tracking_uri, model, lake_root):
    name, folder = model
    champion = tracking.alias_version(name, tracking.CHAMPION)
    assert champion, "runs after the training DAG test"
    body = yaml.safe_load((folder / f"{name}.yaml").read_text())
    body["environments"]["prod"] = {"approval": "human", "approvers": ["risk-officer@bank.example"]}
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    dag_id = f"train_{name}"
    process = subprocess.Popen(
        [str(ROOT / "bin" / "airflow"), "dags", "test", dag_id],
        env=airflow_subprocess_env(
            AIRFLOW_VAR_LAKE_ROOT=lake_root, AIRFLOW_VAR_ENVIRONMENT="prod", PLATFORM_MODELS_DIR=str(folder)
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    try:
        request = _respond(dag_id, "approve", "Reject")
        output, _ = process.communicate(timeout=180)
    finally:
        process.kill()
    assert process.returncode == 0, output[-5000:]
    # The approval request showed the gate's comparison, for the version this run put forward.
    challenger = tracking.alias_version(name, tracking.CHALLENGER)
    assert request["subject"] == f"Promote {name} v{challenger} to champion?"
    assert "| roc_auc |" in request["body"] and "**Gate passed**" in request["body"]
    assert "risk-officer@bank.example" in request["body"] and request["defaults"] == ["Reject"]
    # Rejected: promote was skipped, the champion is the one before the run.
    assert _states(dag_id, request["run_id"], "approve", "promote") == {"approve": "success", "promote": "skipped"}
    assert tracking.alias_version(name, tracking.CHAMPION) == champion
    assert challenger != champion


def test_a_version_without_lineage_or_an_unknown_version_cannot_be_reproduced(tracking_uri):
    from include.training.reproduce import ReproductionError, load_recorded

    name = f"nolineage_{uuid.uuid4().hex[:8]}"
    mlflow.set_experiment(name)
    with mlflow.start_run() as run:  # a run logged by hand: metrics, but no evaluation/lineage.json
        mlflow.log_metric("roc_auc", 0.8)
        mlflow.log_dict({"metrics": {"roc_auc": 0.8}}, "evaluation/evaluation.json")
    client = MlflowClient()
    client.create_registered_model(name)
    version = client.create_model_version(name, f"runs:/{run.info.run_id}/evaluation", run_id=run.info.run_id)
    with pytest.raises(ReproductionError, match=rf"model {name} v1 \(run {run.info.run_id}\): lineage incomplete: no"):
        load_recorded(name, version.version)
    with pytest.raises(ReproductionError, match=rf"model {name}: version 7 is not registered"):
        load_recorded(name, "7")
