"""The drift reference: a uniform sample over the champion's training sources, read one source at a time."""

import pandas as pd
import pytest

from include.monitoring.reference import ReferenceDataError, sample_sources
from include.training.synthetic import synthetic_training_set


@pytest.fixture
def sources(tmp_path):
    frame = synthetic_training_set(3_000, months=3, seed=4)
    paths = []
    for index, (_, part) in enumerate(frame.groupby("ds")):
        paths.append(str(tmp_path / f"part{index}.parquet"))
        part.to_parquet(paths[-1])
    return tuple(paths), frame


def test_a_small_training_set_is_taken_whole(sources):
    paths, frame = sources
    sample, total = sample_sources(paths, None, sample_rows=10_000, seed=1)
    assert total == len(sample) == len(frame)
    assert sorted(sample["account_id"]) == sorted(frame["account_id"])


def test_a_large_one_is_sampled_in_proportion_to_each_source(sources):
    paths, frame = sources
    sample, total = sample_sources(paths, None, sample_rows=1_000, seed=1)
    assert total == 3_000 and abs(len(sample) - 1_000) <= 2
    shares = sample["ds"].value_counts(normalize=True).sort_index()
    expected = frame["ds"].value_counts(normalize=True).sort_index()
    pd.testing.assert_series_equal(shares, expected, atol=0.002, check_names=False)
    assert sample["account_id"].is_unique
    again, _ = sample_sources(paths, None, sample_rows=1_000, seed=1)
    assert again["account_id"].tolist() == sample["account_id"].tolist()  # seeded


def test_a_vanished_source_fails_naming_it(tmp_path):
    with pytest.raises(ReferenceDataError, match=r"training source .*gone\.parquet: no such Parquet file"):
        sample_sources((str(tmp_path / "gone.parquet"),), None, sample_rows=10, seed=1)
