"""A small learnable training set in the feature pipeline's contract, split as the test model's YAML says."""

from pathlib import Path

import pytest

from include.models import load_model
from include.training.data import feature_spec, out_of_time_split
from include.training.synthetic import synthetic_training_set

FIXTURE_MODEL = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "small_default.yaml"


@pytest.fixture(scope="session")
def config():
    return load_model(FIXTURE_MODEL)


@pytest.fixture(scope="session")
def frame():
    return synthetic_training_set(12_000, seed=3)


@pytest.fixture(scope="session")
def spec(frame, config):
    return feature_spec(frame, config)


@pytest.fixture(scope="session")
def split(frame, config):
    return out_of_time_split(frame, config.split)
