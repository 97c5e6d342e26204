"""Training against the real MLflow server: logging, registry aliases, the gate, promotion and rollback.

Each test uses a model name of its own (the fixture YAML under a unique name), so runs on
the shared server never collide.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from include.lake import detect_code_version
from include.models import load_model
from include.training import pipeline, tracking
from include.training.data import feature_spec, out_of_time_split, read_training_set
from include.training.synthetic import synthetic_training_set
from include.training.trainers import train

pytestmark = pytest.mark.integration

FIXTURE_MODEL = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "small_default.yaml"

FAST_MLP = {"epochs": 3, "hidden": [32, 16]}


@pytest.fixture
def config():
    """The second model's YAML, under a name unique to this test."""
    base = load_model(FIXTURE_MODEL)
    return dataclasses.replace(base, name=f"test_{base.name}_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    path = tmp_path_factory.mktemp("training") / "small_default.parquet"
    synthetic_training_set(10_000, seed=5).to_parquet(path)
    return [str(path)]


def lineage(**overrides) -> tracking.Lineage:
    fields = {
        "code_version": detect_code_version(),
        "dag_id": "train_small_default",
        "dag_run_id": "manual__2026-10-02",
        "data_interval_start": "2026-09-02T04:00:00+00:00",
        "data_interval_end": "2026-10-02T04:00:00+00:00",
    }
    return tracking.Lineage(**{**fields, **overrides})


def test_a_trained_model_is_logged_with_lineage_and_registered_as_challenger(tracking_uri, config, sources):
    summary = pipeline.train_and_log(config, sources, "lightgbm", lineage(), tracking_uri=tracking_uri)
    assert summary["roc_auc"] > config.thresholds.min_roc_auc and summary["checks_passed"]
    assert summary["device"] == "cpu"

    client = MlflowClient()
    run = client.get_run(summary["mlflow_run_id"])
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == config.experiment_name
    tags = run.data.tags
    assert tags["git_commit"] == detect_code_version()
    assert tags["feature_set_version"] == "v2" and tags["dag_id"] == "train_small_default"
    assert tags["dag_run_id"] == "manual__2026-10-02" and tags["data_interval_end"].startswith("2026-10-02")
    assert run.data.params["param.seed"] == str(config.seed) and run.data.params["test_month"] == "2026-09"
    for name in ("roc_auc", "gini", "ks", "pr_auc", "brier", "top_decile_lift", "top_decile_capture"):
        assert name in run.data.metrics
    assert run.data.metrics["roc_auc"] == pytest.approx(summary["roc_auc"])

    (dataset_input,) = run.inputs.dataset_inputs
    assert json.loads(dataset_input.dataset.source)["uri"] == sources[0]
    input_tags = {t.key: t.value for t in dataset_input.tags}
    assert input_tags["sha256"] == tags["training_set_sha256"]
    assert input_tags["sha256"].startswith(dataset_input.dataset.digest)

    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert artifacts == {f"plots/{n}.png" for n in ("roc", "lift", "calibration", "feature_importance")}
    lineage_record = json.loads(
        mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/evaluation/lineage.json"),
    )
    assert lineage_record["sources"] == {sources[0]: lineage_record["sources"][sources[0]]}
    assert lineage_record["params"]["seed"] == config.seed

    assert tracking.alias_version(config.name, tracking.CHALLENGER) == summary["version"]
    version = client.get_model_version(config.name, summary["version"])
    assert version.tags["algorithm"] == "lightgbm"
    info = mlflow.models.get_model_info(f"models:/{config.name}@challenger")
    assert info.signature is not None and info.saved_input_example_info is not None


def test_the_registered_pyfunc_predicts_like_the_trained_model(tracking_uri, config, sources):
    mlp = dataclasses.replace(
        config, algorithms=(dataclasses.replace(config.algorithms[0], name="pytorch_mlp", params=FAST_MLP),)
    )
    summary = pipeline.train_and_log(mlp, sources, "pytorch_mlp", lineage(), tracking_uri=tracking_uri)
    frame = synthetic_training_set(500, seed=9)
    served = mlflow.pyfunc.load_model(f"models:/{config.name}@challenger").predict(frame)
    # Training is deterministic, so a model trained here again must predict what the registry serves.
    training_set = read_training_set(sources)
    split = out_of_time_split(training_set.frame, mlp.split)
    local = train(mlp.algorithm("pytorch_mlp"), split, feature_spec(training_set.frame, mlp), mlp.seed)
    assert np.allclose(served, local.predict_proba(frame))
    assert np.allclose(tracking.load_model(config.name, summary["version"]).predict_proba(frame), served)
    assert MlflowClient().get_run(summary["mlflow_run_id"]).data.tags["device"] == "cpu"


def test_gate_promotion_and_rollback_move_only_the_aliases(tracking_uri, config, sources):
    first = pipeline.train_and_log(config, sources, "lightgbm", lineage(), tracking_uri=tracking_uri)
    decision = pipeline.promotion_decision(config, first["version"], sources, tracking_uri=tracking_uri)
    assert decision.promote and decision.champion is None
    moved = tracking.promote(config.name, first["version"])
    assert moved.changed and tracking.alias_version(config.name, tracking.CHAMPION) == first["version"]
    assert tracking.alias_version(config.name, tracking.CHALLENGER) is None
    assert not tracking.promote(config.name, first["version"]).changed  # idempotent

    # A deliberately worse challenger: two stumps, on the same data.
    weak = dataclasses.replace(
        config,
        algorithms=(
            dataclasses.replace(
                config.algorithms[0], params={"num_leaves": 2, "num_boost_round": 2, "learning_rate": 0.05}
            ),
        ),
    )
    worse = pipeline.train_and_log(weak, sources, "lightgbm", lineage(), tracking_uri=tracking_uri)
    decision = pipeline.promotion_decision(config, worse["version"], sources, tracking_uri=tracking_uri)
    assert not decision.promote
    assert decision.champion.version == first["version"]
    assert decision.challenger.metrics["roc_auc"] < decision.champion.metrics["roc_auc"]
    assert any(r.startswith("FAIL: ROC AUC uplift") for r in decision.reasons)
    assert "**Gate failed**" in decision.markdown
    # Not promoted (the gate failed, or an approver rejected): the registry is as it was.
    assert tracking.alias_version(config.name, tracking.CHAMPION) == first["version"]
    assert tracking.alias_version(config.name, tracking.CHALLENGER) == worse["version"]

    # An approved challenger: champion -> previous_champion, challenger -> champion; then back.
    moved = tracking.promote(config.name, worse["version"])
    assert moved.previous_champion == first["version"]
    assert tracking.alias_version(config.name, tracking.CHAMPION) == worse["version"]
    assert tracking.alias_version(config.name, tracking.PREVIOUS) == first["version"]
    rolled = tracking.rollback(config.name)
    assert rolled.champion == first["version"]
    assert tracking.alias_version(config.name, tracking.PREVIOUS) is None
    assert MlflowClient().get_model_version(config.name, worse["version"]).tags["rolled_back"] == "true"
    with pytest.raises(tracking.RegistryError, match="nothing to roll back to"):
        tracking.rollback(config.name)


def test_promoting_an_unknown_version_fails_naming_it(tracking_uri, config):
    with pytest.raises(tracking.RegistryError, match=rf"model {config.name}: version 99 is not registered"):
        tracking.promote(config.name, "99")
