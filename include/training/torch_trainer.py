"""A PyTorch MLP for tabular data: standardised numerics, one embedding per categorical.

CUDA with mixed precision when `torch.cuda.is_available()` (bfloat16 autocast where the GPU
has it, else float16 with gradient scaling), otherwise the CPU; the model records which
(`device`, `precision`). On CUDA nothing in the batch loop waits for the GPU: the loss
is summed on the device, the optimiser step is one fused kernel and bfloat16 needs no
scaler (whose overflow check reads back every step), so the host queues work ahead. Seeds are fixed and batches are
drawn from a seeded generator, so the same data and seed give the same weights on the
same device. Early stopping keeps the epoch with the best validation loss. Training
batches are sliced from tensors held on the device instead of a DataLoader: for a
few dozen features that is several times faster on the CPU.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from include.training.data import FeatureSpec, Split

DEFAULTS: dict[str, Any] = {
    "hidden": [64, 32],
    "dropout": 0.1,
    "learning_rate": 0.003,
    "weight_decay": 1e-4,
    "batch_size": 1024,
    "epochs": 8,
    "patience": 2,
    "embedding_dim": 4,
    # Layers this narrow gain nothing from intra-op threads: one CPU thread was 6x faster than two
    # on a busy 2-core machine (bench/training.py), and a fixed count keeps results bit-identical.
    "num_threads": 1,
}


@dataclass
class Preprocessor:
    """Standardisation and category codes, fitted on the training months only."""

    spec: FeatureSpec
    means: np.ndarray
    stds: np.ndarray
    vocab: dict[str, dict[str, int]]  # level -> code; 0 is "unseen or missing"

    @classmethod
    def fit(cls, frame: pd.DataFrame, spec: FeatureSpec) -> Preprocessor:
        numeric = frame[list(spec.numeric)].astype("float64")
        stds = numeric.std().fillna(1.0).to_numpy()
        vocab = {
            name: {level: code for code, level in enumerate(sorted(frame[name].dropna().astype(str).unique()), 1)}
            for name in spec.categorical
        }
        return cls(spec, numeric.mean().fillna(0.0).to_numpy(), np.where(stds > 0, stds, 1.0), vocab)

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        missing = [c for c in self.spec.columns if c not in frame.columns]
        if missing:
            raise KeyError(
                f"input frame lacks feature column(s) {missing}; the model was trained on {self.spec.columns}"
            )
        numeric = (frame[list(self.spec.numeric)].to_numpy(dtype="float64") - self.means) / self.stds
        numeric = np.nan_to_num(numeric, nan=0.0).astype("float32")  # missing -> the training mean
        codes = np.zeros((len(frame), len(self.spec.categorical)), dtype="int64")
        for j, name in enumerate(self.spec.categorical):
            codes[:, j] = frame[name].astype(str).map(self.vocab[name]).fillna(0).to_numpy(dtype="int64")
        return numeric, codes


class TabularMLP(nn.Module):
    """Numerics and one embedding per categorical, concatenated, through ReLU layers to one logit."""

    def __init__(self, numeric: int, levels: list[int], params: dict[str, Any]):
        super().__init__()
        dims = [min(int(params["embedding_dim"]), n) for n in levels]
        self.embeddings = nn.ModuleList(nn.Embedding(n, d) for n, d in zip(levels, dims, strict=True))
        layers, width = [], numeric + sum(dims)
        for size in params["hidden"]:
            layers += [nn.Linear(width, int(size)), nn.ReLU(), nn.Dropout(float(params["dropout"]))]
            width = int(size)
        self.body = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, numeric, codes):
        parts = [numeric, *(emb(codes[:, j]) for j, emb in enumerate(self.embeddings))]
        return self.body(torch.cat(parts, dim=1)).squeeze(1)


@dataclass
class MLPModel:
    """The fitted network (on the CPU after training) and its preprocessing."""

    network: Any
    preprocessor: Preprocessor
    params: dict[str, Any]
    device: str  # where it was trained: "cuda" or "cpu"
    mixed_precision: bool
    precision: str  # "float32", or the autocast type on CUDA: "bfloat16" or "float16"
    best_epoch: int
    train_seconds: float
    epoch_seconds: list[float] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)
    algorithm: str = "pytorch_mlp"

    @property
    def spec(self) -> FeatureSpec:
        return self.preprocessor.spec

    def predict_proba(self, frame: pd.DataFrame, batch_size: int = 65536) -> np.ndarray:
        """The probability of default of each row (1-D), computed on the CPU."""
        numeric, codes = self.preprocessor.transform(frame)
        self.network.eval()
        out = []
        with torch.no_grad(), _cpu_threads(int(self.params.get("num_threads", 1))):
            for start in range(0, len(frame), batch_size):
                logits = self.network(
                    torch.from_numpy(numeric[start : start + batch_size]),
                    torch.from_numpy(codes[start : start + batch_size]),
                )
                out.append(torch.sigmoid(logits).numpy())
        return np.concatenate(out).astype("float64") if out else np.zeros(0)


@contextmanager
def _cpu_threads(count: int) -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def train_mlp(
    split: Split, spec: FeatureSpec, params: dict[str, Any], seed: int, label: str = "label", device: str | None = None
) -> MLPModel:
    params = {**DEFAULTS, **params}
    with _cpu_threads(int(params["num_threads"])):
        return _train(split, spec, params, seed, label, device)


def _train(
    split: Split, spec: FeatureSpec, params: dict[str, Any], seed: int, label: str, device: str | None
) -> MLPModel:
    torch.manual_seed(seed)
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    mixed = device == "cuda"
    half = None
    if mixed:
        torch.cuda.manual_seed_all(seed)
        half = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

    pre = Preprocessor.fit(split.train, spec)
    levels = [len(v) + 1 for v in pre.vocab.values()]
    network = TabularMLP(len(spec.numeric), levels, params).to(device)
    train_x = [torch.from_numpy(a).to(device) for a in pre.transform(split.train)]
    train_y = torch.from_numpy(split.train[label].to_numpy(dtype="float32")).to(device)
    valid_x = [torch.from_numpy(a).to(device) for a in pre.transform(split.validate)]
    valid_y = torch.from_numpy(split.validate[label].to_numpy(dtype="float32")).to(device)

    optimiser = torch.optim.AdamW(
        network.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"], fused=mixed or None
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    scaler = torch.amp.GradScaler("cuda", enabled=half is torch.float16)
    shuffle = torch.Generator(device="cpu").manual_seed(seed)
    best = (float("inf"), 0, None)
    history: dict[str, list[float]] = {"train_loss": [], "validate_loss": []}
    epoch_seconds = []
    started = time.perf_counter()
    for epoch in range(1, int(params["epochs"]) + 1):
        began = time.perf_counter()
        network.train()
        order = torch.randperm(len(train_y), generator=shuffle).to(device)
        total = torch.zeros((), dtype=torch.float64, device=device)
        for start in range(0, len(order), int(params["batch_size"])):
            index = order[start : start + int(params["batch_size"])]
            optimiser.zero_grad(set_to_none=True)
            with torch.autocast(device_type=device, dtype=half, enabled=mixed):
                loss = loss_fn(network(train_x[0][index], train_x[1][index]), train_y[index])
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
            total += loss.detach() * len(index)
        network.eval()
        with torch.no_grad(), torch.autocast(device_type=device, dtype=half, enabled=mixed):
            valid_loss = float(loss_fn(network(*valid_x).float(), valid_y))  # the epoch's one wait for the GPU
        epoch_seconds.append(time.perf_counter() - began)
        history["train_loss"].append(float(total) / len(order))
        history["validate_loss"].append(valid_loss)
        if valid_loss < best[0]:
            best = (valid_loss, epoch, {k: v.detach().cpu().clone() for k, v in network.state_dict().items()})
        elif epoch - best[1] >= int(params["patience"]):
            break
    network.load_state_dict(best[2])
    return MLPModel(
        network=network.cpu().eval(),
        preprocessor=pre,
        params={**params, "seed": seed},
        device=device,
        mixed_precision=mixed,
        precision=str(half).removeprefix("torch.") if mixed else "float32",
        best_epoch=best[1],
        train_seconds=time.perf_counter() - started,
        epoch_seconds=epoch_seconds,
        history=history,
    )
