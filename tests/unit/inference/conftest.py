"""A real LightGBM model of the test YAML, trained once on a small synthetic set, and a lake."""

from pathlib import Path

import pytest

from include.lake import Lake
from include.models import load_model
from include.training.data import feature_spec, out_of_time_split
from include.training.lightgbm_trainer import train_lightgbm
from include.training.synthetic import synthetic_training_set

FIXTURE_MODEL = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "small_default.yaml"


@pytest.fixture(scope="session")
def config():
    return load_model(FIXTURE_MODEL)


@pytest.fixture(scope="session")
def model(config):
    frame = synthetic_training_set(4_000, seed=3)
    split = out_of_time_split(frame, config.split)
    return train_lightgbm(split, feature_spec(frame, config), {"num_boost_round": 30}, seed=config.seed)


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake.from_uri(f"file://{tmp_path}/lake")
