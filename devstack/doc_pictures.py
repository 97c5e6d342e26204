"""The screenshots in `docs/pictures/`, taken from a real run of the platform.

After `make demo`, run `make doc-pictures` (or `.venv/bin/python -m devstack.doc_pictures`),
look at the PNGs and commit the ones that changed. Prerequisite: Debian's Chromium,
`apt-get install chromium` (`/usr/bin/chromium`; `make setup` does not install it). The
Playwright package of `requirements-dev.txt` drives it; `playwright install` is never needed.

What it does:
- starts its own Airflow api-server (`airflow api-server --apps core`, one worker) on a free
  loopback port against `--airflow-home` (default `.local/airflow`), in the environment of
  `devstack/airflow_env.py`, and stops it at the end. A running `make airflow` on :8080 is
  left alone; no scheduler is started, nothing is triggered;
- logs in as the simple auth manager's `admin` with the password from the passwords file
  (`AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE`; the api-server creates it if missing);
- opens each page in headless Chromium at 1280x800 and saves it as an optimised PNG (a
  256-colour palette where the full-colour file would exceed the size budget):

    airflow-dag-graph.png         the graph of the latest train_credit_default run (`--dag`)
    airflow-assets.png            the Assets view
    airflow-required-actions.png  Required actions, only while an approval waits (else skipped)
    mlflow-run-plots.png          the champion's MLflow run, its ROC plot opened
    mlflow-registry.png           the registered model's versions and aliases
    evidently-drift-report.png    the latest Evidently drift report in the lake
    gx-data-docs-quarantine.png   the GX Data Docs page of the latest quarantined delivery

  The MLflow server is the `mlflow_default` connection's (`make services-up` runs it); the lake
  is `--lake` (default: the `lake_root` variable, so `LAKE_ROOT` works too) and must be a
  `file://` lake; the quarantined delivery comes from `ml.data_quality_runs`.

Chromium loads only loopback and `file://` pages. The one exception is made here, not on the
web: GX Data Docs pages link their CSS and JavaScript (Bootstrap, jQuery, Font Awesome, ...)
from public CDNs, so the script serves those files from the same releases' npm packages,
fetched once with `npm pack` into `.local/doc-pictures/npm/` (without `npm` the page comes out
unstyled). Every other request is aborted and reported.

    python -m devstack.doc_pictures [--only dag-graph,assets] [--out docs/pictures]
        [--airflow-home .local/airflow] [--lake file:///.../lake] [--dag train_credit_default]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack import airflow_settings
from devstack.airflow_env import LOCAL, ROOT, airflow_env
from devstack.backfill import api_token
from include.quality.validate import DATA_DOCS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}
MAX_BYTES = 300_000  # each committed PNG stays below this
MODEL = "credit_default"
LOG = LOCAL / "log" / "doc-pictures-api-server.log"
NPM_CACHE = LOCAL / "doc-pictures" / "npm"
# The CDN files GX Data Docs pages link to, as files of npm packages: (URL, package, path in it).
_AT = r"(?P<package>(?:@[^/@]+/)?[^/@]+)@(?P<version>[^/]+)/?(?P<path>.*)"
CDN_PACKAGES = [
    (re.compile(rf"https://(?:cdn\.jsdelivr\.net/npm|unpkg\.com)/{_AT}"), "{package}", "{path}"),
    (
        re.compile(r"https://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/(?P<version>[^/]+)/(?P<path>.+)"),
        "@fortawesome/fontawesome-free",
        "{path}",
    ),
    (
        re.compile(r"https://cdnjs\.cloudflare\.com/ajax/libs/(?P<package>[^/]+)/(?P<version>[^/]+)/(?P<path>.+)"),
        "{package}",
        "dist/{path}",
    ),
    (
        re.compile(
            r"https://(?:maxcdn|stackpath)\.bootstrapcdn\.com/(?P<package>bootstrap)/(?P<version>[^/]+)/(?P<path>.+)"
        ),
        "{package}",
        "dist/{path}",
    ),
    (
        re.compile(r"https://code\.jquery\.com/(?P<package>jquery)-(?P<version>[\d.]+?)(?P<path>(?:\.min)?\.js)"),
        "{package}",
        "dist/jquery{path}",
    ),
]
# The GX logo, which the site also holds in static/images.
GX_ASSETS = re.compile(r"https://great-expectations-web-assets\.s3[\w.-]*\.amazonaws\.com/(?P<path>[\w.-]+)")
START_TIMEOUT_S = 180
PAGE_TIMEOUT_MS = 60_000


class PictureError(RuntimeError):
    pass


class Skip(Exception):  # noqa: N818 (not an error: the state has nothing to show)
    """The run's state has nothing for this picture; the message says why."""


