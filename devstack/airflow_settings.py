"""Read `airflow_settings.yaml` (Astro CLI format) and apply it to an Airflow.

The file is the one place connections, pools and variables are declared. Values may
use `${VAR}` / `${VAR:-default}` so each environment differs by its environment
variables only. Two ways out of here:

- `apply(settings)` upserts everything into the Airflow metadata database
  (what `make settings` does; idempotent, so it is safe to run on every start);
- `as_env(settings)` gives the same as `AIRFLOW_CONN_*` / `AIRFLOW_VAR_*` variables,
  for processes that must not touch a metadata database (tests, one-off tasks).

    python -m devstack.airflow_settings apply [--file airflow_settings.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "airflow_settings.yaml"

_VAR = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^${}]*))?\}")
_CONN_FIELDS = ("conn_type", "conn_description", "conn_host", "conn_schema", "conn_login", "conn_password")


class SettingsError(ValueError):
    """airflow_settings.yaml is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Connection:
    conn_id: str
    conn_type: str
    description: str | None = None
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def s3_client(self):
        """A boto3 S3 client for an `aws` connection: keys from login/password, endpoint and region from extras."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.extra.get("endpoint_url"),
            aws_access_key_id=self.login,
            aws_secret_access_key=self.password,
            region_name=self.extra.get("region_name"),
        )

    def as_json(self) -> str:
        """The JSON form Airflow accepts in an `AIRFLOW_CONN_<ID>` variable."""
        body = {
            "conn_type": self.conn_type,
            "description": self.description,
            "host": self.host,
            "schema": self.schema,
            "login": self.login,
            "password": self.password,
            "port": self.port,
            "extra": self.extra or None,
        }
        return json.dumps({k: v for k, v in body.items() if v not in (None, "")})


@dataclass(frozen=True)
class Settings:
    connections: dict[str, Connection]
    pools: dict[str, tuple[int, str]]
    variables: dict[str, str]

    def lake(self, root: str | None = None):
        """`root` (default: the `lake_root` variable) as an `include.lake.Lake`; an s3:// root is
        reached through the `lake_s3` connection, as the DAGs reach it (`orchestration.resources.lake`)."""
        from include.lake import Lake

        s3 = self.connections["lake_s3"]
        return Lake.from_uri(
            root or self.variables["lake_root"],
            endpoint_url=s3.extra.get("endpoint_url"),
            access_key=s3.login,
            secret_key=s3.password,
            region=s3.extra.get("region_name"),
        )


def expand(value: str, env: Mapping[str, str], where: str) -> str:
    """Replace ${VAR} and ${VAR:-default}, innermost first; a missing VAR without default is an error."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise SettingsError(f"{where}: environment variable {name} is not set and has no default")

    previous = None
    while previous != value:
        previous, value = value, _VAR.sub(substitute, value)
    return value


