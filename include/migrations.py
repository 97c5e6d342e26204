"""Versioned SQL migrations for the platform's Postgres databases.

Each component (`core`: the source system's schema; `ml`: scores and monitoring) has a
folder `include/sql/migrations/<component>/` of files `V<NNN>__<what>.sql`, applied in
order, each in the same transaction as its bookkeeping row. An applied file must never
change: its checksum is recorded and a mismatch stops everything, since the database
would no longer be what the files say.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg

MIGRATIONS = Path(__file__).parent / "sql" / "migrations"


class MigrationError(RuntimeError):
    pass


def files(component: str) -> list[Path]:
    folder = MIGRATIONS / component
    if not folder.is_dir():
        raise MigrationError(f"no migrations folder for '{component}': expected {folder}")
    return sorted(folder.glob("V*__*.sql"))


def apply(pg: psycopg.Connection, component: str) -> list[str]:
    """Apply the component's pending migrations; returns the versions applied now."""
    applied_now = []
    with pg.transaction():
        # Two processes migrating at once (scheduler + a test) must not both apply V001.
        pg.execute("select pg_advisory_xact_lock(hashtext('platform_schema_migrations'))")
        pg.execute(
            """create table if not exists public.platform_schema_migrations (
                   component text not null,
                   version text not null,
                   checksum text not null,
                   applied_at timestamptz not null default now(),
                   primary key (component, version))"""
        )
        done = dict(
            pg.execute(
                "select version, checksum from public.platform_schema_migrations where component = %s", [component]
            ).fetchall()
        )
        for path in files(component):
            version, sql = path.stem, path.read_text()
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if version in done:
                if done[version] != checksum:
                    raise MigrationError(
                        f"{path}: changed after it was applied (checksum {done[version][:12]} "
                        f"in the database, {checksum[:12]} on disk): add a new migration instead"
                    )
                continue
            pg.execute(sql)
            pg.execute(
                "insert into public.platform_schema_migrations (component, version, checksum) values (%s, %s, %s)",
                [component, version, checksum],
            )
            applied_now.append(version)
    return applied_now


def main(argv: list[str] | None = None) -> None:
    """`python -m include.migrations URI COMPONENT...`: how deployments (docker/) migrate a database."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m include.migrations", description=main.__doc__)
    parser.add_argument("uri", help="libpq URI of the database, e.g. postgresql://user@host:5432/platform")
    parser.add_argument("components", nargs="+", help="migration folders to apply, e.g. core ml")
    args = parser.parse_args(argv)
    with psycopg.connect(args.uri) as pg:
        for component in args.components:
            applied = apply(pg, component)
            print(f"{component}: applied {', '.join(applied) or 'nothing (up to date)'}")


if __name__ == "__main__":
    main()
