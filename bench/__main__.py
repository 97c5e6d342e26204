"""Run every benchmark and write one table to bench/results/latest.md (`make bench`)."""

from __future__ import annotations

from pathlib import Path

from bench import features, inference, ingest, parse_time, quality, training, write_results

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
BENCHMARKS = {
    "DAG parse time": parse_time.run,
    "Ingestion": ingest.run,
    "Quality gate": quality.run,
    "Features": features.run,
    "Training": training.run,
    "Inference": inference.run,
}


def main() -> None:
    def rows():
        for name, run in BENCHMARKS.items():
            print(f"== {name}", flush=True)
            yield from ((name, row) for row in run())

    note = "Ratios are this project over the reference, measured in the same run."
    write_results(RESULTS, "Benchmark results", note, rows())


if __name__ == "__main__":
    main()
