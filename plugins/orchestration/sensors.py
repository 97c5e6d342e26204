"""Sensors whose waiting policy is configuration, not code."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor


class S3DeliverySensor(S3KeySensor):
    """`S3KeySensor` whose timeout and poke interval are templates, rendered when the task runs.

    So an operator changes how long a DAG waits for a partner delivery with an Airflow
    Variable, without a deploy. `timeout_hours` may be fractional; `poke_interval_seconds`
    is how often the trigger (or the worker, when not deferrable) looks for the key.
    """

    template_fields = (*S3KeySensor.template_fields, "timeout_hours", "poke_interval_seconds")

    def __init__(self, *, timeout_hours: str | float, poke_interval_seconds: str | float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.timeout_hours = timeout_hours
        self.poke_interval_seconds = poke_interval_seconds

    def execute(self, context) -> None:
        from orchestration.connectivity import require

        require(self.aws_conn_id)  # the trigger would otherwise report only a botocore error, without the connection
        self.timeout = _positive(self.timeout_hours, "timeout_hours") * 3600
        self.poke_interval = _positive(self.poke_interval_seconds, "poke_interval_seconds")
        super().execute(context)


def _positive(value: str | float, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if number <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return number
