"""Evaluation of a candidate on the out-of-time test month: metrics, tables, plots, behaviour.

Every candidate (each algorithm, and the champion re-scored) is evaluated on the same test
frame by `evaluate`, so their numbers compare. A model is anything with
`predict_proba(frame) -> 1-D PD`; nothing here knows which algorithm it is.

- metrics: ROC AUC, Gini (2 AUC - 1), KS, PR AUC (average precision), Brier score, log loss;
- `decile_table`: lift and capture rate by score decile (decile 1 = riskiest tenth);
- `calibration_table`: mean predicted PD against the observed default rate, by PD decile;
- `permutation_importance`: ROC AUC lost when one feature is shuffled (model-agnostic, so
  LightGBM and the MLP are ranked the same way);
- PNG plots (matplotlib, Agg): ROC, lift, calibration, feature importance;
- behavioural checks declared in the model YAML: raising an `increasing` feature by one
  standard deviation must not lower the mean PD (beyond `tolerance`), likewise for
  `decreasing`; shuffling an `invariant` column must move no prediction by more than `tolerance`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from include.models.config import BehaviourConfig


class PDModel(Protocol):
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray: ...


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str


@dataclass
class Evaluation:
    metrics: dict[str, float]
    deciles: pd.DataFrame
    calibration: pd.DataFrame
    importance: pd.Series
    checks: list[CheckResult] = field(default_factory=list)
    plots: dict[str, Path] = field(default_factory=dict)

    @property
    def checks_passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def summary(self) -> dict[str, Any]:
        """JSON-ready: metrics, checks and the top-decile figures."""
        top = self.deciles.iloc[0]
        return {
            "metrics": self.metrics,
            "top_decile": {"lift": float(top["lift"]), "capture_rate": float(top["cumulative_capture"])},
            "checks": [asdict(c) for c in self.checks],
        }


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score, roc_curve

    y, p = np.asarray(y), np.asarray(p, dtype="float64")
    if len(np.unique(y)) < 2:
        raise ValueError(f"evaluation needs both classes in the labels, got only {np.unique(y).tolist()}")
    auc = roc_auc_score(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    return {
        "roc_auc": float(auc),
        "gini": float(2 * auc - 1),
        "ks": float(np.max(tpr - fpr)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-7, 1 - 1e-7))),
        "default_rate": float(np.mean(y)),
        "mean_pd": float(np.mean(p)),
        "rows": float(len(y)),
    }


def decile_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Rows ranked by PD (ties broken by position), cut into `bins` equal groups, riskiest first."""
    order = np.argsort(-np.asarray(p), kind="stable")
    groups = np.arange(len(order)) * bins // len(order) + 1
    frame = pd.DataFrame({"decile": groups, "y": np.asarray(y)[order], "p": np.asarray(p)[order]})
    table = frame.groupby("decile").agg(rows=("y", "size"), defaults=("y", "sum"), mean_pd=("p", "mean"))
    rate = table["defaults"].sum() / table["rows"].sum()
    table["default_rate"] = table["defaults"] / table["rows"]
    table["lift"] = table["default_rate"] / rate
    table["cumulative_capture"] = table["defaults"].cumsum() / table["defaults"].sum()
    table["cumulative_lift"] = table["cumulative_capture"] / (table["rows"].cumsum() / table["rows"].sum())
    return table.reset_index()


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """By PD decile (lowest first): mean predicted PD against the observed default rate."""
    frame = pd.DataFrame({"y": np.asarray(y), "p": np.asarray(p)})
    frame["bin"] = pd.qcut(frame["p"].rank(method="first"), bins, labels=False) + 1
    table = frame.groupby("bin").agg(rows=("y", "size"), mean_pd=("p", "mean"), observed_rate=("y", "mean"))
    table["gap"] = table["observed_rate"] - table["mean_pd"]
    return table.reset_index()


