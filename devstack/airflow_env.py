"""The environment every local Airflow command runs in, defined once.

`bin/airflow`, `make airflow`, the tests and the demo all take their Airflow
configuration from `airflow_env()`, so the CLI, the scheduler and `dag.test` see the
same DAGs, plugins and metadata database. Anything already set in the caller's
environment wins: that is how Postgres metadata or another executor is chosen.

    python -m devstack.airflow_env exec airflow dags list   # run a command in it
    python -m devstack.airflow_env show                     # print it as shell exports
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"


def _jwt_secret(airflow_home: Path) -> str:
    """A per-checkout secret shared by api-server, scheduler and workers.

    Each Airflow component would otherwise generate its own random one and reject
    the others' task tokens. Created once, never committed.
    """
    path = airflow_home / "jwt_secret"
    if not path.exists():
        airflow_home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def airflow_env(airflow_home: Path | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Return `base` (default: os.environ) plus this project's Airflow settings."""
    env = dict(os.environ if base is None else base)
    home = Path(airflow_home or env.get("AIRFLOW_HOME") or LOCAL / "airflow")
    api_port = env.get("AIRFLOW__API__PORT", "8080")
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        # A plain cron string gives a zero-length data interval in Airflow 3.
        "AIRFLOW__SCHEDULER__CREATE_CRON_DATA_INTERVALS": "True",
        "AIRFLOW__API__HOST": "127.0.0.1",  # the local UI is not exposed beyond this machine
        "AIRFLOW__API__PORT": api_port,
        "AIRFLOW__API__BASE_URL": f"http://localhost:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(home),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # On a 2-core machine a backfill starts many task processes at once: with the
        # default 5 s timeout the API server, starved of CPU, timed tasks out (ReadTimeout).
        # `airflow standalone` may start tasks before its API server listens: the default
        # 5 attempts (~10 s) gave up on "connection refused". Either failed the task into a
        # retry minutes later. Bounded parallelism keeps the start-up storm small.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
        "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
        "AIRFLOW__CORE__PARALLELISM": "6",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    # `airflow standalone` starts its components as `airflow ...` found on PATH.
    env["PATH"] = os.pathsep.join([str(ROOT / ".venv" / "bin"), env.get("PATH", "")])
    # `include` (domain code) and `devstack` import from the project root, like Astro's image.
    paths = [str(ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def main(argv: list[str]) -> int:
    if argv[:1] == ["show"]:
        for key, value in sorted(airflow_env().items()):
            if key.startswith("AIRFLOW") or key in ("PYTHONPATH", "PATH"):
                print(f"export {key}={shlex.quote(value)}")
        return 0
    if argv[:1] == ["exec"] and len(argv) > 1:
        env = airflow_env()
        # The venv's own path as argv[0]: Python finds its virtualenv from there.
        venv_bin = ROOT / ".venv" / "bin" / argv[1]
        program = str(venv_bin) if venv_bin.exists() else argv[1]
        os.execvpe(program, [program, *argv[2:]], env)  # noqa: S606 (replaces this process, no shell)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
