"""The local service stack: start, reuse, check and stop what the platform talks to.

Endpoints come from `airflow_settings.yaml` (the same connections Airflow uses), so
the stack and the DAGs can never disagree on a port. For each service:

- if its endpoint already answers the health check, it is reused, whoever runs it
  (the machine's PostgreSQL on 127.0.0.1:5432, a stack started by an earlier call);
- if it points at loopback and does not answer, the project starts its own, with a
  PID file and a log under `.local/`, and waits for the health check (with a timeout);
- if it points elsewhere and does not answer, that is an error naming the connection.

`down` stops only processes whose PID file this project wrote (and whose command line
still matches), never a pre-existing server.

    python -m devstack.services up | down | status | url NAME
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from devstack import airflow_settings

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
RUN_DIR = LOCAL / "run"
LOG_DIR = LOCAL / "log"
PYTHON = sys.executable
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
START_TIMEOUT_S = 60.0
HTTP_SERVICES = {"s3", "hdfs-namenode", "hdfs-datanode", "mlflow"}


class ServiceError(RuntimeError):
    """A service could not be reached or started; the message names it and its log."""


@dataclass
class Service:
    name: str
    host: str
    port: int
    command: Callable[[], list[str]]
    healthy: Callable[[], bool]
    after_start: Callable[[], None] = lambda: None
    stop: Callable[[int], None] | None = None  # custom stop; default: signal the process group

    @property
    def pid_file(self) -> Path:
        return RUN_DIR / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return LOG_DIR / f"{self.name}.log"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


# ---------------------------------------------------------------- health checks


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http URLs from our settings)  # nosec B310
            return 200 <= response.status < 500
    except OSError:
        return False


def postgres_ok(conn: airflow_settings.Connection) -> bool:
    import psycopg

    try:
        dsn = _pg_dsn(conn, dbname="postgres")
        with psycopg.connect(dsn, connect_timeout=2) as pg:
            pg.execute("select 1")
        return True
    except psycopg.Error:
        return False


def kafka_ok(bootstrap: str) -> bool:
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    if not port_open(host, int(port)):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient({"bootstrap.servers": bootstrap, "log_level": 0}).list_topics(timeout=3)
        return True
    except Exception:  # noqa: BLE001 (KafkaException on timeout; anything else is unhealthy too)
        return False


def _pg_dsn(conn: airflow_settings.Connection, dbname: str | None = None) -> str:
    parts = {
        "host": conn.host,
        "port": conn.port or 5432,
        "user": conn.login,
        "password": conn.password,
        "dbname": dbname or conn.schema,
    }
    return " ".join(f"{k}={v}" for k, v in parts.items() if v not in (None, ""))


# ---------------------------------------------------------------- process handling


def _read_pid(service: Service) -> int | None:
    """The PID this project recorded, if that process still runs the same command."""
    try:
        pid = int(service.pid_file.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError, IndexError):
        return None
    marker = service.pid_file.read_text().split(maxsplit=1)[1:]
    return pid if marker and marker[0].strip() in cmdline else None


def _spawn(service: Service) -> subprocess.Popen:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    try:
        argv = service.command()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:  # a missing program, a failed init step
        raise ServiceError(f"{service.name}: cannot start: {exc}") from exc
    with service.log_file.open("ab") as log:
        log.write(f"\n--- {time.strftime('%F %T')} starting: {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT, start_new_session=True
        )
    # The marker (program path) lets `down` check the PID was not reused by something else.
    service.pid_file.write_text(f"{process.pid} {argv[0]}\n")
    return process


def _wait_healthy(service: Service, exit_code: Callable[[], int | None]) -> None:
    """Until the health check passes; `exit_code()` is None while the process runs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.healthy():
            return
        if (code := exit_code()) is not None:
            service.pid_file.unlink(missing_ok=True)
            raise ServiceError(f"{service.name} exited with code {code} during start; see {service.log_file}")
        time.sleep(0.3)
    raise ServiceError(
        f"{service.name} did not pass its health check on {service.address} within "
        f"{START_TIMEOUT_S:.0f}s; see {service.log_file}"
    )


