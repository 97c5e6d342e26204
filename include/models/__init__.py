"""Model configs: one YAML file per model in this folder (see `config`)."""

from include.models.config import (
    MODELS_DIR,
    AlgorithmConfig,
    ModelConfig,
    ModelConfigError,
    Thresholds,
    load_model,
    load_models,
)

__all__ = [
    "MODELS_DIR",
    "AlgorithmConfig",
    "ModelConfig",
    "ModelConfigError",
    "Thresholds",
    "load_model",
    "load_models",
]