def permutation_importance(
    model: PDModel, frame: pd.DataFrame, label: str, columns: list[str], seed: int, sample: int = 20_000
) -> pd.Series:
    """ROC AUC lost when each column is shuffled, on at most `sample` rows; largest first."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(seed)
    if len(frame) > sample:
        frame = frame.iloc[np.sort(rng.choice(len(frame), sample, replace=False))]
    frame = frame.reset_index(drop=True)
    base = roc_auc_score(frame[label], model.predict_proba(frame))
    drops = {}
    for column in columns:
        shuffled = frame.copy()
        shuffled[column] = frame[column].to_numpy()[rng.permutation(len(frame))]
        drops[column] = base - roc_auc_score(frame[label], model.predict_proba(shuffled))
    return pd.Series(drops, name="roc_auc_drop").sort_values(ascending=False)


def directional_check(
    model: PDModel, frame: pd.DataFrame, feature: str, direction: str, tolerance: float
) -> CheckResult:
    """Raise `feature` by one standard deviation for every row: the mean PD must move in `direction`."""
    name = f"direction:{feature}:{direction}"
    if feature not in frame.columns:
        return CheckResult(name, False, f"feature '{feature}' is not a column of the test set")
    step = float(frame[feature].std())
    if not step > 0:
        return CheckResult(name, False, f"feature '{feature}' is constant in the test set; nothing to vary")
    raised = frame.copy()
    raised[feature] = frame[feature] + step
    change = float(np.mean(model.predict_proba(raised) - model.predict_proba(frame)))
    passed = change >= -tolerance if direction == "increasing" else change <= tolerance
    return CheckResult(
        name, passed, f"+1 sd ({step:.4g}) of {feature} moves the mean PD by {change:+.6f}, expected {direction}"
    )


def invariance_check(model: PDModel, frame: pd.DataFrame, column: str, tolerance: float, seed: int) -> CheckResult:
    """Shuffle `column` across rows: no prediction may move by more than `tolerance`."""
    name = f"invariance:{column}"
    if column not in frame.columns:
        return CheckResult(name, False, f"column '{column}' is not in the test set, so invariance cannot be shown")
    shuffled = frame.copy()
    shuffled[column] = frame[column].to_numpy()[np.random.default_rng(seed).permutation(len(frame))]
    moved = float(np.max(np.abs(model.predict_proba(shuffled) - model.predict_proba(frame))))
    return CheckResult(
        name, moved <= tolerance, f"shuffling {column} moves predictions by up to {moved:.3g}, allowed {tolerance:g}"
    )


def behaviour_checks(
    model: PDModel, frame: pd.DataFrame, behaviour: BehaviourConfig, seed: int, sample: int = 20_000
) -> list[CheckResult]:
    if len(frame) > sample:
        frame = frame.sample(sample, random_state=seed)
    frame = frame.reset_index(drop=True)
    return [
        *(directional_check(model, frame, f, "increasing", behaviour.tolerance) for f in behaviour.increasing),
        *(directional_check(model, frame, f, "decreasing", behaviour.tolerance) for f in behaviour.decreasing),
        *(invariance_check(model, frame, c, behaviour.tolerance, seed) for c in behaviour.invariant),
    ]


def evaluate(
    model: PDModel,
    test: pd.DataFrame,
    *,
    label: str,
    features: list[str],
    behaviour: BehaviourConfig,
    seed: int,
    plots_dir: Path | None = None,
    title: str = "",
) -> Evaluation:
    """Everything above on one test frame; PNGs into `plots_dir` when given."""
    y, p = test[label].to_numpy(), model.predict_proba(test)
    result = Evaluation(
        metrics=classification_metrics(y, p),
        deciles=decile_table(y, p),
        calibration=calibration_table(y, p),
        importance=permutation_importance(model, test, label, features, seed),
        checks=behaviour_checks(model, test, behaviour, seed),
    )
    if plots_dir is not None:
        result.plots = write_plots(result, y, p, Path(plots_dir), title)
    return result


def write_plots(result: Evaluation, y: np.ndarray, p: np.ndarray, folder: Path, title: str) -> dict[str, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}

    def save(fig, name: str) -> None:
        fig.tight_layout()
        paths[name] = folder / f"{name}.png"
        fig.savefig(paths[name], dpi=100)
        plt.close(fig)

    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"ROC AUC {result.metrics['roc_auc']:.3f}, KS {result.metrics['ks']:.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC {title}".strip())
    ax.legend(loc="lower right")
    save(fig, "roc")

    d = result.deciles
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(d["decile"], d["lift"], label="lift")
    ax.plot(d["decile"], d["cumulative_capture"] * d["lift"].max(), marker="o", color="C1", label="capture (scaled)")
    ax.axhline(1.0, linestyle="--", color="grey")
    ax.set(xlabel="score decile (1 = riskiest)", ylabel="lift", title=f"Lift by decile {title}".strip())
    ax.legend()
    save(fig, "lift")

    c = result.calibration
    fig, ax = plt.subplots(figsize=(5, 5))
    top = float(max(c["mean_pd"].max(), c["observed_rate"].max()))
    ax.plot([0, top], [0, top], linestyle="--", color="grey")
    ax.plot(c["mean_pd"], c["observed_rate"], marker="o")
    ax.set(xlabel="mean predicted PD", ylabel="observed default rate", title=f"Calibration {title}".strip())
    save(fig, "calibration")

    imp = result.importance.sort_values()
    fig, ax = plt.subplots(figsize=(6, max(3, 0.35 * len(imp))))
    ax.barh(imp.index, imp.to_numpy())
    ax.set(xlabel="ROC AUC lost when shuffled", title=f"Feature importance {title}".strip())
    save(fig, "feature_importance")
    return paths
