"""Batch inference and monitoring against the real services: Postgres (a scratch `ml` database),
the MLflow server, Airflow itself (`bin/airflow dags test`), a Slack Web API double and an
SMTP server on loopback.

Each test model is the fixture YAML under a name of its own, in a models folder of its own
(`PLATFORM_MODELS_DIR`), trained on a small synthetic training set in a temporary lake:
registry entries, Asset names and Postgres rows never collide with other tests. Days:
- 2026-12-01: a fresh draw of the training population (normal);
- 2026-12-02: a downturn: incomes x1.8, utilisation +0.35, cash advances +0.1, declines +0.05,
  bureau scores -60 (5 of the model's 9 features; the YAML's drift_share is 0.5).
Matured labels for both days are the training set's 2026-09-01 partition (60-day label).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import psycopg
import pyarrow as pa
import pytest
import yaml
from mlflow import MlflowClient

from include import lake as lk
from include import migrations
from include.inference import ChampionNotFoundError, score_day
from include.lake import detect_code_version
from include.models import load_model
from include.monitoring import monitor_day
from include.monitoring.monitor import claim_retrain_signal
from include.monitoring.store import actions
from include.training import pipeline, tracking
from include.training.synthetic import publish_to_lake, synthetic_training_set
from include.training.workflow import locate_training_set
from tests.conftest import ROOT, airflow_subprocess_env, scratch_database
from tests.integration.test_alerting import alert_env, slack, smtp_server  # noqa: F401 (fixtures used below)

pytestmark = [pytest.mark.integration, pytest.mark.airflow]

FIXTURE_MODEL = ROOT / "tests" / "fixtures" / "models" / "small_default.yaml"
NORMAL, DRIFTED = "2026-12-01", "2026-12-02"


@pytest.fixture(scope="module")
def ml_postgres(settings):
    """A scratch database with the `ml` migrations; libpq URI."""
    with scratch_database(settings, "ml_inference") as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as pg:
            migrations.apply(pg, "ml")
        params = psycopg.conninfo.conninfo_to_dict(conninfo)
        yield f"postgresql://{params['user']}@{params['host']}:{params['port']}/{params['dbname']}"


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> lk.Lake:
    """The training set (6 months) and two scoring days, as the feature pipeline lays them out."""
    lake = lk.Lake.from_uri(f"file://{tmp_path_factory.mktemp('lake')}")
    publish_to_lake(synthetic_training_set(6_000, seed=5), lake, "small_default_training", "v2")
    for day, seed, shift in ((NORMAL, 11, 0.0), (DRIFTED, 12, 1.0)):
        frame = synthetic_training_set(3_000, seed=seed).drop(columns=["label"])
        frame["income"] *= 1 + 0.8 * shift
        frame["utilization_last"] += 0.35 * shift
        frame["cash_advance_share_90d"] += 0.1 * shift
        frame["declined_share_90d"] += 0.05 * shift
        frame["bureau_score"] -= 60 * shift
        frame["ds"] = pd.Timestamp(day)
        ref = lake.partition("features", "small_default_scoring", "v2", ds=day)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        lk.write_partition(lake, ref, table, source_position={"synthetic": True}, written_by={"dag_id": "test"})
    return lake


def new_model(folder: Path, prefix: str):
    """The fixture YAML under a unique name, alone in `folder`; returns its config."""
    body = yaml.safe_load(FIXTURE_MODEL.read_text())
    body["name"] = f"{prefix}_{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{body['name']}.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return load_model(path)


def train(config, lake, tracking_uri, sources=None) -> str:
    """Train and register a LightGBM version on the lake's training set (or `sources`); returns its version."""
    lineage = tracking.Lineage(code_version=detect_code_version(), feature_set_version="v2", dag_id="test")
    sources = sources or locate_training_set(config, lake)["sources"]
    return pipeline.train_and_log(config, sources, "lightgbm", lineage, lake=lake, tracking_uri=tracking_uri)["version"]


@pytest.fixture(scope="module")
def model(tmp_path_factory, lake, tracking_uri):
    """A model whose champion is a good LightGBM version; its own models folder."""
    folder = tmp_path_factory.mktemp("models")
    config = new_model(folder, "inftest")
    tracking.promote(config.name, train(config, lake, tracking_uri), tracking_uri)
    return config, folder


