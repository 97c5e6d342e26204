"""PostgreSQL for the local stack: a project-owned cluster when none answers, and the
databases and migrations the platform's connections need.

The cluster lives in `.local/postgres/` and runs in the foreground under the services
manager. PostgreSQL refuses to run as root, so as root it runs as the `postgres`
system user through `runuser` (the user the Debian package creates).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
from pathlib import Path

from devstack import airflow_settings
from include import migrations

ROOT = Path(__file__).resolve().parent.parent
CLUSTER = ROOT / ".local" / "postgres"
DATA = CLUSTER / "data"
SOCKETS = CLUSTER / "sockets"


def _bin(program: str) -> str:
    found = shutil.which(program) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), reverse=True)), None
    )
    if not found:
        raise RuntimeError(
            f"PostgreSQL server program '{program}' not found: install it with "
            "'sudo apt-get install postgresql' (Debian/Ubuntu), or point core_postgres at a server"
        )
    return found


def _as_cluster_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def start_command(port: int) -> list[str]:
    """Create the cluster on first use, then the command that serves it on 127.0.0.1:`port`."""
    SOCKETS.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(CLUSTER, "postgres")
        shutil.chown(SOCKETS, "postgres")
    if not (DATA / "PG_VERSION").exists():
        subprocess.run(
            _as_cluster_owner(
                [_bin("initdb"), "-D", str(DATA), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions"]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return _as_cluster_owner(
        [_bin("postgres"), "-D", str(DATA), "-p", str(port), "-k", str(SOCKETS), "-c", "listen_addresses=127.0.0.1"]
    )


def stop(pid: int) -> None:
    """Fast shutdown (SIGINT): roll back open sessions instead of waiting for clients to leave."""
    os.killpg(pid, signal.SIGINT)


def prepare_databases(conns: list[airflow_settings.Connection]) -> None:
    """Create each connection's database if missing and apply its schema's migrations."""
    import psycopg

    for conn in conns:
        admin = {
            "host": conn.host,
            "port": conn.port or 5432,
            "user": conn.login,
            "password": conn.password or None,
            "dbname": "postgres",
            "autocommit": True,
        }
        with psycopg.connect(**admin) as pg:
            if not pg.execute("select 1 from pg_database where datname = %s", [conn.schema]).fetchone():
                pg.execute(f'create database "{conn.schema}"')
        with psycopg.connect(**{**admin, "dbname": conn.schema, "autocommit": False}) as pg:
            migrations.apply(pg, conn.conn_id.removesuffix("_postgres"))
