"""Monitoring of the champion's scored days: Evidently drift, matured-label performance, actions.

    from include.monitoring import monitor_day
    monitor_day(config, "2026-11-21", lake=lake, postgres_uri=uri)   # -> {"drift_detected": ..., "actions": [...]}

Modules: `reference` (the champion's training sample and baseline), `drift` (the Evidently
report), `performance` (matured labels), `actions` (what a day calls for, and the alert
texts), `store` (`ml.monitoring_metrics`, `ml.monitoring_actions`), `report` (lake paths,
trend plot), `monitor` (the day end to end). Plain Python: no Airflow import, and this
package imports nothing heavy until `monitor_day` is called.
"""

from __future__ import annotations

from typing import Any


def monitor_day(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """`include.monitoring.monitor.monitor_day`, imported on first use."""
    from include.monitoring.monitor import monitor_day as run

    return run(*args, **kwargs)


__all__ = ["monitor_day"]
