"""One entry point for every algorithm a model YAML may name.

Both trainers return a fitted model with `predict_proba(frame) -> 1-D PD`, `algorithm`,
`device`, `params` (as used, seed included) and `train_seconds`, so evaluation, MLflow
logging and inference treat them alike. Heavy libraries load only for the algorithm asked for.
"""

from __future__ import annotations

from typing import Any

from include.models.config import AlgorithmConfig
from include.training.data import FeatureSpec, Split


def train(
    algorithm: AlgorithmConfig,
    split: Split,
    spec: FeatureSpec,
    seed: int,
    label: str = "label",
    monotone: dict[str, int] | None = None,
) -> Any:
    """`monotone` (feature -> +1/-1, the YAML's behaviour directions) constrains the trainers that can
    keep it (LightGBM); the behavioural checks judge every algorithm either way."""
    if algorithm.name == "lightgbm":
        from include.training.lightgbm_trainer import train_lightgbm

        return train_lightgbm(split, spec, algorithm.params, seed, label, monotone)
    if algorithm.name == "pytorch_mlp":
        from include.training.torch_trainer import train_mlp

        return train_mlp(split, spec, algorithm.params, seed, label)
    raise ValueError(f"unknown algorithm '{algorithm.name}', expected lightgbm or pytorch_mlp")
