"""The training DAG's decisions: the training set's partitions, the challenger, the approval route."""

import dataclasses

import pytest

from include import lake as lk
from include.features.definitions import CREDIT_DEFAULT
from include.models import MODELS_DIR, ModelConfigError, load_model
from include.training import workflow
from include.training.data import TrainingDataError
from include.training.synthetic import publish_to_lake


def run(algorithm, auc, checks=True):
    return {"algorithm": algorithm, "version": algorithm[-1], "roc_auc": auc, "checks_passed": checks}


def test_the_training_set_is_every_committed_partition_of_the_pinned_version(tmp_path, config, frame):
    lake = lk.Lake.from_uri(f"file://{tmp_path}")
    uris = publish_to_lake(frame, lake, "small_default_training", "v2")
    publish_to_lake(frame.head(100), lake, "small_default_training", "v1")  # another version: not read
    located = workflow.locate_training_set(config, lake)
    assert located["sources"] == uris and located["feature_set_version"] == "v2"
    assert located["partitions"] == frame["ds"].nunique()
    assert located["last_day"] == str(frame["ds"].max().date())
    until = frame["ds"].min().date()
    assert workflow.locate_training_set(config, lake, until=until)["sources"] == uris[:1]


def test_no_training_partition_fails_naming_the_dataset(tmp_path, config):
    lake = lk.Lake.from_uri(f"file://{tmp_path}")
    with pytest.raises(
        TrainingDataError, match=r"small_default: no committed partition under .*features/small_default_training/v2"
    ):
        workflow.locate_training_set(config, lake)


def test_an_unpinned_feature_set_trains_on_the_feature_codes_version():
    credit = load_model(MODELS_DIR / "credit_default.yaml")
    assert credit.feature_set.version is None
    assert workflow.feature_set_version(credit) == f"v{CREDIT_DEFAULT.version}"
    assert workflow.training_dataset(credit) == "credit_default_training"


def test_an_unpinned_unknown_feature_set_asks_for_a_pin(config):
    unknown = dataclasses.replace(config, feature_set=dataclasses.replace(config.feature_set, version=None))
    with pytest.raises(
        ModelConfigError, match=r"small_default\.yaml: feature_set\.name 'small_default' has no definition"
    ):
        workflow.feature_set_version(unknown)


def test_the_challenger_is_the_best_candidate_that_passes_its_checks():
    assert workflow.select_challenger([run("lgbm1", 0.80), run("mlp2", 0.82)])["version"] == "2"
    assert workflow.select_challenger([run("lgbm1", 0.80), run("mlp2", 0.90, checks=False)])["version"] == "1"
    assert workflow.select_challenger([run("lgbm1", 0.70, False), run("mlp2", 0.72, False)])["version"] == "2"
    assert workflow.select_challenger([run("lgbm1", 0.80), run("mlp2", 0.80)])["version"] == "1"  # tie: first
    with pytest.raises(ValueError, match="no trained candidate"):
        workflow.select_challenger([])


def test_dev_promotes_at_once_prod_asks_a_person_a_failed_gate_changes_nothing():
    credit = load_model(MODELS_DIR / "credit_default.yaml")
    assert workflow.approval_route(credit, "dev", gate_passed=True) == workflow.AUTO
    assert workflow.approval_route(credit, "prod", gate_passed=True) == workflow.HUMAN
    assert workflow.approval_route(credit, "prod", gate_passed=False) == workflow.NONE
    assert workflow.approval_route(credit, "dev", gate_passed=False) == workflow.NONE


def test_an_environment_without_a_policy_fails_naming_the_file(config):
    with pytest.raises(ModelConfigError, match=r"small_default.yaml: no environment policy for 'prod'"):
        workflow.approval_route(config, "prod", gate_passed=True)


def test_the_models_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("PLATFORM_MODELS_DIR", raising=False)
    assert workflow.models_folder() == MODELS_DIR
    monkeypatch.setenv("PLATFORM_MODELS_DIR", str(tmp_path))
    assert workflow.models_folder() == tmp_path
    with pytest.raises(
        ModelConfigError, match=r"model 'credit_default': no .*credit_default.yaml, the models folder holds \[\]"
    ):
        workflow.model_by_name("credit_default")