@dataclass
class Context:
    """What the pictures are taken from: the browser page, and where each UI and the lake are."""

    page: object  # playwright.sync_api.Page
    airflow: str
    token: str
    mlflow: str
    lake: Path
    dag_id: str
    settings: airflow_settings.Settings

    def airflow_api(self, path: str) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"}
        request = urllib.request.Request(f"{self.airflow}{path}", headers=headers)  # noqa: S310 (http, loopback)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback http)  # nosec B310
            return json.load(response)

    def mlflow_api(self, path: str, **params: str) -> dict:
        url = f"{self.mlflow}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback http)  # nosec B310
            return json.load(response)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_server_env(airflow_home: Path, port: int) -> dict[str, str]:
    """The project's Airflow environment, with this script's API port and URLs (never a caller's :8080)."""
    env = airflow_env(airflow_home)
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        }
    )
    return env


@contextlib.contextmanager
def api_server(airflow_home: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """An Airflow api-server of our own on a free loopback port: (its URL, its environment)."""
    port = free_port()
    env = api_server_env(airflow_home, port)
    database = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    if database.startswith("sqlite:///") and not Path(database.removeprefix("sqlite:///")).exists():
        raise PictureError(f"no Airflow metadata database {database}: run make demo first")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    # The airflow of this interpreter's virtualenv (.venv, or the checkout's it was run from).
    argv = [str(Path(sys.executable).parent / "airflow"), "api-server", "--apps", "core", "--workers", "1"]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    with LOG.open("ab") as out:
        process = subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(f"{url}/api/v2/monitor/health"):
            if process.poll() is not None:
                raise PictureError(f"the api-server exited with code {process.returncode}; see {LOG}")
            if time.monotonic() > deadline:
                raise PictureError(f"the api-server did not answer on {url} within {START_TIMEOUT_S} s; see {LOG}")
            time.sleep(2)
        yield url, env
    finally:
        _stop_group(process)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):  # noqa: S310 (loopback http)  # nosec B310
            return True
    except OSError:
        return False