def dags_test(dag_id: str, lake: lk.Lake, models: Path, ml_postgres: str, conf: dict, **env: str):
    return subprocess.run(
        [str(ROOT / "bin" / "airflow"), "dags", "test", dag_id, "-c", json.dumps(conf)],
        env=airflow_subprocess_env(
            AIRFLOW_VAR_LAKE_ROOT=lake.root_uri,
            PLATFORM_MODELS_DIR=str(models),
            AIRFLOW_CONN_ML_POSTGRES=ml_postgres,
            **env,
        ),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def scores(ml_postgres: str, model: str, day: str) -> list[tuple]:
    with psycopg.connect(ml_postgres) as pg:
        return pg.execute(
            "select account_id, probability, model_version from ml.scores "
            "where model = %s and score_date = %s order by account_id",
            [model, day],
        ).fetchall()


def asset_events(name: str) -> list[dict]:
    """Events of the Asset `name` in the test Airflow's metadata database."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
        return [dict(e.extra or {}) for e in rows.filter(AssetModel.name == name)]


def monitor(config, day: str, ml_postgres: str, lake: lk.Lake, tracking_uri: str, notify) -> dict:
    return monitor_day(config, day, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri, notify=notify)


class Notices:
    """A `notify` for in-process runs: keeps each alert."""

    def __init__(self):
        self.sent: list[str] = []

    def __call__(self, subject: str, text: str, html: str) -> list[str]:
        self.sent.append(subject)
        return ["test"]


def test_scoring_a_day_through_airflow_then_again_leaves_one_row_per_account_with_the_champions_version(
    airflow_db, ml_postgres, lake, model, tracking_uri
):
    config, folder = model
    champion = tracking.alias_version(config.name, tracking.CHAMPION)
    result = dags_test(f"score_{config.name}", lake, folder, ml_postgres, {"ds": NORMAL})
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]

    features = lk.read_partition(lake, lake.partition("features", "small_default_scoring", "v2", ds=NORMAL))
    first = scores(ml_postgres, config.name, NORMAL)
    assert [r[0] for r in first] == sorted(features.column("account_id").to_pylist())
    assert {r[2] for r in first} == {champion} and all(0 <= r[1] <= 1 for r in first)
    predictions = lake.partition("predictions", config.name, ds=NORMAL)
    manifest = lk.read_manifest(lake, predictions)
    assert manifest.row_count == len(first) and manifest.extra["model_version"] == champion
    assert manifest.source_position["features"].endswith("features/small_default_scoring/v2/ds=2026-12-01")
    lake_rows = lk.read_partition(lake, predictions).to_pandas().sort_values("account_id")
    columns = (lake_rows["account_id"], lake_rows["probability"], lake_rows["model_version"])
    assert list(zip(*columns, strict=True)) == first
    assert asset_events(f"lake/predictions/{config.name}") == [{"ds": NORMAL, "model_version": champion}]

    again = score_day(config, NORMAL, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri)
    assert again["rows_scored"] == len(first) and again["postgres"] == {"rows": len(first), "replaced": len(first)}
    assert scores(ml_postgres, config.name, NORMAL) == first


def test_a_normal_day_records_its_metrics_and_report_without_alert_or_signal(ml_postgres, lake, model, tracking_uri):
    config, _ = model
    notices = Notices()
    summary = monitor_day(
        config, NORMAL, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri, notify=notices
    )
    assert not summary["drift_detected"] and summary["actions"] == [] and notices.sent == []
    assert not claim_retrain_signal(ml_postgres, summary, "test")
    assert summary["performance"]["roc_auc"] > config.monitoring.performance_floor
    assert summary["performance_labels"].endswith("small_default_training/v2/ds=2026-09-01")
    # Matured labels of the champion's own test month: its test-time baseline again.
    assert summary["performance"]["roc_auc"] == pytest.approx(summary["baseline"]["roc_auc"], abs=1e-9)
    with psycopg.connect(ml_postgres) as pg:
        metrics = dict(
            pg.execute(
                "select metric, value from ml.monitoring_metrics where model = %s and metric_date = %s",
                [config.name, NORMAL],
            ).fetchall()
        )
    assert metrics["drift.share"] == summary["drift_share"] == 0.0
    for name in ("performance.roc_auc", "performance.gini", "performance.ks", "baseline.roc_auc", "prediction.mean"):
        assert name in metrics
    folder = Path(summary["report"].removeprefix("file://")).parent
    assert (folder / "report.html").stat().st_size > 100_000 and (folder / "trend.png").exists()
    run = MlflowClient().get_run(summary["mlflow_run_id"])
    assert run.data.tags["monitoring_date"] == NORMAL and run.data.metrics["drift.share"] == 0.0
    assert {a.path for a in MlflowClient().list_artifacts(run.info.run_id, "monitoring")} == {
        "monitoring/report.html",
        "monitoring/trend.png",
    }


def test_a_drifted_day_alerts_by_slack_and_email_and_schedules_training_once(
    airflow_db,
    ml_postgres,
    lake,
    model,
    tracking_uri,
    slack,  # noqa: F811 (the imported fixture)
    smtp_server,  # noqa: F811
):
    config, folder = model
    mail, smtp_port = smtp_server
    score_day(config, DRIFTED, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri)
    env = alert_env(slack, smtp_port, "risk-oncall@bank.test", "#model-monitoring")
    result = dags_test(f"monitor_{config.name}", lake, folder, ml_postgres, {"ds": DRIFTED}, **env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]

    (post,) = [c["body"] for c in slack.calls if c["method"] == "chat.postMessage"]
    assert post["channel"] == "#model-monitoring"
    assert f"[monitoring] {config.name} v1: data drift on {DRIFTED}" in post["text"]
    assert "Top drifted features: " in post["text"] and "income (wasserstein" in post["text"]
    assert f"reports/drift/{config.name}/ds={DRIFTED}/report.html" in post["text"]
    (message,) = mail.messages
    assert message["Subject"] == f"[monitoring] {config.name} v1: data drift on {DRIFTED}"
    # The Asset train_<model> is scheduled on (tests/dags/test_score_models.py checks that wiring).
    (signal,) = asset_events(f"lake/signals/drift/{config.name}")
    assert signal["ds"] == DRIFTED and signal["drift_share"] >= config.monitoring.drift_share
    recorded = actions(ml_postgres, config.name, pd.Timestamp(DRIFTED).date())
    assert {a: r["status"] for a, r in recorded.items()} == {"drift_alert": "done", "retrain_signal": "done"}
    assert recorded["drift_alert"]["detail"]["channels"] == ["slack", "email"]

    # The same day again: measured again, but no second alert and no second signal.
    notices = Notices()
    summary = monitor_day(
        config, DRIFTED, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri, notify=notices
    )
    assert summary["drift_detected"] and summary["planned"] == ["drift_alert"]
    assert summary["actions"] == [] and notices.sent == []
    assert not claim_retrain_signal(ml_postgres, summary, "test-rerun")


def test_a_degraded_champion_is_rolled_back_to_the_previous_one_once(tmp_path, ml_postgres, lake, tracking_uri):
    config = new_model(tmp_path / "models", "rollback")
    good = train(config, lake, tracking_uri)
    # A version trained on shuffled labels has learned nothing: ROC AUC ~0.5 on any month.
    shuffled = synthetic_training_set(6_000, seed=5)
    shuffled["label"] = shuffled["label"].sample(frac=1, random_state=1).to_numpy()
    shuffled.to_parquet(tmp_path / "shuffled.parquet")
    bad = train(config, lake, tracking_uri, sources=[str(tmp_path / "shuffled.parquet")])
    tracking.promote(config.name, good, tracking_uri)
    tracking.promote(config.name, bad, tracking_uri)
    score_day(config, NORMAL, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri)

    notices = Notices()
    summary = monitor_day(
        config, NORMAL, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri, notify=notices
    )
    assert summary["model_version"] == bad and summary["performance"]["roc_auc"] < config.monitoring.performance_floor
    (action,) = summary["actions"]
    assert action["action"] == "rollback" and action["from_version"] == bad and action["to_version"] == good
    assert notices.sent == [f"[monitoring] {config.name} v{bad}: champion rolled back on {NORMAL}"]
    assert tracking.alias_version(config.name, tracking.CHAMPION) == good
    demoted = MlflowClient().get_model_version(config.name, bad)
    assert demoted.tags["rolled_back"] == "true" and demoted.tags["rolled_back_on"] == NORMAL
    assert "performance_floor" in demoted.tags["rollback_reason"]
    run = MlflowClient().get_run(summary["mlflow_run_id"])
    assert run.data.tags["action.rollback"] == f"v{bad} -> v{good}"
    recorded = actions(ml_postgres, config.name, pd.Timestamp(NORMAL).date())
    assert recorded["rollback"]["status"] == "done" and recorded["rollback"]["detail"]["to_version"] == good

    # Re-run: the day's row says it is done, so nothing moves and nobody is told twice.
    again = monitor(config, NORMAL, ml_postgres, lake, tracking_uri, notices)
    assert again["actions"] == [] and len(notices.sent) == 1
    assert tracking.alias_version(config.name, tracking.CHAMPION) == good


def test_scoring_without_a_champion_fails_at_once_naming_the_model(
    airflow_db, tmp_path, ml_postgres, lake, tracking_uri
):
    config = new_model(tmp_path / "models", "nochamp")
    with pytest.raises(ChampionNotFoundError, match=rf"^model {config.name}: the MLflow registry has no 'champion'"):
        score_day(config, NORMAL, lake=lake, postgres_uri=ml_postgres, tracking_uri=tracking_uri)
    result = dags_test(f"score_{config.name}", lake, tmp_path / "models", ml_postgres, {"ds": NORMAL})
    output = result.stdout + result.stderr
    assert f"model {config.name}: the MLflow registry has no 'champion' alias" in output, output[-5000:]
    assert "AirflowFailException" in output and "up_for_retry" not in output
    assert scores(ml_postgres, config.name, NORMAL) == []
