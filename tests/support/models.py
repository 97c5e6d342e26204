"""Model YAMLs for tests that run the generated training DAGs."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

FIXTURE_MODEL = Path(__file__).resolve().parent.parent / "fixtures" / "models" / "small_default.yaml"


def model_with_gpu_mlp(folder: Path, prefix: str) -> str:
    """The fixture YAML under a name unique to the test, plus a fast MLP on the `gpu` queue,
    alone in `folder` (for `PLATFORM_MODELS_DIR`); returns the model's name.

    A unique name keeps its registry entries apart from other tests' on the shared MLflow server."""
    body = yaml.safe_load(FIXTURE_MODEL.read_text())
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    body["name"] = name
    body["algorithms"]["pytorch_mlp"] = {"queue": "gpu", "params": {"epochs": 2, "hidden": [16], "batch_size": 512}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    return name