def _expand_tree(node: Any, env: Mapping[str, str], where: str) -> Any:
    if isinstance(node, str):
        value = expand(node, env, where)
        # "${SMTP_DISABLE_SSL:-true}" must stay a YAML boolean once expanded, as a literal would be.
        return {"true": True, "false": False}.get(value.lower(), value) if value != node else value
    if isinstance(node, dict):
        return {k: _expand_tree(v, env, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_tree(v, env, f"{where}[{i}]") for i, v in enumerate(node)]
    return node


def _require(entry: dict, key: str, where: str) -> Any:
    if entry.get(key) in (None, ""):
        raise SettingsError(f"{where}: missing '{key}'")
    return entry[key]


def _int(value: Any, where: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{where}: expected an integer, got {value!r}") from None


def load(path: Path = SETTINGS_FILE, env: Mapping[str, str] | None = None) -> Settings:
    """Parse and validate the settings file, expanding variables from `env` (default: os.environ)."""
    env = {"PROJECT_ROOT": str(ROOT), **(os.environ if env is None else env)}
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path.name}: not valid YAML: {exc}") from None
    airflow = document.get("airflow")
    if not isinstance(airflow, dict):
        raise SettingsError(f"{path.name}: expected a top-level 'airflow:' mapping")

    connections: dict[str, Connection] = {}
    for i, raw in enumerate(airflow.get("connections") or []):
        where = f"{path.name}: airflow.connections[{i}]"
        conn_id = _require(raw, "conn_id", where)
        where = f"{where} ({conn_id})"
        if conn_id in connections:
            raise SettingsError(f"{where}: conn_id declared twice")
        unknown = set(raw) - {"conn_id", "conn_port", "conn_extra", *_CONN_FIELDS}
        if unknown:
            raise SettingsError(f"{where}: unknown field(s) {sorted(unknown)}")
        entry = _expand_tree(raw, env, where)
        extra = entry.get("conn_extra") or {}
        if not isinstance(extra, dict):
            raise SettingsError(f"{where}.conn_extra: expected a mapping")
        connections[conn_id] = Connection(
            conn_id=conn_id,
            conn_type=_require(entry, "conn_type", where),
            description=entry.get("conn_description"),
            host=entry.get("conn_host") or None,
            schema=entry.get("conn_schema") or None,
            login=entry.get("conn_login") or None,
            password=entry.get("conn_password") or None,
            port=_int(entry.get("conn_port"), f"{where}.conn_port"),
            extra=extra,
        )

    pools: dict[str, tuple[int, str]] = {}
    for i, raw in enumerate(airflow.get("pools") or []):
        where = f"{path.name}: airflow.pools[{i}]"
        entry = _expand_tree(raw, env, where)
        name = _require(entry, "pool_name", where)
        slots = _int(_require(entry, "pool_slot", f"{where} ({name})"), f"{where} ({name}).pool_slot")
        pools[name] = (slots, entry.get("pool_description") or "")

    variables: dict[str, str] = {}
    for i, raw in enumerate(airflow.get("variables") or []):
        where = f"{path.name}: airflow.variables[{i}]"
        entry = _expand_tree(raw, env, where)
        name = _require(entry, "variable_name", where)
        value = entry.get("variable_value")
        variables[name] = "" if value is None else str(value)

    return Settings(connections, pools, variables)


def as_env(settings: Settings) -> dict[str, str]:
    """The settings as environment variables Airflow reads before its database."""
    env = {f"AIRFLOW_CONN_{c.conn_id.upper()}": c.as_json() for c in settings.connections.values()}
    env.update({f"AIRFLOW_VAR_{k.upper()}": v for k, v in settings.variables.items()})
    return env


def apply(settings: Settings) -> None:
    """Upsert connections, pools and variables into the configured Airflow metadata database."""
    from airflow.models.connection import Connection as AirflowConnection
    from airflow.models.pool import Pool
    from airflow.models.variable import Variable
    from airflow.utils.session import create_session

    with create_session() as session:
        for conn in settings.connections.values():
            row = session.query(AirflowConnection).filter_by(conn_id=conn.conn_id).one_or_none()
            if row is None:
                row = AirflowConnection(conn_id=conn.conn_id)
                session.add(row)
            row.conn_type = conn.conn_type
            row.description = conn.description
            row.host, row.schema, row.login, row.port = conn.host, conn.schema, conn.login, conn.port
            row.set_password(conn.password)
            row.set_extra(json.dumps(conn.extra) if conn.extra else None)
        for name, (slots, description) in settings.pools.items():
            Pool.create_or_update_pool(name, slots, description, include_deferred=False, session=session)
        for key, value in settings.variables.items():
            Variable.set(key, value, session=session)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["apply", "check"])
    parser.add_argument("--file", type=Path, default=SETTINGS_FILE)
    args = parser.parse_args(argv)
    try:
        settings = load(args.file)
    except SettingsError as exc:
        print(f"airflow settings: {exc}", file=sys.stderr)
        return 1
    if args.command == "apply":
        apply(settings)
    print(
        f"airflow settings: {len(settings.connections)} connections, {len(settings.pools)} pools, "
        f"{len(settings.variables)} variables {'applied' if args.command == 'apply' else 'valid'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
