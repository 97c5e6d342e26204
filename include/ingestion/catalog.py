"""Which datasets each source lands, readable at DAG parse time (no heavy imports)."""

from __future__ import annotations

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql" / "extract"


def postgres_tables(schema: str) -> list[str]:
    """The tables of `schema` that have an extract query in include/sql/extract/<schema>/."""
    return sorted(p.stem for p in (SQL_DIR / schema).glob("*.sql"))