def _stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the api-server's process group (its uvicorn worker included), then SIGKILL what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def save_png(data: bytes, path: Path, max_bytes: int = MAX_BYTES) -> int:
    """Write a screenshot optimised; as a 256-colour palette when the full-colour file is too big. Returns bytes."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    candidates = [image, image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)]
    for candidate in candidates:
        buffer = io.BytesIO()
        candidate.save(buffer, format="PNG", optimize=True)
        if buffer.tell() < max_bytes or candidate is candidates[-1]:
            break
    if buffer.tell() >= max_bytes:
        raise PictureError(f"{path.name}: {buffer.tell()} bytes even as a palette image (limit {max_bytes})")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return buffer.tell()


class LocalOnly:
    """Chromium's network: loopback and `file://` pass; a CDN file of `CDN_PACKAGES` comes from its npm
    package (`npm pack` into `NPM_CACHE`, once); a file the Data Docs site holds itself comes from there;
    everything else (telemetry, the rest of the web) is aborted and counted in `blocked`."""

    def __init__(self, lake: Path) -> None:
        self.site_images = lake / DATA_DOCS / "static" / "images"
        self.blocked: set[str] = set()
        self.vendored: set[str] = set()

    def __call__(self, route) -> None:
        url = route.request.url
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("file", "data", "blob") or parts.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
            return
        local = self.local_copy(url.split("?", 1)[0].split("#", 1)[0])
        if local is not None and local.is_file():
            self.vendored.add(url)
            route.fulfill(path=str(local))
        else:
            self.blocked.add(f"{parts.scheme}://{parts.hostname}")
            route.abort()

    def local_copy(self, url: str) -> Path | None:
        if match := GX_ASSETS.fullmatch(url):
            return self.site_images / match["path"]
        for pattern, package, path in CDN_PACKAGES:
            if match := pattern.fullmatch(url):
                fields = match.groupdict()
                folder = npm_package(package.format(**fields), fields["version"])
                if folder is None:
                    return None
                inside = path.format(**fields)
                return folder / (inside or _default_file(folder))
        return None


def npm_package(name: str, version: str) -> Path | None:
    """The unpacked npm package `name@version` (a range works too), fetched with `npm pack` once; None without npm."""
    folder = NPM_CACHE / f"{name.replace('/', '+')}@{version}"
    if (folder / "package.json").is_file():
        return folder
    NPM_CACHE.mkdir(parents=True, exist_ok=True)
    argv = ["npm", "pack", f"{name}@{version}", "--ignore-scripts", "--json", "--pack-destination", str(NPM_CACHE)]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=True, cwd=NPM_CACHE)
        tarball = NPM_CACHE / json.loads(result.stdout)[0]["filename"]
    except (OSError, subprocess.SubprocessError, ValueError, LookupError) as exc:
        print(f"  npm pack {name}@{version} failed ({type(exc).__name__}): the page goes without it", flush=True)
        return None
    scratch = folder.with_name(folder.name + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(scratch, filter="data")
    (scratch / "package").rename(folder)
    shutil.rmtree(scratch)
    tarball.unlink()
    return folder


def _default_file(folder: Path) -> str:
    """The file a CDN serves for a bare `package@version` URL: package.json's jsdelivr, unpkg or main."""
    manifest = json.loads((folder / "package.json").read_text())
    return next((manifest[k] for k in ("jsdelivr", "unpkg", "main") if isinstance(manifest.get(k), str)), "index.js")


def login(page, airflow: str, env: dict[str, str]) -> None:
    """Sign in through the simple auth manager's login page, as its first user."""
    user = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")[0].split(":")[0]
    password = json.loads(Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())[user]
    page.goto(f"{airflow}/auth/login/")
    page.locator("input[name=username]").fill(user)
    page.locator("input[name=password]").fill(password)
    page.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/auth/" not in url, timeout=PAGE_TIMEOUT_MS)


def settle(page, ms: int = 1500, *, network: bool = True) -> None:
    """Wait for the page's requests (unless it polls for ever, like MLflow's) and for its animations to finish."""
    if network:
        page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(ms)


# The pictures: each opens its page and returns a one-line description of what it shows.


def dag_graph(ctx: Context) -> str:
    runs = ctx.airflow_api(f"/api/v2/dags/{ctx.dag_id}/dagRuns?order_by=-run_after&limit=1")["dag_runs"]
    if not runs:
        raise Skip(f"{ctx.dag_id} has no run")
    run_id = runs[0]["dag_run_id"]
    ctx.page.goto(f"{ctx.airflow}/dags/{ctx.dag_id}/runs/{urllib.parse.quote(run_id)}")
    ctx.page.locator(".react-flow__node").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    settle(ctx.page)
    # The graph across the whole width: the run's details panel closed, the graph fitted anew.
    ctx.page.get_by_role("button", name="Collapse Details Panel").click()
    ctx.page.wait_for_timeout(500)
    ctx.page.get_by_role("button", name="Fit View").click()
    settle(ctx.page)
    return f"{ctx.dag_id}, run {run_id} ({runs[0]['state']})"