def up(service: Service) -> str:
    if service.healthy():
        owner = "ours" if _read_pid(service) else "already running"
        service.after_start()
        return f"reused ({owner})"
    if _read_pid(service) is not None:
        # Ours and running, not healthy yet: still starting, or reconnecting (a DataNode
        # registering again with a restarted NameNode). Wait for it instead of a second one.
        started = time.monotonic()
        _wait_healthy(service, lambda: None if _read_pid(service) else -1)
        service.after_start()
        return f"reused (ours, healthy after {time.monotonic() - started:.1f}s)"
    if service.host not in LOOPBACK:
        raise ServiceError(
            f"{service.name}: nothing answers on {service.address} and it is not on loopback, "
            "so the project will not start one: check the connection in airflow_settings.yaml"
        )
    if port_open(service.host, service.port):
        raise ServiceError(
            f"{service.name}: port {service.port} is taken by something that fails the "
            f"{service.name} health check; free it or point the connection elsewhere"
        )
    started = time.monotonic()
    process = _spawn(service)
    _wait_healthy(service, process.poll)
    service.after_start()
    return f"started in {time.monotonic() - started:.1f}s (pid {process.pid}, log {service.log_file.relative_to(ROOT)})"


def down(service: Service) -> str:
    pid = _read_pid(service)
    if pid is None:
        service.pid_file.unlink(missing_ok=True)
        return "not ours, left alone" if service.healthy() else "not running"
    if service.stop:
        service.stop(pid)
    else:
        os.killpg(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            break
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    service.pid_file.unlink(missing_ok=True)
    return f"stopped (pid {pid})"


# ---------------------------------------------------------------- the services


def _postgres(conns: dict[str, airflow_settings.Connection]) -> Service:
    from devstack import postgres

    core = conns["core_postgres"]
    pg_conns = [c for c in conns.values() if c.conn_type == "postgres"]
    return Service(
        name="postgres",
        host=core.host or "127.0.0.1",
        port=core.port or 5432,
        command=lambda: postgres.start_command(core.port or 5432),
        healthy=lambda: postgres_ok(core),
        after_start=lambda: postgres.prepare_databases(pg_conns),
        stop=postgres.stop,
    )


def _s3(conns: dict[str, airflow_settings.Connection], buckets: list[str]) -> Service:
    endpoint = conns["lake_s3"].extra["endpoint_url"]
    url = urlparse(endpoint)

    def create_buckets() -> None:
        s3 = conns["lake_s3"].s3_client()
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for bucket in buckets:
            if bucket not in existing:
                s3.create_bucket(Bucket=bucket)

    moto = shutil.which("moto_server", path=str(Path(PYTHON).parent)) or "moto_server"
    return Service(
        name="s3",
        host=url.hostname or "127.0.0.1",
        port=url.port or 80,
        command=lambda: [moto, "-H", url.hostname or "127.0.0.1", "-p", str(url.port)],
        healthy=lambda: http_ok(f"{endpoint.rstrip('/')}/moto-api/") or http_ok(endpoint),
        after_start=create_buckets,
    )


def _kafka(conns: dict[str, airflow_settings.Connection], topic: str) -> Service:
    """The broker; once it is up, the platform's topic (the variable card_transactions_topic)."""
    from devstack import kafka

    bootstrap = conns["kafka_default"].extra["bootstrap.servers"]
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    return Service(
        name="kafka",
        host=host,
        port=int(port),
        command=lambda: kafka.start_command(host, int(port)),
        healthy=lambda: kafka_ok(bootstrap),
        after_start=lambda: kafka.create_topic({"bootstrap.servers": bootstrap}, topic),
    )


def _hdfs(conns: dict[str, airflow_settings.Connection]) -> list[Service]:
    """HDFS as two services: the NameNode (WebHDFS on the connection's port), then a DataNode.

    The DataNode is healthy once the NameNode counts it live and is out of safe mode, so a
    write right after `up` lands. On first start the NameNode formats `.local/hdfs/name`.
    """
    from devstack import hdfs

    conn = conns["webhdfs_default"]
    host, port = conn.host or "127.0.0.1", conn.port or 9870
    ports = hdfs.Ports.around(port)
    namenode = Service(
        name="hdfs-namenode",
        host=host,
        port=port,
        command=lambda: hdfs.namenode_command(host, ports),
        healthy=lambda: hdfs.webhdfs_ok(host, port),
    )
    datanode = Service(
        name="hdfs-datanode",
        host="127.0.0.1" if host in LOOPBACK else host,
        port=ports.datanode_http,
        command=lambda: hdfs.datanode_command(host, ports),
        healthy=lambda: hdfs.takes_writes(host, port),
        after_start=lambda: hdfs.open_root(host, port),
    )
    return [namenode, datanode]


def redis_ok(host: str, port: int) -> bool:
    """A Redis server answers PING (the protocol's inline form, no client library needed)."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _redis(conns: dict[str, airflow_settings.Connection]) -> Service:
    """Redis from Debian's package, memory only (no snapshots): the Celery broker."""
    conn = conns["redis_default"]
    host, port = conn.host or "127.0.0.1", conn.port or 6379

    def command() -> list[str]:
        program = shutil.which("redis-server")
        if not program:
            raise RuntimeError("redis-server not found: run `make setup` (it installs Debian's redis-server)")
        (LOCAL / "redis").mkdir(parents=True, exist_ok=True)
        return [program, "--bind", host, "--port", str(port), "--dir", str(LOCAL / "redis"), "--save", ""]

    return Service(name="redis", host=host, port=port, command=command, healthy=lambda: redis_ok(host, port))


def _mlflow(conns: dict[str, airflow_settings.Connection]) -> Service:
    conn = conns["mlflow_default"]
    host, port = conn.host or "127.0.0.1", conn.port or 5000
    store = LOCAL / "mlflow"

    def command() -> list[str]:
        (store / "artifacts").mkdir(parents=True, exist_ok=True)
        return [
            str(Path(PYTHON).parent / "mlflow"),
            "server",
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{store / 'mlflow.db'}",
            "--artifacts-destination",
            str(store / "artifacts"),
        ]

    return Service(
        name="mlflow", host=host, port=port, command=command, healthy=lambda: http_ok(f"http://{host}:{port}/health")
    )


def services(env: dict[str, str] | None = None) -> list[Service]:
    """Every service of the local stack, in start order, as `airflow_settings.yaml` configures them."""
    settings = airflow_settings.load(env=env)
    conns = settings.connections
    buckets = [urlparse(settings.variables["lake_root"]).netloc or "lake", settings.variables["partner_drops_bucket"]]
    return [
        _postgres(conns),
        _s3(conns, sorted(set(buckets) | {"lake"})),
        _kafka(conns, settings.variables["card_transactions_topic"]),
        *_hdfs(conns),
        _redis(conns),
        _mlflow(conns),
    ]


def service_urls(env: dict[str, str] | None = None) -> dict[str, str]:
    return {s.name: (f"http://{s.address}" if s.name in HTTP_SERVICES else s.address) for s in services(env)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "url"])
    parser.add_argument("names", nargs="*", help="only these services (default: all)")
    args = parser.parse_args(argv)
    try:
        stack = [s for s in services() if not args.names or s.name in args.names]
    except airflow_settings.SettingsError as exc:
        print(f"services: {exc}", file=sys.stderr)
        return 1
    if args.command == "url":
        for s in stack:
            print(f"{s.name}: {service_urls()[s.name]}")
        return 0
    failed = False
    for service in reversed(stack) if args.command == "down" else stack:
        try:
            if args.command == "up":
                result = up(service)
            elif args.command == "down":
                result = down(service)
            else:
                ours = _read_pid(service)
                result = ("healthy" if service.healthy() else "DOWN") + (f", ours (pid {ours})" if ours else "")
        except ServiceError as exc:
            failed = True
            result = f"FAILED: {exc}"
        print(f"  {service.name:<14} {service.address:<22} {result}", flush=True)
    if args.command == "up" and not failed:
        (LOCAL / "services.json").write_text(json.dumps(service_urls(), indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
