"""Where a day's monitoring output goes in the lake, and the small trend plot.

    reports/drift/<model>/ds=YYYY-MM-DD/report.html    the Evidently report
    reports/drift/<model>/ds=YYYY-MM-DD/trend.png      drift share, mean PD and ROC AUC over 90 days
    reports/drift/<model>/ds=YYYY-MM-DD/summary.json   what monitor_day returned

Each is published atomically (`put_bytes`), so a re-run replaces the day's files.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from include.lake import Lake

TREND_METRICS = ("drift.share", "prediction.mean", "performance.roc_auc")
TREND_DAYS = 90


def report_folder(model: str, day: date) -> str:
    return f"reports/drift/{model}/ds={day.isoformat()}"


def publish(lake: Lake, relative: str, data: bytes) -> str:
    """Put `data` at `relative` in the lake; returns its URI."""
    from include.lake.store import put_bytes

    put_bytes(lake, relative, data)
    return lake.uri(relative)


def trend_png(
    history: list[tuple], title: str, until: date, days: int, drift_share: float, performance_floor: float
) -> bytes:
    """A PNG of the trend metrics over the `days` up to `until` (rows of `store.metric_history`), with the
    YAML's thresholds drawn in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = {"drift.share": drift_share, "performance.roc_auc": performance_floor, "prediction.mean": None}
    fig, axes = plt.subplots(len(TREND_METRICS), 1, figsize=(7, 6), sharex=True)
    for ax, metric in zip(axes, TREND_METRICS, strict=True):
        points = [(day, value) for day, _, name, value in history if name == metric and value is not None]
        if points:
            x, y = zip(*points, strict=True)
            ax.plot(x, y, marker="o", markersize=3)
        else:
            ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes, color="grey")
        if lines[metric] is not None:
            ax.axhline(lines[metric], linestyle="--", color="C3", linewidth=1)
        ax.set_ylabel(metric, fontsize=8)
        ax.set_xlim(until - timedelta(days=days), until + timedelta(days=1))
    axes[0].set_title(title)
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()
