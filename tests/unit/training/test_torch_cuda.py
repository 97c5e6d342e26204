"""The MLP on a GPU worker: it trains on CUDA with mixed precision and learns what the CPU learns.

Skipped where no CUDA device is present (CI has none). Self-contained, so it also runs on a
bare GPU machine that has torch but not this project's services or Airflow:

    pytest --noconftest tests/unit/training/test_torch_cuda.py
"""

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")

from sklearn.metrics import roc_auc_score  # noqa: E402

from include.models import load_model  # noqa: E402
from include.training.data import feature_spec, out_of_time_split  # noqa: E402
from include.training.synthetic import synthetic_training_set  # noqa: E402
from include.training.torch_trainer import train_mlp  # noqa: E402

MODEL = Path(__file__).resolve().parents[3] / "include" / "models" / "credit_default.yaml"
PARAMS = {"epochs": 4, "hidden": [32, 16], "batch_size": 512}


@pytest.fixture(scope="module")
def data():
    config = load_model(MODEL)
    frame = synthetic_training_set(40_000, seed=3)
    return feature_spec(frame, config), out_of_time_split(frame, config.split)


@pytest.fixture(scope="module")
def on_cuda(data):
    spec, split = data
    torch.cuda.reset_peak_memory_stats()
    model = train_mlp(split, spec, PARAMS, seed=11)  # no device named: the trainer picks CUDA itself
    return model, torch.cuda.max_memory_allocated()


def test_the_trainer_picks_cuda_with_mixed_precision_and_records_it(on_cuda):
    model, _ = on_cuda
    assert (model.device, model.mixed_precision) == ("cuda", True)
    assert model.precision == ("bfloat16" if torch.cuda.is_bf16_supported() else "float16")


def test_the_training_tensors_lived_in_gpu_memory(on_cuda, data):
    _, peak = on_cuda
    spec, split = data
    # The training months' float32 numerics alone, uploaded once, are a lower bound.
    numeric_bytes = len(split.train) * 4 * len(spec.numeric)
    assert peak > numeric_bytes, f"peak CUDA allocation {peak} bytes"


def test_cuda_learns_what_the_cpu_learns(on_cuda, data):
    model, _ = on_cuda
    spec, split = data
    cpu = train_mlp(split, spec, PARAMS, seed=11, device="cpu")
    auc_cuda = roc_auc_score(split.test["label"], model.predict_proba(split.test))
    auc_cpu = roc_auc_score(split.test["label"], cpu.predict_proba(split.test))
    assert auc_cuda > 0.75, f"CUDA test ROC AUC {auc_cuda:.3f}"
    # Not bit-identical (float16 autocast, other kernels), but the same model to within noise.
    assert abs(auc_cuda - auc_cpu) < 0.01, f"CUDA {auc_cuda:.4f} vs CPU {auc_cpu:.4f}"
