"""The distributed stack on one machine: Airflow with the CeleryExecutor (Redis broker, Postgres
metadata and result backend), a CPU worker on queue `default`, a GPU worker on queue `gpu`, and
a Spark standalone cluster, all on loopback and each in its own process group.

The queues and components are the ones `docker/docker-compose.yaml` runs (`worker-cpu`,
`worker-gpu`, `spark-master` + `spark-worker`); only the addresses differ. A training run must
send its PyTorch task to the `gpu` worker, and `build_features` its Spark jobs to the cluster.
Where each task ran is read from what the components themselves recorded: the task instances'
queues (REST API), the Celery worker that executed each one (the result backend, keyed by the
task instance's Celery task id) and the applications the Spark master completed.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from devstack import airflow_settings
from devstack.backfill import healthy
from include.features.definitions import CREDIT_DEFAULT, SCORING_SET, TRAINING_SET
from include.lake import Lake, read_manifest
from include.training.synthetic import publish_to_lake, synthetic_training_set
from tests.conftest import ROOT, isolated_airflow_env, isolated_quality_history, scratch_database
from tests.support.models import model_with_gpu_mlp
from tests.support.spark_standalone import free_port, master_state, spark_standalone
from tests.unit.features.conftest import D, TinyLake, portfolio

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

REDIS_DB = 7  # this test's own: flushed before and after, no other database touched
DONE = ("success", "failed")


def _redis(settings):
    """The stack's Redis (connection redis_default), this test's database of it."""
    import redis

    conn = settings.connections["redis_default"]
    return redis.Redis(conn.host, conn.port, db=REDIS_DB, socket_connect_timeout=2)


class Api:
    """Airflow's REST API as the `admin` user of the simple auth manager."""

    def __init__(self, port: str, password: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        body = self._call("POST", "/auth/token", {"username": "admin", "password": password})
        self.token = body["access_token"]

    def _call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)

    def __call__(self, method: str, path: str, body: dict | None = None) -> dict:
        return self._call(method, "/api/v2" + path, body, self.token)

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the DAG processor has parsed and serialised `dag_id`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self("GET", f"/dags/{dag_id}/details")
                return
            except urllib.error.HTTPError as exc:
                if exc.code != 404 or time.monotonic() > deadline:
                    raise
            time.sleep(3)

    def trigger(self, dag_id: str) -> str:
        """Unpause `dag_id` and start one manual run without a logical date; returns its run id."""
        self("PATCH", f"/dags/{dag_id}", {"is_paused": False})
        return self("POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None})["dag_run_id"]

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict]:
        return {
            ti["task_id"]: ti for ti in self("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        }


def _start(name: str, args: list[str], env: dict[str, str], logs: Path) -> subprocess.Popen:
    """`bin/airflow ARGS` in its own session (so its group holds everything it starts), output to logs/NAME.log."""
    with (logs / f"{name}.log").open("wb") as out:
        return subprocess.Popen(
            [str(ROOT / "bin" / "airflow"), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )


def _stop(processes: list[subprocess.Popen], grace_s: float = 30) -> None:
    """SIGTERM each started process group, SIGKILL what is left after `grace_s`."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):  # the group: task processes, spark-submit drivers
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _tails(logs: Path, chars: int = 1500) -> str:
    return "\n".join(
        f"--- {log.name}:\n{log.read_text(errors='replace')[-chars:]}" for log in sorted(logs.glob("*.log"))
    )


@pytest.fixture
def celery_stack(settings, stack, tracking_uri, tmp_path):
    """Scheduler, DAG processor, API server and two Celery workers (`cpu@…` on `default`, `gpu@…` on `gpu`)
    on a scratch Postgres metadata database and Redis DB 7, with `spark_default` on a standalone cluster.

    Torn down in reverse: the Airflow components, the Spark cluster, the scratch database, Redis DB 7."""
    broker = _redis(settings)
    redis_conn = settings.connections["redis_default"]
    broker.flushdb()
    logs = tmp_path / "logs"
    logs.mkdir()
    models = tmp_path / "models"
    model = model_with_gpu_mlp(models, "distributed")
    lake_root = f"file://{tmp_path / 'lake'}"
    api_port = str(free_port())
    suffix = secrets.token_hex(4)
    workers = {"default": f"cpu@distributed-{suffix}", "gpu": f"gpu@distributed-{suffix}"}
    seconds: dict[str, float] = {}
    t0 = time.monotonic()
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(broker.flushdb)
        cleanup.enter_context(isolated_quality_history(settings))  # the feature gate's history (ml_postgres)
        conninfo = cleanup.enter_context(scratch_database(settings, "airflow_celery"))
        db = psycopg.conninfo.conninfo_to_dict(conninfo)
        url = f"postgresql+psycopg://{db['user']}@{db['host']}:{db['port']}/{db['dbname']}"
        home = tmp_path / "airflow"
        home.mkdir()
        password = secrets.token_urlsafe(16)
        (home / "passwords.json").write_text(json.dumps({"admin": password}))
        env = isolated_airflow_env(
            home,
            AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url,
            AIRFLOW__CELERY__BROKER_URL=f"redis://{redis_conn.host}:{redis_conn.port}/{REDIS_DB}",
            AIRFLOW__CELERY__RESULT_BACKEND=f"db+{url}",
            # Celery then records which worker (its --celery-hostname) ran each task, and from which queue.
            AIRFLOW__CELERY__EXTRA_CELERY_CONFIG=json.dumps({"result_extended": True}),
            AIRFLOW__API__PORT=api_port,
            AIRFLOW__API__WORKERS="1",  # the default 4 Uvicorn workers would each import Airflow on 2 cores
            AIRFLOW__API__BASE_URL=f"http://localhost:{api_port}",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{api_port}/execution/",
            # Only the runs the test triggers: no cron or Asset runs of the DAGs it unpauses.
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
            # Parse the DAG files once, not every 30 s: the test's two cores are for the tasks.
            AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="3600",
            # The Spark drivers (client mode, in the workers' task processes) stay on loopback too.
            SPARK_LOCAL_IP="127.0.0.1",
            AIRFLOW_VAR_LAKE_ROOT=lake_root,
            AIRFLOW_VAR_ENVIRONMENT="dev",
            PLATFORM_MODELS_DIR=str(models),
        )
        migrate = _start("db-migrate", ["db", "migrate"], env, logs)  # while the Spark JVMs start
        cleanup.callback(_stop, [migrate])
        # Two cores, one per application: the two feature jobs of a run go side by side.
        cluster = cleanup.enter_context(spark_standalone(tmp_path / "spark", cores=2, memory="2g", cores_per_app=1))
        assert migrate.wait(timeout=300) == 0, _tails(logs)
        seconds["migrate"] = time.monotonic() - t0
        # The one change production makes too: spark_default points at the cluster (SPARK_MASTER).
        spark_conn = airflow_settings.load(env={**os.environ, "SPARK_MASTER": cluster["master"]})
        env["AIRFLOW_CONN_SPARK_DEFAULT"] = spark_conn.connections["spark_default"].as_json()
        applied = subprocess.run(  # the pools (gpu, spark), as `make settings` and compose's airflow-init do
            [sys.executable, "-m", "devstack.airflow_settings", "apply"],
            env=env,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert applied.returncode == 0, applied.stderr[-3000:]
        components = {
            "api-server": ["api-server"],
            "scheduler": ["scheduler"],
            "dag-processor": ["dag-processor"],
            "worker-cpu": ["celery", "worker", "--queues", "default", "--concurrency", "2"],
            "worker-gpu": ["celery", "worker", "--queues", "gpu", "--concurrency", "1"],
        }
        started: dict[str, subprocess.Popen] = {}
        cleanup.callback(lambda: _stop(list(started.values())))
        for name, args in components.items():
            if name.startswith("worker-"):
                queue = args[args.index("--queues") + 1]
                # Two workers on one host: distinct Celery names, and no log server (both would take :8793).
                args = [*args, "--celery-hostname", workers[queue], "--skip-serve-logs"]
            started[name] = _start(name, args, env, logs)
        deadline = time.monotonic() + 240
        while not healthy(env):
            dead = [name for name, process in started.items() if process.poll() is not None]
            assert not dead and time.monotonic() < deadline, f"stack not healthy; exited: {dead}\n{_tails(logs)}"
            time.sleep(3)
        seconds["healthy"] = time.monotonic() - t0
        yield {
            "api": Api(api_port, password),
            "conninfo": conninfo,
            "cluster": cluster,
            "model": model,
            "lake_root": lake_root,
            "workers": workers,
            "logs": logs,
            "seconds": seconds,
            "t0": t0,
        }


def _wait_for_runs(api: Api, runs: dict[str, str], logs: Path, timeout: float = 600) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        states = {dag_id: api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"] for dag_id, run_id in runs.items()}
        if all(state in DONE for state in states.values()):
            return states
        if time.monotonic() > deadline:
            tis = {d: {t: ti["state"] for t, ti in api.task_instances(d, r).items()} for d, r in runs.items()}
            raise AssertionError(f"runs not done within {timeout:.0f} s: {states} {tis}\n{_tails(logs)}")
        time.sleep(5)


def _celery_workers(conninfo: str, dag_id: str, run_id: str) -> dict[str, tuple[str, str]]:
    """task_id -> (Celery worker, queue) from the result backend, for the run's task instances."""
    with psycopg.connect(conninfo) as db:
        rows = db.execute(
            "select ti.task_id, m.worker, m.queue from task_instance ti"
            " join celery_taskmeta m on m.task_id = ti.external_executor_id"
            " where ti.dag_id = %s and ti.run_id = %s",
            [dag_id, run_id],
        ).fetchall()
    return {task_id: (worker, queue) for task_id, worker, queue in rows}


@pytest.mark.timeout(900)
def test_pytorch_trains_on_the_gpu_worker_and_features_build_on_the_spark_cluster(celery_stack):
    api, workers = celery_stack["api"], celery_stack["workers"]
    lake = Lake.from_uri(celery_stack["lake_root"])
    # build_features' inputs: a tiny validated zone around D (as in test_features_dag) ...
    training_d = CREDIT_DEFAULT.matured_date(D)
    tiny = TinyLake(lake, zone="validated")
    portfolio(tiny, training_d)
    portfolio(tiny)
    tiny.publish(through=D - timedelta(days=1), since=training_d - timedelta(days=1))
    # ... and the model's training set (as in test_training_dags).
    publish_to_lake(synthetic_training_set(6_000, seed=5), lake, "small_default_training", "v2")

    train_dag = f"train_{celery_stack['model']}"
    for dag_id in ("build_features", train_dag):
        api.wait_for_dag(dag_id)
    # Runs without a data interval, as Asset triggers make them: build_features builds the latest day
    # whose inputs are all validated, D (and the training set at D - 91). A logical date would have to
    # be in the past: the scheduler does not start a run whose logical date is in the future, and D is.
    runs = {dag_id: api.trigger(dag_id) for dag_id in ("build_features", train_dag)}
    states = _wait_for_runs(api, runs, celery_stack["logs"])
    seconds = {**celery_stack["seconds"], "runs": time.monotonic() - celery_stack["t0"]}
    print(f"distributed stack: cumulative seconds {seconds}")

    tis = {dag_id: api.task_instances(dag_id, run_id) for dag_id, run_id in runs.items()}
    summary = {d: {t: (ti["state"], ti["queue"]) for t, ti in by_task.items()} for d, by_task in tis.items()}
    assert states == {"build_features": "success", train_dag: "success"}, f"{summary}\n{_tails(celery_stack['logs'])}"

    # The PyTorch task was queued on `gpu` and executed by the gpu worker; every other task by the cpu worker.
    ran = {d: _celery_workers(celery_stack["conninfo"], d, r) for d, r in runs.items()}
    assert tis[train_dag]["train_pytorch_mlp"]["queue"] == "gpu"
    assert tis[train_dag]["train_pytorch_mlp"]["pool"] == "gpu"
    assert ran[train_dag]["train_pytorch_mlp"] == (workers["gpu"], "gpu")
    for dag_id, by_task in tis.items():
        for task_id, ti in by_task.items():
            if ti["state"] == "success" and task_id != "train_pytorch_mlp":
                assert (ti["queue"], ran[dag_id][task_id]) == ("default", (workers["default"], "default")), task_id
    assert {"train_lightgbm", "train_pytorch_mlp", "gate", "promote"} <= {
        t for t, ti in tis[train_dag].items() if ti["state"] == "success"
    }

    # The feature jobs ran on the standalone cluster: its master completed both applications,
    # and the partitions they published record this run.
    apps = {app["name"]: app["state"] for app in master_state(celery_stack["cluster"]["ui"])["completedapps"]}
    assert apps == {f"features-{TRAINING_SET}": "FINISHED", f"features-{SCORING_SET}": "FINISHED"}
    for feature_set, ds in ((SCORING_SET, D), (TRAINING_SET, training_d)):
        manifest = read_manifest(lake, lake.partition("features", feature_set, f"v{CREDIT_DEFAULT.version}", ds=ds))
        assert manifest.written_by["run_id"] == runs["build_features"] and manifest.row_count == 2
