"""`make demo`: the whole platform on embedded defaults, stage by stage, ending with
`.local/demo/summary.json` (schema in DESIGN.md) and the commands that open the UIs.

Each stage is a function that fills its part of the summary; `seconds` records how long
each took. Stages run the real DAGs through `bin/airflow dags test`, so the demo
exercises exactly what the scheduler would run.

    python -m devstack.demo [--days 14] [--end 2026-11-20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from devstack import services

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / ".local" / "demo" / "summary.json"


class DemoError(RuntimeError):
    pass


def airflow(*args: str) -> str:
    result = subprocess.run([str(ROOT / "bin" / "airflow"), *args], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise DemoError(f"bin/airflow {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr


def stage_services(summary: dict) -> None:
    """Start (or reuse) Postgres, S3, Kafka, the WebHDFS double and MLflow."""
    for service in services.services():
        print(f"    {service.name:<8} {services.up(service)}", flush=True)
    summary["platform"] = {"services": services.service_urls()}


def stage_airflow(summary: dict) -> None:
    """Migrate the local Airflow database and load airflow_settings.yaml into it."""
    result = subprocess.run([str(ROOT / "bin" / "airflow-settings")], capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise DemoError(f"bin/airflow-settings failed:\n{result.stderr[-3000:]}")
    print(f"    {result.stdout.strip()}", flush=True)


def stage_healthcheck(summary: dict) -> None:
    """Run the platform_healthcheck DAG: every connection answers through its provider hook."""
    output = airflow("dags", "test", "platform_healthcheck")
    checked = [
        line.split("Returned value was: ", 1)[1].split(" [")[0]
        for line in output.splitlines()
        if "Returned value was: " in line
    ]
    for line in checked:
        print(f"    {line}", flush=True)
    summary["platform"]["healthcheck"] = checked


STAGES: list[tuple[str, Callable[[dict], None]]] = [
    ("services", stage_services),
    ("airflow", stage_airflow),
    ("healthcheck", stage_healthcheck),
]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--end", type=date.fromisoformat, default=date.today() - timedelta(days=1))
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args(argv)
    start = args.end - timedelta(days=args.days - 1)
    summary: dict = {"dates": [start.isoformat(), args.end.isoformat()], "seconds": {}}
    print(f"demo: {start} .. {args.end}", flush=True)
    for name, stage in STAGES:
        print(f"==> {name}: {stage.__doc__.splitlines()[0]}", flush=True)
        began = time.monotonic()
        try:
            stage(summary)
        except (DemoError, services.ServiceError) as exc:
            print(f"demo: stage '{name}' failed: {exc}", file=sys.stderr)
            return 1
        finally:
            summary["seconds"][name] = round(time.monotonic() - began, 1)
            SUMMARY.parent.mkdir(parents=True, exist_ok=True)
            SUMMARY.write_text(json.dumps(summary, indent=2))
    print(f"\nsummary: {SUMMARY.relative_to(ROOT)}")
    print(json.dumps(summary, indent=2))
    print("\nopen the results:\n  make airflow   # Airflow UI on http://localhost:8080\n  make mlflow    # MLflow UI")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
