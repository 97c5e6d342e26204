"""Seed the sources with a synthetic credit-card portfolio (what `make seed` runs).

    python -m devstack.seed --customers 50000 --start 2026-05-01 --end 2026-11-20 \\
        --scenario normal|drift|bad-batch [--drift-from DATE] [--kafka-days 14] [--seed 42] \\
        [--only postgres,kafka,s3,hdfs] [--topic card-transactions] \\
        [--defect NAME --defect-date DATE [--defect-source bureau|transactions]]

Endpoints come from airflow_settings.yaml (core_postgres, partner_s3, kafka_default,
webhdfs_default and the variable partner_drops_bucket). Progress goes to stderr, the
JSON summary (rows written per source, seconds) to stdout. Re-running replaces the
seeded data; Kafka, which cannot delete, gets the window appended again (see the
offsets in the summary).

`--scenario bad-batch` seeds the normal data with one defective delivery in place of
the clean one: the bureau file of `--defect-date`, or (`--defect-source transactions`)
the archive file of its month. `--scenario drift` takes the same `--defect` options, for a
drifted portfolio with one bad delivery (what `make demo` seeds). `--list-defects` prints
the catalogue.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date

from devstack import airflow_settings
from devstack.seed import defects, write
from devstack.seed.generate import SCENARIOS, SeedError, SeedParams

BAD_BATCH = "bad-batch"


def _sources(text: str) -> list[str]:
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = set(chosen) - set(write.SOURCES)
    if unknown or not chosen:
        expected = ",".join(write.SOURCES)
        raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {expected}, got {text!r}")
    return chosen


def parser() -> argparse.ArgumentParser:
    defaults = SeedParams()
    p = argparse.ArgumentParser(
        prog="python -m devstack.seed", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--customers", type=int, default=defaults.customers)
    p.add_argument("--start", type=date.fromisoformat, default=defaults.start)
    p.add_argument("--end", type=date.fromisoformat, default=defaults.end)
    p.add_argument("--scenario", choices=[*SCENARIOS, BAD_BATCH], default="normal")
    p.add_argument("--drift-from", type=date.fromisoformat, help="drift: first day of the shift (default: mid-range)")
    p.add_argument("--kafka-days", type=int, default=defaults.kafka_days, help="the last days of the range on Kafka")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--block-size", type=int, default=defaults.block_size, help="customers generated at a time")
    p.add_argument("--only", type=_sources, default=list(write.SOURCES), help="postgres,kafka,s3,hdfs (default: all)")
    p.add_argument(
        "--topic", help="Kafka topic (default: the variable card_transactions_topic; tests use one of their own)"
    )
    p.add_argument("--defect", choices=list(defects.DEFECTS), help="bad-batch: the defect")
    p.add_argument("--defect-date", type=date.fromisoformat, help="bad-batch: the delivery day")
    p.add_argument("--defect-source", choices=[defects.BUREAU, defects.TRANSACTIONS], default=defects.BUREAU)
    p.add_argument("--list-defects", action="store_true", help="print the defect catalogue and exit")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.list_defects:
        for d in defects.DEFECTS.values():
            print(f"{d.name:<18} {','.join(sorted(d.sources)):<22} {d.description}")
        return 0
    try:
        bad_batch = None
        if args.scenario == BAD_BATCH and not (args.defect and args.defect_date):
            raise SeedError("scenario bad-batch needs --defect and --defect-date")
        if args.defect or args.defect_date:
            if args.scenario == "normal":
                raise SeedError("--defect and --defect-date only apply to --scenario bad-batch or drift")
            if not (args.defect and args.defect_date):
                raise SeedError(f"scenario {args.scenario} with a bad batch needs --defect and --defect-date")
            bad_batch = write.BadBatch(args.defect, args.defect_date, args.defect_source)
        params = SeedParams(
            customers=args.customers,
            start=args.start,
            end=args.end,
            seed=args.seed,
            scenario="normal" if args.scenario == BAD_BATCH else args.scenario,
            drift_from=args.drift_from,
            kafka_days=args.kafka_days,
            block_size=args.block_size,
        )
        overrides = {"topic": args.topic} if args.topic else {}
        targets = write.Targets.from_settings(airflow_settings.load(), **overrides)
        summary = write.seed(params, targets, args.only, bad_batch, log=lambda line: print(line, file=sys.stderr))
    except (SeedError, ValueError, write.WriteError, airflow_settings.SettingsError) as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 1
    summary["params"]["scenario"] = args.scenario
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
