"""Benchmarks of the platform (`make bench`): speed is measured here, never asserted in tests."""

from __future__ import annotations

import platform
import time
from collections.abc import Iterable
from pathlib import Path


def write_results(path: Path, title: str, note: str, rows: Iterable[tuple[str, dict]]) -> None:
    """Print each (benchmark, row) as a table line as it is measured, then write the table to `path`.

    A row has `figure`, `project`, `reference` and `ratio`; `note` follows the machine line.
    """
    lines = [
        f"# {title}",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()}). {note}",
        "",
        "| benchmark | figure | this project | reference | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, row in rows:
        line = f"| {name} | {row['figure']} | {row['project']} | {row['reference']} | {row['ratio']} |"
        print(line, flush=True)
        lines.append(line)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
