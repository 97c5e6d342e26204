"""A Spark standalone cluster on loopback for tests: a master and one worker started from
the installed pyspark distribution, each in its own session, stopped by the PIDs started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SPARK_HOME = Path(__import__("pyspark").__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, log: Path, timeout: float = 90.0):
    """`check()`'s first truthy result within `timeout` seconds, or an AssertionError with `log`'s tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"{what} not up after {timeout:.0f} s; log {log}:\n{log.read_text()[-3000:]}")


def master_state(ui_port: int) -> dict:
    """The master's state from its web UI's JSON (`workers`, `activeapps`, `completedapps`, ...)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as response:
        return json.load(response)


@contextmanager
def spark_standalone(
    logs: Path, *, cores: int = 1, memory: str = "1g", cores_per_app: int | None = None
) -> Iterator[dict]:
    """A master and one worker (`cores`, `memory`) on 127.0.0.1, logs under `logs`;
    yields {"master": "spark://127.0.0.1:<port>", "ui": <master web UI port>}.

    `cores_per_app` is the master's default for applications that set no `spark.cores.max`
    (`spark.deploy.defaultCores`); without it the first application takes every core and
    the next one waits for it to finish."""
    assert (SPARK_HOME / "jars").is_dir() and any((SPARK_HOME / "jars").glob("spark-core_*.jar")), (
        f"{SPARK_HOME}: no jars/spark-core_*.jar, the full pyspark distribution is missing (pyspark-client only?)"
    )
    logs.mkdir(parents=True, exist_ok=True)
    port, ui, worker_ui = free_port(), free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_WORKER_DIR": str(logs)}
    if cores_per_app:
        env["SPARK_MASTER_OPTS"] = f"-Dspark.deploy.defaultCores={cores_per_app}"
    spark_class = str(SPARK_HOME / "bin" / "spark-class")
    commands = {
        "master": [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                   "--webui-port", str(ui)],
        "worker": [spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}", "--host",
                   "127.0.0.1", "--cores", str(cores), "--memory", memory, "--webui-port", str(worker_ui)],
    }  # fmt: skip
    started: list[subprocess.Popen] = []
    try:
        for name, command in commands.items():
            log = logs / f"{name}.log"
            with log.open("w") as out:
                started.append(
                    subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
                )
            if name == "master":
                wait_for(lambda: master_state(ui)["status"] == "ALIVE", "spark master", log)
        wait_for(lambda: master_state(ui).get("aliveworkers", 0) >= 1, "spark worker", logs / "worker.log")
        yield {"master": f"spark://127.0.0.1:{port}", "ui": ui}
    finally:
        for process in reversed(started):
            # Each was started in its own session: its group is the JVM and the executors it ran.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
