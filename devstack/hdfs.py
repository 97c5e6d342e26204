"""HDFS for the local stack: one NameNode and one DataNode of Apache Hadoop 3.5.0, WebHDFS on.

The jars come from Maven Central (`jvm/hdfs/pom.xml`, copied into `.local/jvm/hdfs/` by
`make setup`); everything else lives in `.local/hdfs/`: `conf/` (core-site.xml,
hdfs-site.xml and log4j.properties, written at every start from the `webhdfs_default`
connection, first on the classpath), `name/` (the NameNode's fsimage and edits, formatted
on first start) and `data/` (the DataNode's blocks). Both daemons run in the foreground
under the services manager, 256 MB of heap each, and log to `.local/log/hdfs-*.log`.
Java 17 runs Hadoop 3.5 as it is: no `--add-opens` flag is needed.

Addresses. The connection's host:port is the NameNode's HTTP address (WebHDFS, JMX and the
web UI on `/`). The other ports keep Hadoop's default offsets from it: with WebHDFS on
19870, the NameNode RPC is 19820 and the DataNode's data transfer, HTTP and IPC ports are
19866, 19864 and 19867. The DataNode listens on 127.0.0.1 only and registers as
`127.0.0.1` (`dfs.datanode.hostname`), so the NameNode's WebHDFS redirects (CREATE, OPEN,
APPEND, GETFILECHECKSUM answer 307 to a DataNode) point at a loopback address the `hdfs`
client can open.

Users and permissions. Authentication is Hadoop's `simple`: the client names its user
(`user.name=airflow`, the connection's login) and is trusted. Permission checks stay on
(`dfs.permissions.enabled=true`, as on a real cluster): the OS user that runs the NameNode
is the HDFS superuser and owns `/`, and right after the first format the root directory is
opened to every user as `/tmp` is (mode 1777: anyone creates, only an owner deletes or
renames), so `airflow` creates `/data/...` and owns what it writes.

    python -m devstack.hdfs dfs -ls -R /     # Hadoop's FsShell against this cluster
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
JARS = ROOT / ".local" / "jvm" / "hdfs"
HOME = ROOT / ".local" / "hdfs"
CONF = HOME / "conf"
NAME = HOME / "name"
DATA = HOME / "data"
# Written by the format, removed once `/` has been opened (after the first start).
ROOT_TO_OPEN = HOME / "root-to-open"

HEAP = "-Xmx256m"
NAMENODE = "org.apache.hadoop.hdfs.server.namenode.NameNode"
DATANODE = "org.apache.hadoop.hdfs.server.datanode.DataNode"
FS_SHELL = "org.apache.hadoop.fs.FsShell"
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    """The cluster's ports, at Hadoop's default offsets from the NameNode's HTTP port."""

    http: int  # NameNode HTTP: WebHDFS, JMX, the web UI (the connection's port)
    rpc: int  # NameNode RPC (fs.defaultFS)
    datanode: int  # DataNode data transfer
    datanode_http: int  # DataNode HTTP: where WebHDFS redirects reads and writes
    datanode_ipc: int

    @classmethod
    def around(cls, http: int) -> Ports:
        return cls(http=http, rpc=http - 50, datanode=http - 4, datanode_http=http - 6, datanode_ipc=http - 3)


# ---------------------------------------------------------------- configuration


def _site(properties: dict[str, object]) -> str:
    rows = "".join(
        f"  <property><name>{name}</name><value>{escape(str(value))}</value></property>\n"
        for name, value in properties.items()
    )
    header = '<?xml version="1.0"?>\n<!-- Written by devstack/hdfs.py at each start. -->\n'
    return f"{header}<configuration>\n{rows}</configuration>\n"


LOG4J = """\
# Written by devstack/hdfs.py at each start: everything to stderr, the service log.
hadoop.root.logger=INFO,console
log4j.rootLogger=${hadoop.root.logger}
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
# One line per block-pool subdirectory (1,024) at every DataNode start.
log4j.logger.org.apache.hadoop.hdfs.server.datanode.fsdataset.impl.FsDatasetImpl=WARN
# "Unable to load native-hadoop library": the pure-Java code paths are used, as intended.
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
"""


def write_conf(host: str, ports: Ports) -> Path:
    """core-site.xml, hdfs-site.xml and log4j.properties for a cluster whose NameNode serves `host`."""
    CONF.mkdir(parents=True, exist_ok=True)
    core = {
        "fs.defaultFS": f"hdfs://{host}:{ports.rpc}",
        "hadoop.tmp.dir": HOME / "tmp",
        "hadoop.security.authentication": "simple",
    }
    site = {
        "dfs.namenode.name.dir": f"file://{NAME}",
        "dfs.datanode.data.dir": f"file://{DATA}",
        "dfs.namenode.rpc-address": f"{host}:{ports.rpc}",
        "dfs.namenode.http-address": f"{host}:{ports.http}",
        "dfs.http.policy": "HTTP_ONLY",
        "dfs.webhdfs.enabled": "true",
        "dfs.permissions.enabled": "true",
        "dfs.replication": 1,
        # One DataNode holds every block: leave safe mode as soon as it has reported them.
        "dfs.namenode.safemode.extension": 0,
        "dfs.datanode.address": f"{LOOPBACK}:{ports.datanode}",
        "dfs.datanode.http.address": f"{LOOPBACK}:{ports.datanode_http}",
        "dfs.datanode.ipc.address": f"{LOOPBACK}:{ports.datanode_ipc}",
        "dfs.datanode.hostname": LOOPBACK,
        # A small machine runs the whole stack: fewer threads than a cluster's defaults.
        "dfs.namenode.handler.count": 4,
        "dfs.datanode.handler.count": 3,
    }
    (CONF / "core-site.xml").write_text(_site(core))
    (CONF / "hdfs-site.xml").write_text(_site(site))
    (CONF / "log4j.properties").write_text(LOG4J)
    return CONF


