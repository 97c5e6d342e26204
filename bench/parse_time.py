"""DAG parse time: each file of `dags/` imported in a warm interpreter, as the DAG
processor does it: Airflow loaded, and the `airflow.*` modules the file imports
pre-imported (`[dag_processor] parsing_pre_import_modules`, on by default). Reports the
first parse (which pays for the project's own imports) and the median of several, plus
which heavy modules parsing pulled in. Target: under 50 ms per file, no heavy import.

    python -m bench.parse_time [--repeat 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from devstack.airflow_env import airflow_env

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 50.0
HEAVY = ["pandas", "pyspark", "torch", "mlflow", "great_expectations", "evidently", "lightgbm", "sklearn"]


def _warm_up() -> None:
    """Build a throwaway DAG with a task, as the DAG processor has Airflow's own machinery loaded."""
    from datetime import datetime

    from airflow.sdk import dag, task

    @dag(schedule=None, start_date=datetime(2026, 1, 1))
    def warm_up():
        task(lambda: None, task_id="noop")()

    warm_up()


def measure(repeat: int) -> dict:
    """Runs inside the Airflow environment (see main): returns timings per file."""
    _warm_up()

    from airflow.utils.file import iter_airflow_imports

    results = {}
    for path in sorted((ROOT / "dags").glob("*.py")):
        for module in iter_airflow_imports(str(path)):
            importlib.import_module(module)
        times = []
        for i in range(repeat):
            spec = importlib.util.spec_from_file_location(f"bench_dag_{path.stem}_{i}", path)
            module = importlib.util.module_from_spec(spec)
            start = time.perf_counter()
            spec.loader.exec_module(module)
            times.append((time.perf_counter() - start) * 1000)
        results[path.name] = {"first_ms": times[0], "median_ms": statistics.median(times), "best_ms": min(times)}
    return {"files": results, "heavy": [m for m in HEAVY if m in sys.modules]}


def run(repeat: int = 7) -> list[dict]:
    """Measure in a fresh interpreter with the project's Airflow settings; rows for bench/results."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.parse_time", "--inner", "--repeat", str(repeat)],
        env=airflow_env(ROOT / ".local" / "bench" / "airflow"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    rows = [
        {
            "figure": f"parse {name}: first parse (median of {repeat}: {t['median_ms']:.1f} ms)",
            "project": f"{t['first_ms']:.1f} ms",
            "reference": f"{TARGET_MS:.0f} ms target",
            "ratio": f"{t['first_ms'] / TARGET_MS:.2f}",
        }
        for name, t in data["files"].items()
    ]
    total = sum(t["first_ms"] for t in data["files"].values())
    rows.append(
        {
            "figure": f"first parse of all {len(data['files'])} DAG files",
            "project": f"{total:.1f} ms",
            "reference": f"{TARGET_MS * len(data['files']):.0f} ms target",
            "ratio": f"{total / (TARGET_MS * max(len(data['files']), 1)):.2f}",
        }
    )
    rows.append(
        {
            "figure": "heavy modules imported by parsing",
            "project": ", ".join(data["heavy"]) or "none",
            "reference": "none",
            "ratio": "ok" if not data["heavy"] else "FAIL",
        }
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(measure(args.repeat)))
        return
    for row in run(args.repeat):
        print(f"{row['figure']:<60} {row['project']:>12} {row['reference']:>18} {row['ratio']:>6}")


if __name__ == "__main__":
    main()
