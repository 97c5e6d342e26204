"""Airflow's local settings hook: Airflow imports this module in every process it starts.

It does one thing. With the LocalExecutor, the scheduler forks the processes that run
tasks, so whatever the scheduler has imported is already loaded in every task. Importing
Great Expectations costs about 6 s of CPU (its pydantic models), and every quality gate
task paid it again: about 90 times in `make demo`, minutes of a 2-core machine. So the
scheduler of a LocalExecutor imports the libraries the gate tasks use once, before it
forks its workers. The tasks run the same code; their own imports become look-ups.

Any other process (the CLI, `dags test`, the API server, the DAG processor, Celery
workers) imports nothing more. Project code is never preloaded, so a change to
`include/` needs no scheduler restart.
"""

from __future__ import annotations

import importlib
import sys

PRELOAD = ("great_expectations", "pandas", "pyarrow.parquet")


def preloads(argv: list[str], executor: str) -> bool:
    """Whether this process is a scheduler that forks task processes itself (LocalExecutor)."""
    return argv[1:2] == ["scheduler"] and executor.rsplit(".", 1)[-1] == "LocalExecutor"


def _preload() -> None:
    from airflow.configuration import conf

    if preloads(sys.argv, conf.get("core", "executor")):
        for name in PRELOAD:
            importlib.import_module(name)


_preload()
