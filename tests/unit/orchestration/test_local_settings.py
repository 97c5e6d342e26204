"""The scheduler of a LocalExecutor preloads the gate tasks' libraries; no other process does."""

import pytest

from airflow_local_settings import preloads


@pytest.mark.parametrize(
    ("argv", "executor", "expected"),
    [
        (["airflow", "scheduler"], "LocalExecutor", True),
        (["airflow", "scheduler"], "airflow.executors.local_executor.LocalExecutor", True),
        (["airflow", "scheduler"], "CeleryExecutor", False),  # tasks run on Celery workers
        (["airflow", "dags", "test", "x"], "LocalExecutor", False),
        (["airflow", "api-server"], "LocalExecutor", False),
        (["airflow", "dag-processor"], "LocalExecutor", False),
        (["airflow"], "LocalExecutor", False),
    ],
)
def test_only_a_local_executors_scheduler_preloads(argv, executor, expected):
    assert preloads(argv, executor) is expected