def assets(ctx: Context) -> str:
    total = ctx.airflow_api("/api/v2/assets?limit=1")["total_entries"]
    if not total:
        raise Skip("no assets")
    ctx.page.goto(f"{ctx.airflow}/assets")
    ctx.page.get_by_role("table").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    settle(ctx.page)
    return f"{total} assets"


def required_actions(ctx: Context) -> str:
    waiting = ctx.airflow_api("/api/v2/dags/~/dagRuns/~/hitlDetails?response_received=false&limit=1")
    if not waiting["total_entries"]:
        raise Skip(
            "no approval waits: the demo runs in dev (auto-approve); one waits only after a train run"
            " in stage or prod whose challenger passed the gate"
        )
    ctx.page.goto(f"{ctx.airflow}/required_actions?response_received=false")
    ctx.page.get_by_role("table").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    settle(ctx.page)
    return f"{waiting['total_entries']} waiting"


def _champion(ctx: Context) -> dict:
    try:
        return ctx.mlflow_api("registered-models/alias", name=MODEL, alias="champion")["model_version"]
    except urllib.error.HTTPError as exc:
        raise Skip(f"no champion of {MODEL} in {ctx.mlflow} ({exc.code})") from exc


def mlflow_run(ctx: Context) -> str:
    version = _champion(ctx)
    run = ctx.mlflow_api("runs/get", run_id=version["run_id"])["run"]
    experiment = run["info"]["experiment_id"]
    ctx.page.goto(f"{ctx.mlflow}/#/experiments/{experiment}/runs/{run['info']['run_id']}/artifacts/plots/roc.png")
    ctx.page.locator("img[src*='roc.png'], img[alt*='roc']").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    settle(ctx.page, 3000, network=False)
    return f"{MODEL} v{version['version']} (champion), run {run['info']['run_name']}"


def mlflow_registry(ctx: Context) -> str:
    version = _champion(ctx)
    ctx.page.goto(f"{ctx.mlflow}/#/models/{MODEL}")
    ctx.page.get_by_text("champion").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    settle(ctx.page, 3000, network=False)
    return f"{MODEL}, champion v{version['version']}"


def drift_report(ctx: Context) -> str:
    days = sorted((ctx.lake / "reports" / "drift" / MODEL).glob("ds=*/report.html"))
    if not days:
        raise Skip(f"no drift report under {ctx.lake}/reports/drift/{MODEL}: run monitor_{MODEL}")
    ctx.page.goto(days[-1].as_uri())
    settle(ctx.page, 4000)
    return str(days[-1].relative_to(ctx.lake))