# ---------------------------------------------------------------- commands


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    found = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not found or not Path(found).exists():
        raise RuntimeError("java not found: HDFS needs a Java 17+ runtime ('make setup' installs one)")
    return found


def java_command(main_class: str, *args: str, log_level: str = "INFO") -> list[str]:
    """A JVM running `main_class` with the conf directory, then the Hadoop jars, on the classpath."""
    if not (JARS / "hadoop-hdfs-3.5.0.jar").exists():
        raise RuntimeError(f"the Hadoop jars are missing from {JARS}: run 'make setup' (mvn -f jvm/pom.xml package)")
    return [
        _java(),
        HEAP,
        # The whole stack shares two cores: one GC thread, and the client compiler only (it
        # halves the CPU of a start and, measured, does not slow the DataNode's transfers).
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.net.preferIPv4Stack=true",
        f"-Dhadoop.log.dir={ROOT / '.local' / 'log'}",
        f"-Dhadoop.root.logger={log_level},console",
        "-cp",
        f"{CONF}:{JARS}/*",
        main_class,
        *args,
    ]


def format_namenode() -> None:
    """A new, empty namespace in `name/` (and no blocks of an older one left in `data/`)."""
    shutil.rmtree(NAME, ignore_errors=True)
    shutil.rmtree(DATA, ignore_errors=True)
    result = subprocess.run(
        java_command(NAMENODE, "-format", "-nonInteractive", "-force"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"formatting the NameNode failed ({result.returncode}): {result.stderr[-2000:]}")
    ROOT_TO_OPEN.touch()


def namenode_command(host: str, ports: Ports) -> list[str]:
    """Write the configuration, format the namespace on first use, then the NameNode's command."""
    write_conf(host, ports)
    if not (NAME / "current" / "VERSION").exists():
        format_namenode()
    return java_command(NAMENODE)


def datanode_command(host: str, ports: Ports) -> list[str]:
    write_conf(host, ports)
    DATA.mkdir(parents=True, exist_ok=True)
    return java_command(DATANODE)


# ---------------------------------------------------------------- health and first start


def _get_json(url: str, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http URLs from our settings)  # nosec B310
            return json.load(response) if response.status == 200 else None
    except (OSError, ValueError):
        return None


def webhdfs_ok(host: str, port: int) -> bool:
    """The NameNode answers a WebHDFS status of `/`."""
    body = _get_json(f"http://{host}:{port}/webhdfs/v1/?op=GETFILESTATUS")
    return bool(body and body.get("FileStatus", {}).get("type") == "DIRECTORY")


def namesystem_state(host: str, port: int) -> dict:
    """The NameNode's JMX bean FSNamesystemState ({} when it does not answer)."""
    body = _get_json(f"http://{host}:{port}/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState")
    beans = (body or {}).get("beans") or [{}]
    return beans[0]


def takes_writes(host: str, port: int) -> bool:
    """At least one live DataNode, and out of safe mode: a write right now lands."""
    state = namesystem_state(host, port)
    return state.get("NumLiveDataNodes", 0) >= 1 and state.get("FSState") == "Operational"


def open_root(host: str, port: int) -> None:
    """After the first format: `/` to mode 1777, as the superuser (the user who runs the NameNode)."""
    if not ROOT_TO_OPEN.exists():
        return
    request = urllib.request.Request(
        f"http://{host}:{port}/webhdfs/v1/?op=SETPERMISSION&permission=1777&user.name={getpass.getuser()}",
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 (http URL from our settings)  # nosec B310
        pass
    ROOT_TO_OPEN.unlink()


def shell(host: str, port: int, *args: str, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Hadoop's FsShell (`hdfs dfs ARGS`) against the cluster whose WebHDFS is `host:port`, as `user`
    (default: the OS user), over the NameNode's RPC port.

    For what WebHDFS cannot ask for, e.g. `shell(host, port, "-D", "dfs.checksum.type=CRC32", "-put", ...)`:
    the checksum type is the writer's setting, and the writer of a WebHDFS upload is the DataNode.
    """
    CONF.mkdir(parents=True, exist_ok=True)
    (CONF / "log4j.properties").write_text(LOG4J)
    env = {**os.environ, **({"HADOOP_USER_NAME": user} if user else {})}
    fs = f"hdfs://{host}:{Ports.around(port).rpc}"
    return subprocess.run(
        java_command(FS_SHELL, "-fs", fs, *args, log_level="WARN"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=check,
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "dfs":
        print("usage: python -m devstack.hdfs dfs FSSHELL-ARGS...", file=sys.stderr)
        return 2
    from devstack import airflow_settings

    conn = airflow_settings.load().connections["webhdfs_default"]
    result = shell(conn.host or LOOPBACK, conn.port or 9870, *argv[1:], user=conn.login, check=False)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
