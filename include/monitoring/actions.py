"""What monitoring does about a day, decided from its measurements alone (no I/O here).

- The share of drifted features reaches `monitoring.drift_share` -> `drift_alert` (Slack and
  e-mail with the report link and the top drifted features); the DAG then emits the Asset
  `lake/signals/drift/<model>` that schedules retraining (`retrain_signal`).
- The champion's ROC AUC on matured labels is below `monitoring.performance_floor`:
  - the previous champion does better on the same rows, and the monitored version is still
    the champion -> `rollback` (champion <- previous_champion) and an alert;
  - otherwise -> `performance_alert` only, saying why nothing was rolled back.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from include.models.config import ModelConfig
from include.monitoring.drift import DriftResult

DRIFT_ALERT, RETRAIN_SIGNAL, ROLLBACK, PERFORMANCE_ALERT = (
    "drift_alert",
    "retrain_signal",
    "rollback",
    "performance_alert",
)


@dataclass(frozen=True)
class Planned:
    action: str
    reason: str


def decide(
    config: ModelConfig,
    drift: DriftResult,
    performance: dict[str, float] | None,
    previous: tuple[str, dict[str, float] | None] | None,
    still_champion: bool,
    done: frozenset[str] = frozenset(),
) -> list[Planned]:
    """The actions a day calls for. `previous` is (version, its performance on the same labels) or None;
    `done`: the day's actions already done. A degradation is handled once a day, whichever way: after a
    rollback the monitored version is no longer champion, and a re-run must not then alert about that."""
    planned = []
    if drift.detected:
        planned.append(
            Planned(
                DRIFT_ALERT,
                f"{len(drift.drifted)} of {len(drift.features)} features drifted "
                f"(share {drift.share:.2f} >= drift_share {drift.drift_share:.2f})",
            )
        )
    floor = config.monitoring.performance_floor
    if performance is None or performance["roc_auc"] >= floor or done & {ROLLBACK, PERFORMANCE_ALERT}:
        return planned
    auc = performance["roc_auc"]
    below = f"ROC AUC on matured labels {auc:.4f} < performance_floor {floor:.4f}"
    if not still_champion:
        planned.append(Planned(PERFORMANCE_ALERT, f"{below}; no rollback: the version is no longer the champion"))
    elif previous is None:
        planned.append(Planned(PERFORMANCE_ALERT, f"{below}; no previous champion to roll back to"))
    elif previous[1] is None or previous[1]["roc_auc"] <= auc:
        theirs = "cannot be measured" if previous[1] is None else f"does no better ({previous[1]['roc_auc']:.4f})"
        planned.append(Planned(PERFORMANCE_ALERT, f"{below}; no rollback: previous champion v{previous[0]} {theirs}"))
    else:
        planned.append(
            Planned(ROLLBACK, f"{below}; previous champion v{previous[0]} does better ({previous[1]['roc_auc']:.4f})")
        )
    return planned


def alert(
    config: ModelConfig,
    day: str,
    version: str,
    planned: Planned,
    links: dict[str, str],
    drift: DriftResult,
    extra: str = "",
) -> tuple[str, str, str]:
    """(subject, Slack text, e-mail HTML) of an action's alert: what, why, the top drifted features, the links."""
    what = {
        DRIFT_ALERT: "data drift",
        ROLLBACK: "champion rolled back",
        PERFORMANCE_ALERT: "performance below floor",
    }[planned.action]
    subject = f"[monitoring] {config.name} v{version}: {what} on {day}"
    lines = [planned.reason]
    if extra:
        lines.append(extra)
    top = drift.top()
    if top:
        lines.append("Top drifted features: " + ", ".join(f"{t['feature']} ({t['method']} {t['score']})" for t in top))
    lines.append(f"Owners: {', '.join(config.owners)}")
    text = f"*{subject}*\n" + "\n".join(lines) + "\n" + "\n".join(f"{k}: {v}" for k, v in links.items())
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    anchors = "".join(f"<li><a href='{html.escape(v)}'>{html.escape(k)}</a></li>" for k, v in links.items())
    return subject, text, f"<p>{html.escape(subject)}</p><ul>{items}</ul><ul>{anchors}</ul>"


def as_record(planned: Planned, **detail: Any) -> dict[str, Any]:
    return {"action": planned.action, "reason": planned.reason, **detail}