def data_docs(ctx: Context) -> str:
    import psycopg

    conn = ctx.settings.connections["ml_postgres"]
    with psycopg.connect(
        host=conn.host, port=conn.port, user=conn.login, password=conn.password, dbname=conn.schema
    ) as db:
        row = db.execute(
            """select dataset, ds, data_docs_uri from ml.data_quality_runs
               where not success and data_docs_uri like %s order by validated_at desc limit 1""",
            [f"{ctx.lake.as_uri()}/%"],
        ).fetchone()
    if row is None:
        raise Skip(f"no quarantined delivery with Data Docs in {ctx.lake}")
    dataset, ds, uri = row
    ctx.page.goto(uri)
    settle(ctx.page)
    # Only the failed expectations: the reason for the quarantine under the page's overview.
    ctx.page.get_by_text("Failed Only", exact=True).click()
    ctx.page.mouse.move(0, VIEWPORT["height"] // 2)
    settle(ctx.page)
    return f"{dataset} ds={ds}"


PICTURES: dict[str, tuple[str, Callable[[Context], str]]] = {
    "dag-graph": ("airflow-dag-graph.png", dag_graph),
    "assets": ("airflow-assets.png", assets),
    "required-actions": ("airflow-required-actions.png", required_actions),
    "mlflow-run": ("mlflow-run-plots.png", mlflow_run),
    "mlflow-registry": ("mlflow-registry.png", mlflow_registry),
    "drift-report": ("evidently-drift-report.png", drift_report),
    "data-docs": ("gx-data-docs-quarantine.png", data_docs),
}


def init_script(airflow: str, mlflow: str) -> str:
    """Browser settings for a clean first visit: Airflow's DAG page opens on the graph; MLflow opens in its
    model-training view with the assistant panel closed."""
    settings = {
        airflow: {"default_dag_view": "graph"},
        mlflow: {
            "mlflow.workflowType_v1": "machine_learning",
            "mlflow.assistant.panelOpen_v1": False,
            "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": True,
        },
    }
    stored = {origin: {k: json.dumps(v) for k, v in items.items()} for origin, items in settings.items()}
    return (
        f"const settings = {json.dumps(stored)}[window.location.origin] || {{}};"
        " for (const [key, value] of Object.entries(settings)) window.localStorage.setItem(key, value);"
    )


def lake_folder(uri: str) -> Path:
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme != "file":
        raise PictureError(f"the lake {uri} is not a file:// lake: the report pictures read it from disk")
    return Path(urllib.parse.unquote(parts.path))


def take(names: list[str], out: Path, airflow_home: Path, lake: Path, dag_id: str) -> int:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    settings = airflow_settings.load()
    mlflow = settings.connections["mlflow_default"]
    mlflow_url = f"{mlflow.schema or 'http'}://{mlflow.host}:{mlflow.port}"
    failed = 0
    with api_server(airflow_home) as (airflow, env), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport=VIEWPORT, device_scale_factor=1, color_scheme="light", locale="en-US", timezone_id="UTC"
            )
            network = LocalOnly(lake)
            context.route("**/*", network)
            context.add_init_script(init_script(airflow, mlflow_url))
            page = context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            login(page, airflow, env)
            ctx = Context(page, airflow, api_token(env), mlflow_url, lake, dag_id, settings)
            for name in names:
                filename, picture = PICTURES[name]
                try:
                    what = picture(ctx)
                except Skip as skip:
                    print(f"  skipped {name}: {skip}", flush=True)
                    continue
                except (PlaywrightError, PictureError, OSError) as exc:
                    failed += 1
                    print(f"  FAILED {name}: {exc}".splitlines()[0], flush=True)
                    page.screenshot(path=str(LOG.parent / f"doc-pictures-failed-{name}.png"))
                    continue
                size = save_png(page.screenshot(), out / filename)
                print(f"  {out / filename}: {size // 1024} KB, {what}", flush=True)
                if network.vendored:
                    print(f"    {len(network.vendored)} CDN files served from their npm packages", flush=True)
                if network.blocked:
                    print(f"    blocked requests to {', '.join(sorted(network.blocked))}", flush=True)
                network.vendored.clear()
                network.blocked.clear()
        finally:
            browser.close()
    return failed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(PICTURES), help=f"comma-separated, of: {', '.join(PICTURES)}")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "pictures")
    parser.add_argument("--airflow-home", type=Path, default=Path(os.environ.get("AIRFLOW_HOME", LOCAL / "airflow")))
    parser.add_argument("--lake", help="the lake's file:// URI (default: the lake_root variable)")
    parser.add_argument("--dag", default=f"train_{MODEL}", help="the DAG whose latest run's graph is shown")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    if unknown := [n for n in names if n not in PICTURES]:
        parser.error(f"unknown pictures {unknown}; known: {', '.join(PICTURES)}")
    if not Path(CHROMIUM).exists():
        print(f"doc_pictures: no {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 1
    try:
        lake = lake_folder(args.lake or airflow_settings.load().variables["lake_root"])
        failed = take(names, args.out, args.airflow_home.resolve(), lake, args.dag)
    except PictureError as exc:
        print(f"doc_pictures: {exc}", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
