"""The docs' screenshot script, without a browser: its own API port, the CDN files it serves from
npm packages, the PNG size budget, and the settings it gives each UI."""

import io
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from devstack import doc_pictures
from devstack.doc_pictures import LocalOnly, PictureError, api_server_env, init_script, lake_folder, save_png


def test_the_api_server_gets_its_own_port_and_urls_even_when_the_caller_set_8080(monkeypatch, tmp_path):
    for key in [k for k in os.environ if k.startswith("AIRFLOW")]:  # the tests' own Airflow settings
        monkeypatch.delenv(key)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("AIRFLOW__API__PORT", "8080")
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "http://localhost:8080")
    env = api_server_env(tmp_path, 43210)
    assert env["AIRFLOW_HOME"] == str(tmp_path)
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__API__PORT"] == "43210"
    assert env["AIRFLOW__API__BASE_URL"] == "http://127.0.0.1:43210"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:43210/execution/"
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] == str(tmp_path / "passwords.json")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path}/airflow.db"


@pytest.mark.parametrize(
    ("url", "package", "path"),
    [
        (
            "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css",
            "bootstrap@4.3.1",
            "dist/css/bootstrap.min.css",
        ),
        (
            "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js",
            "bootstrap@4.3.1",
            "dist/js/bootstrap.min.js",
        ),
        ("https://code.jquery.com/jquery-3.7.1.min.js", "jquery@3.7.1", "dist/jquery.min.js"),
        (
            "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js",
            "bootstrap-table@1.19.1",
            "dist/bootstrap-table.min.js",
        ),
        (
            "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
            "@forevolve/bootstrap-dark@1.1.0",
            "dist/css/bootstrap-prefers-dark.css",
        ),
        (
            "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/webfonts/fa-solid-900.woff2",
            "@fortawesome/fontawesome-free@6.6.0",
            "webfonts/fa-solid-900.woff2",
        ),
        (
            "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js",
            "popper.js@1.12.9",
            "dist/umd/popper.min.js",
        ),
        ("https://cdn.jsdelivr.net/npm/vega@5", "vega@5", "build/vega.min.js"),  # package.json's jsdelivr file
    ],
)
def test_a_cdn_file_comes_from_the_same_release_of_its_npm_package(monkeypatch, tmp_path, url, package, path):
    def fake_package(name: str, version: str) -> Path:
        folder = tmp_path / f"{name}@{version}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text(json.dumps({"jsdelivr": "build/vega.min.js", "main": "index.js"}))
        return folder

    monkeypatch.setattr(doc_pictures, "npm_package", fake_package)
    assert LocalOnly(tmp_path / "lake").local_copy(url) == tmp_path / package / path


def test_the_gx_logo_comes_from_the_data_docs_site_and_other_hosts_from_nowhere(tmp_path):
    network = LocalOnly(tmp_path)
    logo = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png"
    assert network.local_copy(logo) == tmp_path / "reports" / "data_docs" / "static" / "images" / "logo-long.png"
    assert network.local_copy("https://greatexpectations.io/newsletter") is None


def _busy_screenshot() -> bytes:
    image = Image.new("RGB", (400, 300))
    image.putdata([((x * 7) % 256, (y * 5) % 256, (x * y) % 256) for y in range(300) for x in range(400)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_screenshot_over_the_budget_is_saved_as_a_palette_image_and_one_that_cannot_fit_fails(tmp_path):
    data = _busy_screenshot()
    full = save_png(data, tmp_path / "full.png", max_bytes=10_000_000)
    assert Image.open(tmp_path / "full.png").mode == "RGB"
    small = save_png(data, tmp_path / "small.png", max_bytes=full - 1)
    assert small < full
    assert Image.open(tmp_path / "small.png").mode == "P"
    with pytest.raises(PictureError, match="even as a palette image"):
        save_png(data, tmp_path / "none.png", max_bytes=100)
    assert not (tmp_path / "none.png").exists()


def test_each_ui_gets_only_its_own_browser_settings():
    script = init_script("http://127.0.0.1:43210", "http://127.0.0.1:15000")
    settings = json.loads(script.split(" = ", 1)[1].split("[window.location.origin]", 1)[0])
    assert settings["http://127.0.0.1:43210"] == {"default_dag_view": '"graph"'}
    assert settings["http://127.0.0.1:15000"]["mlflow.assistant.panelOpen_v1"] == "false"
    assert settings["http://127.0.0.1:15000"]["mlflow.workflowType_v1"] == '"machine_learning"'


def test_the_report_pictures_need_a_file_lake():
    assert lake_folder("file:///work/lake") == Path("/work/lake")
    with pytest.raises(PictureError, match="not a file:// lake"):
        lake_folder("s3://lake")
