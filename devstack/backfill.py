"""Backfills on a local Airflow, run by the real scheduler until they finish.

Used by `make demo` and the backfill test. The backfills are created *before* the
scheduler starts: with SQLite metadata, a CLI write racing the scheduler's transactions
fails with "database is locked" (SQLite's busy-snapshot error, which no busy timeout
cures). Then `airflow standalone` runs in the background (unless an Airflow already
answers on the configured API port) until every backfill run is done.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DONE = ("success", "failed")


class BackfillError(RuntimeError):
    pass


def cli(*args: str, env: dict[str, str]) -> str:
    """`bin/airflow ARGS` in `env`; its stdout, or BackfillError with the output's tail."""
    result = subprocess.run(
        [str(ROOT / "bin" / "airflow"), *args], env=env, capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    if result.returncode != 0:
        raise BackfillError(f"bin/airflow {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout


def healthy(env: dict[str, str]) -> bool:
    """The scheduler and DAG processor of the Airflow whose API port `env` configures report healthy."""
    url = f"http://127.0.0.1:{env.get('AIRFLOW__API__PORT', '8080')}/api/v2/monitor/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # http URL built above  # nosec B310
            health = json.load(response)
        return all(health[c]["status"] == "healthy" for c in ("scheduler", "dag_processor"))
    except (OSError, KeyError, ValueError):
        return False


def api_token(env: dict[str, str]) -> str:
    """A token for the local API server: the simple auth manager's first user and its generated password."""
    user = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin").split(",")[0].split(":")[0]
    password = json.loads(Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())[user]
    request = urllib.request.Request(
        f"http://127.0.0.1:{env.get('AIRFLOW__API__PORT', '8080')}/auth/token",
        data=json.dumps({"username": user, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
        return json.load(response)["access_token"]


def backfill_states(dag_id: str, first: date, last: date, env: dict[str, str], token: str) -> list[str]:
    """States of the DAG's backfill runs whose logical date falls in [first, last].

    From the API server, not `airflow dags list-runs`: each CLI start took ~5 s of CPU, and
    polling four DAGs every 20 s spent a third of a 2-core machine the backfill needed."""
    port = env.get("AIRFLOW__API__PORT", "8080")
    url = f"http://127.0.0.1:{port}/api/v2/dags/{dag_id}/dagRuns?run_type=backfill&limit=1000"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
        runs = json.load(response)["dag_runs"]
    return [
        r["state"]
        for r in runs
        if r["dag_run_id"].startswith("backfill__") and first <= date.fromisoformat(r["logical_date"][:10]) <= last
    ]


# Airflow's own cancel (the REST API's handler, called in-process): pause, fail the queued runs, complete.
_CANCEL_UNFINISHED = """
import sys
from sqlalchemy import select
from airflow.api_fastapi.core_api.routes.public.backfills import cancel_backfill
from airflow.models.backfill import Backfill
from airflow.utils.session import create_session

with create_session() as session:
    query = select(Backfill).where(Backfill.dag_id.in_(sys.argv[1:]), Backfill.completed_at.is_(None))
    for unfinished in session.scalars(query).all():
        cancel_backfill(unfinished.id, session)
        print(f"cancelled the unfinished backfill {unfinished.id} of {unfinished.dag_id}")
"""


def cancel_unfinished(dag_ids: list[str], *, env: dict[str, str]) -> str:
    """Cancel the DAGs' backfills left unfinished (an interrupted demo): Airflow allows one per DAG."""
    result = subprocess.run(
        [sys.executable, "-c", _CANCEL_UNFINISHED, *dag_ids], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if result.returncode != 0:
        raise BackfillError(f"cancelling unfinished backfills failed:\n{result.stderr[-3000:]}")
    return "".join(line + "\n" for line in result.stdout.splitlines() if line.startswith("cancelled"))


def run_backfills(
    windows: dict[str, tuple[date, date]], *, env: dict[str, str], log: Path, timeout_s: float = 1200
) -> dict[str, list[str]]:
    """Backfill each DAG over its [first, last] logical dates; returns the runs' final states per DAG."""
    cli("dags", "reserialize", env=env)
    print(cancel_unfinished(list(windows), env=env), end="", flush=True)
    for dag_id, (first, last) in windows.items():
        cli("dags", "unpause", dag_id, env=env)
        cli(
            "backfill",
            "create",
            "--dag-id",
            dag_id,
            "--from-date",
            first.isoformat(),
            "--to-date",
            last.isoformat(),
            "--max-active-runs",
            "2",
            "--reprocess-behavior",
            "completed",
            env=env,
        )
    standalone = None if healthy(env) else start_standalone(env, log)
    try:
        deadline, token = time.monotonic() + timeout_s, None
        while True:
            if standalone is not None and standalone.poll() is not None:
                raise BackfillError(f"airflow standalone exited with code {standalone.returncode}; see {log}")
            if healthy(env):
                token = token or api_token(env)
                states = {dag_id: backfill_states(dag_id, *window, env, token) for dag_id, window in windows.items()}
                pending = sum(s not in DONE for runs in states.values() for s in runs)
                print(f"    backfills: {pending} runs pending", flush=True)
                if pending == 0 and all(states.values()):
                    return states
            if time.monotonic() > deadline:
                raise BackfillError(f"backfills did not finish within {timeout_s:.0f} s; see {log}")
            time.sleep(10)
    finally:
        if standalone is not None:
            _stop_group(standalone)


def start_standalone(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`airflow standalone` in the background in its own process group (stop it with `_stop_group`), output to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(ROOT / "bin" / "airflow"), "standalone"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the standalone's process group, then SIGKILL what is left: its scheduler was seen
    to outlive a SIGTERM to the group by minutes, orphaned."""
    os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=60)
    time.sleep(5)  # let the components finish their own shutdown
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
