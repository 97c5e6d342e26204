"""Model YAMLs: the real ones load, a second model is one more file, and malformed ones fail naming file and field."""

from pathlib import Path

import pytest
import yaml

from include.models import MODELS_DIR, ModelConfigError, load_model, load_models

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models"


def test_every_model_in_the_project_folder_loads():
    models = load_models()
    assert [m.name for m in models] == sorted(p.stem for p in MODELS_DIR.glob("*.yaml"))
    credit = next(m for m in models if m.name == "credit_default")
    assert {a.name for a in credit.algorithms} == {"lightgbm", "pytorch_mlp"}
    assert credit.algorithm("pytorch_mlp").queue == "gpu"
    assert not credit.needs_human_approval("dev")
    assert credit.needs_human_approval("prod")


def test_a_second_model_is_one_yaml_file_in_the_folder_given():
    models = load_models(FIXTURES)
    assert [m.name for m in models] == ["small_default"]
    small = models[0]
    assert small.feature_set.version_tag == "v2"
    assert [a.name for a in small.algorithms] == ["lightgbm"]
    assert small.split.train_until_months_before == 3  # defaults apply to what the file leaves out
    assert (small.schedule.deadline_hours.scoring, small.schedule.deadline_hours.monitoring) == (1.5, 0.5)


def _write(tmp_path: Path, body: dict, name: str = "credit_default") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def _valid() -> dict:
    return yaml.safe_load((MODELS_DIR / "credit_default.yaml").read_text())


@pytest.mark.parametrize(
    ("mutate", "field", "expected"),
    [
        (lambda b: b["thresholds"].update(min_roc_auc="high"), "thresholds.min_roc_auc", "expected a number"),
        (lambda b: b["thresholds"].pop("min_uplift"), "thresholds.min_uplift", "missing"),
        (lambda b: b["feature_set"].update(version=0), "feature_set.version", "expected an integer >= 1"),
        (lambda b: b["algorithms"].update(xgboost={}), "algorithms.xgboost", "unknown algorithm"),
        (lambda b: b["algorithms"]["lightgbm"].update(paramz={}), "algorithms.lightgbm", "unknown field(s) ['paramz']"),
        (lambda b: b["environments"]["prod"].update(approval="maybe"), "environments.prod.approval", "expected one of"),
        (lambda b: b["environments"]["prod"].pop("approvers"), "environments.prod.approvers", "missing"),
        (lambda b: b["split"].update(validate_months_before=5), "split", "out of time"),
        (lambda b: b.update(owners=[]), "owners", "at least one"),
        (lambda b: b["behaviour"].update(increasing=["region"]), "behaviour.increasing", "feature_set.exclude"),
        (lambda b: b["monitoring"].update(performance_floor=0.9), "monitoring.performance_floor", "above"),
        (lambda b: b["monitoring"].update(sample_rows=10), "monitoring.sample_rows", "expected an integer >= 1000"),
        (lambda b: b.update(schedul={}), "<top level>", "unknown field(s) ['schedul']"),
        (lambda b: b["schedule"].update(training="monthly"), "schedule.training", "expected a cron expression"),
        (lambda b: b["schedule"].update(inference="@daily"), "schedule", "unknown field(s) ['inference']"),
        (lambda b: b["schedule"].pop("deadline_hours"), "schedule.deadline_hours", "missing"),
        (lambda b: b["schedule"]["deadline_hours"].pop("scoring"), "schedule.deadline_hours.scoring", "missing"),
        (
            lambda b: b["schedule"]["deadline_hours"].update(training=0),
            "schedule.deadline_hours.training",
            "expected a number in [0.05, 192]",
        ),
        (
            lambda b: b["schedule"]["deadline_hours"].update(backfill=1),
            "schedule.deadline_hours",
            "unknown field(s) ['backfill']",
        ),
        (lambda b: b.update(name="other_name"), "name", "must equal the file name"),
        (lambda b: b.pop("label"), "label", "missing"),
        (lambda b: b.update(label="default flag"), "label", "expected a mapping"),
    ],
)
def test_a_malformed_model_yaml_fails_naming_the_file_and_the_field(tmp_path, mutate, field, expected):
    body = _valid()
    mutate(body)
    with pytest.raises(ModelConfigError) as error:
        load_model(_write(tmp_path, body))
    message = str(error.value)
    assert message.startswith(f"credit_default.yaml: {field}:"), message
    assert expected in message


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ModelConfigError, match=r"^broken\.yaml: not valid YAML"):
        load_model(path)


def test_one_bad_file_fails_the_whole_folder_with_its_name(tmp_path):
    _write(tmp_path, _valid())
    bad = _valid()
    bad["name"] = "zz_bad"
    bad["seed"] = -1
    _write(tmp_path, bad, name="zz_bad")
    with pytest.raises(ModelConfigError, match=r"^zz_bad\.yaml: seed: expected an integer >= 0"):
        load_models(tmp_path)
