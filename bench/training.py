"""Training time and peak memory of each trainer at 100k and 1M rows (the credit_default YAML's parameters).

Each (trainer, rows) pair runs in a fresh process, so one measurement's memory and thread
state cannot leak into the next. The process builds a synthetic training set in the
feature pipeline's contract (`include.training.synthetic`), splits it out of time, and
trains while a thread samples its resident memory every 5 ms. Reported: wall time of the
training call; the time per epoch (MLP: the median epoch after the first, the epoch loop
alone) or per boosting round (LightGBM); peak RSS during training and how much of it
training added; and the test-month ROC AUC as a sanity check.

CUDA against CPU for the MLP: measured when `torch.cuda.is_available()`; on a machine
without a GPU the row says so instead of inventing a figure.

    python -m bench.training [--rows 100000 1000000] [--algorithms lightgbm pytorch_mlp]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class PeakRss:
    """The highest resident set size seen while the block runs."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def measure(algorithm: str, rows: int, device: str | None = None) -> dict:
    """One training in this process (called in a child by `run`)."""
    from sklearn.metrics import roc_auc_score

    from include.models import load_model
    from include.training.data import feature_spec, out_of_time_split
    from include.training.synthetic import synthetic_training_set

    config = load_model(ROOT / "include" / "models" / "credit_default.yaml")
    frame = synthetic_training_set(rows, seed=1)
    spec, split = feature_spec(frame, config), out_of_time_split(frame, config.split)
    params = config.algorithm(algorithm).params
    if algorithm == "lightgbm":
        from include.training.lightgbm_trainer import train_lightgbm

        train = lambda: train_lightgbm(split, spec, params, config.seed)  # noqa: E731
    else:
        from include.training.torch_trainer import train_mlp

        train = lambda: train_mlp(split, spec, params, config.seed, device=device)  # noqa: E731
    with PeakRss() as memory:
        started = time.perf_counter()
        model = train()
        seconds = time.perf_counter() - started
    if algorithm == "lightgbm":
        steps, unit = len(next(iter(model.history.values()))), "round"
    else:
        # An epoch's own time: the first one (CUDA start-up) and the preprocessing stay out of it.
        steps, unit = len(model.epoch_seconds), "epoch"
    return {
        "algorithm": algorithm,
        "rows": rows,
        "train_rows": len(split.train),
        "device": model.device,
        "seconds": seconds,
        "steps": steps,
        "unit": unit,
        "per_step": (
            statistics.median(model.epoch_seconds[1:] or model.epoch_seconds) if unit == "epoch" else seconds / steps
        ),
        "precision": getattr(model, "precision", "float32"),
        "epoch_seconds": getattr(model, "epoch_seconds", []),
        "peak_rss_mb": memory.peak / 2**20,
        "added_mb": (memory.peak - memory.start) / 2**20,
        "test_roc_auc": float(roc_auc_score(split.test["label"], model.predict_proba(split.test))),
    }


def _child(algorithm: str, rows: int, device: str | None = None) -> dict:
    argv = [sys.executable, "-m", "bench.training", "--child", algorithm, str(rows)]
    if device:
        argv.append(device)
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.training {algorithm} {rows}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cuda_available() -> bool:
    probe = [sys.executable, "-c", "import torch; print(torch.cuda.is_available())"]
    return subprocess.run(probe, capture_output=True, text=True, check=False).stdout.strip() == "True"


def run(rows: list[int] | None = None, algorithms: list[str] | None = None) -> list[dict]:
    rows = rows or [100_000, 1_000_000]
    algorithms = algorithms or ["lightgbm", "pytorch_mlp"]
    cuda = _cuda_available()
    results = []
    for algorithm in algorithms:
        for n in rows:
            r = _child(algorithm, n)
            figure = f"{algorithm} train, {n:,} rows ({r['train_rows']:,} in the training months), CPU"
            reference, ratio = "—", "—"
            if algorithm == "pytorch_mlp":
                if cuda:
                    g = _child(algorithm, n, "cuda")
                    reference = f"CUDA ({g['precision']} autocast) {g['per_step']:.3f} s/epoch, {g['seconds']:.1f} s"
                    ratio = f"{r['per_step'] / g['per_step']:.1f}x faster on CUDA"
                else:
                    reference = "CUDA: not measured, no GPU on this machine"
            results.append(
                {
                    "figure": figure,
                    "project": (
                        f"{r['seconds']:.1f} s ({r['steps']} {r['unit']}s, {r['per_step']:.3f} s/{r['unit']}), "
                        f"peak RSS {r['peak_rss_mb']:,.0f} MB (+{r['added_mb']:,.0f} MB training), "
                        f"test AUC {r['test_roc_auc']:.3f}"
                    ),
                    "reference": reference,
                    "ratio": ratio,
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--algorithms", nargs="+", default=["lightgbm", "pytorch_mlp"])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        algorithm, rows, *device = args.child
        print(json.dumps(measure(algorithm, int(rows), device[0] if device else None)))
        return
    for row in run(args.rows, args.algorithms):
        print(f"{row['figure']}\n  project {row['project']}\n  reference {row['reference']}\n  ratio {row['ratio']}")


if __name__ == "__main__":
    main()
