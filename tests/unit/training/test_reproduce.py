"""Reproduction from a recorded lineage: complete lineage, data still there, same metrics within tolerance.

The lineage is the one `tracking` writes to MLflow (`_lineage_record`), built here from a real
training run on a temporary lake; the MLflow round trip is in tests/integration/test_training_dags.py.
"""

import json

import pyarrow as pa
import pytest

from include import lake as lk
from include.training import reproduce, tracking
from include.training.data import out_of_time_split, read_training_set
from include.training.evaluation import evaluate
from include.training.synthetic import publish_to_lake
from include.training.trainers import train


@pytest.fixture(scope="module")
def trained(tmp_path_factory, config, frame, spec):
    lake = lk.Lake.from_uri(f"file://{tmp_path_factory.mktemp('lake')}")
    uris = publish_to_lake(frame, lake, "small_default_training", "v2")
    training_set = read_training_set(uris, lake)
    split = out_of_time_split(training_set.frame, config.split)
    model = train(config.algorithm("lightgbm"), split, spec, config.seed)
    metrics = evaluate(
        model, split.test, label="label", features=spec.columns, behaviour=config.behaviour, seed=config.seed
    ).metrics
    lineage = tracking.Lineage(code_version="0123abc", feature_set_version="v2", dag_id="train_small_default")
    record = json.loads(json.dumps(tracking._lineage_record(config, model, training_set, split, lineage)))
    return lake, reproduce.Recorded("small_default", "3", "run-1", record, metrics)


def with_lineage(recorded, **changes):
    return reproduce.Recorded(
        recorded.model_name, recorded.version, recorded.run_id, {**recorded.lineage, **changes}, recorded.metrics
    )


def test_a_retrain_from_the_lineage_recovers_the_metrics(trained, config):
    lake, recorded = trained
    reproduce.check_lineage(recorded)
    training_set = reproduce.rebuild_training_set(recorded, lake)
    comparison = reproduce.retrain_and_compare(recorded, training_set, config.behaviour)
    assert abs(comparison["delta"]["roc_auc"]) <= reproduce.TOLERANCE
    assert comparison["reproduced_metrics"]["roc_auc"] == pytest.approx(
        recorded.metrics["roc_auc"], abs=reproduce.TOLERANCE
    )
    report = reproduce.build_report(recorded, comparison)
    assert report["reproduced"] and report["code_version_recorded"] == "0123abc"
    assert report["sources"] == len(recorded.lineage["sources"])
    off = {**comparison, "delta": {**comparison["delta"], "roc_auc": 0.0051}}
    assert not reproduce.build_report(recorded, off)["reproduced"]


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"sources": {}}, "'sources'"),
        ({"seed": None, "params": {}}, "'params', 'seed'"),
        ({"code_version": "unknown"}, "recorded as 'unknown'"),
        ({"split_months": {"train": ["2026-04"], "validate": [], "test": ["2026-09"]}}, "split_months.validate"),
    ],
)
def test_an_incomplete_lineage_fails_naming_the_missing_fields(trained, changes, missing):
    _, recorded = trained
    with pytest.raises(reproduce.ReproductionError, match=r"small_default v3 \(run run-1\): lineage incomplete") as err:
        reproduce.check_lineage(with_lineage(recorded, **changes))
    assert missing in str(err.value)


def test_a_gone_partition_fails_naming_it_and_the_commit_to_rebuild_it_at(trained):
    lake, recorded = trained
    first = next(iter(recorded.lineage["sources"]))
    moved = with_lineage(recorded, sources={first.replace("/v2/", "/v9/"): "0" * 64, **recorded.lineage["sources"]})
    with pytest.raises(reproduce.ReproductionError, match=r"1 source partition\(s\) gone: .*/v9/ds=") as err:
        reproduce.rebuild_training_set(moved, lake)
    assert "at code commit 0123abc" in str(err.value)


def test_a_rewritten_partition_fails_naming_it(tmp_path, trained, frame):
    _, recorded = trained
    lake = lk.Lake.from_uri(f"file://{tmp_path}")
    uris = publish_to_lake(frame, lake, "small_default_training", "v2")
    sources = {u: lk.read_manifest(lake, lake.partition_from_uri(u)).content_sha256 for u in uris}
    last = lake.partition_from_uri(uris[-1])
    part = frame[frame["ds"].dt.date == last.ds].assign(label=0)
    lk.write_partition(lake, last, pa.Table.from_pandas(part, preserve_index=False), source_position={}, written_by={})
    with pytest.raises(reproduce.ReproductionError, match=rf"1 rewritten since training: {last.uri} \(sha256 now"):
        reproduce.rebuild_training_set(with_lineage(recorded, sources=sources), lake)
