"""Run every benchmark and write one table to bench/results/latest.md (`make bench`)."""

from __future__ import annotations

import platform
import time
from pathlib import Path

from bench import ingest, parse_time

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
BENCHMARKS = {"DAG parse time": parse_time.run, "Ingestion": ingest.run}


def main() -> None:
    lines = [
        "# Benchmark results",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()}). "
        "Ratios are this project over the reference, measured in the same run.",
        "",
        "| benchmark | figure | this project | reference | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, run in BENCHMARKS.items():
        print(f"== {name}", flush=True)
        for row in run():
            line = f"| {name} | {row['figure']} | {row['project']} | {row['reference']} | {row['ratio']} |"
            print(line, flush=True)
            lines.append(line)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"written to {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS}")


if __name__ == "__main__":
    main()
