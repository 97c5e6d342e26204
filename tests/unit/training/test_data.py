"""Reading the training set (Parquet or lake partitions, with checksums), features and the out-of-time split."""

from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from include import lake as lk
from include.training.data import TrainingDataError, feature_spec, out_of_time_split, read_training_set


def test_parquet_source_is_read_with_a_checksum_that_follows_the_bytes(tmp_path, frame):
    path = tmp_path / "set.parquet"
    frame.to_parquet(path)
    first, again = read_training_set([str(path)]), read_training_set([f"file://{path}"])
    assert first.rows == len(frame)
    assert first.checksum == read_training_set([str(path)]).checksum
    assert again.frame["ds"].dtype.kind == "M"
    frame.assign(utilization_last=frame["utilization_last"] + 0.01).to_parquet(path)
    assert read_training_set([str(path)]).checksum != first.checksum


def test_lake_partitions_are_read_through_their_manifests(tmp_path, frame):
    lake = lk.Lake.from_uri(f"file://{tmp_path}")
    uris = []
    for ds, part in frame.groupby(frame["ds"].dt.date):
        ref = lake.partition("features", "small_default", "v2", ds=ds)
        lk.write_partition(
            lake, ref, pa.Table.from_pandas(part, preserve_index=False), source_position={}, written_by={"test": "1"}
        )
        uris.append(ref.uri)
    training_set = read_training_set(uris, lake)
    assert training_set.rows == len(frame)
    manifests = [lk.read_manifest(lake, lake.partition_from_uri(u)).content_sha256 for u in uris]
    assert list(training_set.source_checksums.values()) == manifests


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.drop(columns="label"), r"missing column\(s\) \['label'\]"),
        (lambda f: f.assign(label=f["label"] * 2), r"column 'label' holds \[0, 2\]"),
    ],
)
def test_a_training_set_that_breaks_the_contract_fails_naming_the_source(tmp_path, frame, change, expected):
    path = tmp_path / "bad.parquet"
    change(frame).to_parquet(path)
    with pytest.raises(TrainingDataError, match=rf"training set {path}: {expected}"):
        read_training_set([str(path)])


def test_missing_source_fails_naming_it(tmp_path):
    with pytest.raises(TrainingDataError, match=r"nothing\.parquet: no such file"):
        read_training_set([str(tmp_path / "nothing.parquet")])


def test_features_are_all_columns_but_keys_label_and_excluded(frame, config):
    spec = feature_spec(frame, config)
    assert "employment_status" in spec.categorical
    assert not {"account_id", "ds", "label", "region"} & set(spec.columns)
    assert set(spec.numeric) == set(frame.select_dtypes("number").columns) - {"account_id", "label"}


def test_the_split_is_out_of_time_by_month(split):
    assert split.months == {
        "train": ["2026-04", "2026-05", "2026-06", "2026-07"],
        "validate": ["2026-08"],
        "test": ["2026-09"],
    }
    assert split.train["ds"].max() < split.validate["ds"].min() <= split.validate["ds"].max() < split.test["ds"].min()


def test_an_explicit_reference_month_moves_the_split(frame, config):
    split = out_of_time_split(frame, config.split, reference_month="2026-09")
    assert split.months["test"] == ["2026-08"] and split.months["validate"] == ["2026-07"]


def test_an_empty_split_names_the_months(frame, config):
    with pytest.raises(TrainingDataError, match=r"the test split is empty .*test 2026-10.*2026-04\.\.2026-09"):
        out_of_time_split(frame, config.split, reference_month="2026-11")


def test_a_split_with_one_label_value_fails(frame, config):
    only_good = frame.assign(label=lambda f: f["label"].where(f["ds"] < pd.Timestamp(date(2026, 9, 1)), 0))
    with pytest.raises(TrainingDataError, match="test split has only one value of 'label'"):
        out_of_time_split(only_good, config.split)
