"""The distributed stack's compose file keeps the promises the README makes about it.

`make lint` validates it against the Compose specification; these tests check what a
schema cannot: no secret in the file, health checks, non-root containers, the GPU worker.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[3] / "docker"
COMPOSE = yaml.safe_load((DOCKER / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"airflow-init", "minio-buckets"}
# Images whose own Dockerfile already switches to an unprivileged user.
NON_ROOT_IMAGES = {"apache/kafka", "mlops-platform/spark"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|_KEY$", re.IGNORECASE)
URL_PASSWORD = re.compile(r"://[^:/@\s]+:([^@\s]+)@")


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    return dict(item.split("=", 1) for item in env) if isinstance(env, list) else env


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_no_secret_is_written_in_the_file(name):
    for key, value in _environment(SERVICES[name]).items():
        if SECRET_NAME.search(key) and not key.endswith("_FILE"):
            assert str(value).startswith("${"), f"{name}: {key} must come from .env, found a literal"
        for password in URL_PASSWORD.findall(str(value)):
            assert password.startswith(("${", "$${")), f"{name}: {key} has a literal password in a URL"


def test_every_secret_the_file_uses_is_listed_in_env_example():
    example = {line.split("=", 1)[0] for line in (DOCKER / ".env.example").read_text().splitlines() if "=" in line}
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", (DOCKER / "docker-compose.yaml").read_text()))
    assert used <= example, f"missing from .env.example: {sorted(used - example)}"


@pytest.mark.parametrize("name", sorted(set(SERVICES) - ONE_SHOT))
def test_long_running_services_have_a_health_check(name):
    assert SERVICES[name].get("healthcheck", {}).get("test"), f"{name} has no health check"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_containers_run_as_non_root(name):
    service = SERVICES[name]
    user = str(service.get("user", ""))
    image = service.get("image", "").split(":")[0]
    assert (user and not user.startswith(("0", "root"))) or image in NON_ROOT_IMAGES, f"{name} may run as root"


def _queue(name: str) -> str:
    command = SERVICES[name]["command"]
    return command[command.index("--queues") + 1]


def test_gpu_worker_serves_the_gpu_queue_with_a_reserved_gpu():
    worker = SERVICES["worker-gpu"]
    assert _queue("worker-gpu") == "gpu"
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any("gpu" in d["capabilities"] for d in devices)


def test_airflow_runs_celery_with_cpu_and_gpu_workers():
    executor = {SERVICES[n]["environment"]["AIRFLOW__CORE__EXECUTOR"] for n in SERVICES if n.startswith("airflow-")}
    assert executor == {"CeleryExecutor"}
    assert {_queue("worker-cpu"), _queue("worker-gpu")} == {"default", "gpu"}


def test_the_airflow_image_holds_what_airflow_imports_from_the_project():
    """DAGs, plugins, the `include` package and `airflow_local_settings.py` (Airflow's own hook,
    which carries the fixes for Airflow 3.3.2's deadline bugs) on the image's PYTHONPATH."""
    dockerfile = (DOCKER / "airflow" / "Dockerfile").read_text()
    copied = dict(re.findall(r"^COPY --chown=\S+ (\S+) (\S+)$", dockerfile, re.MULTILINE))
    (pythonpath,) = re.findall(r"^ENV PYTHONPATH=(\S+)$", dockerfile, re.MULTILINE)
    assert copied["airflow_local_settings.py"].rstrip("/") == pythonpath
    assert {copied[p].rstrip("/") for p in ("dags/", "plugins/", "include/")} == {
        f"{pythonpath}/dags",
        f"{pythonpath}/plugins",
        f"{pythonpath}/include",
    }
