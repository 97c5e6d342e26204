from pathlib import Path

import pytest

from include.models import load_model

FIXTURE_MODEL = Path(__file__).resolve().parents[2] / "fixtures" / "models" / "small_default.yaml"


@pytest.fixture(scope="session")
def config():
    return load_model(FIXTURE_MODEL)
