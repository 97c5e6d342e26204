"""One features batch in, one predictions batch out: the model's PD, the day and the version on every row."""

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from include.inference.plan import InferenceError
from include.inference.scoring import PREDICTIONS_SCHEMA, score_batch
from include.inference.store import csv_rows
from include.training.synthetic import synthetic_training_set


@pytest.fixture(scope="module")
def features() -> pa.RecordBatch:
    frame = synthetic_training_set(500, seed=9).drop(columns=["label"])
    return pa.RecordBatch.from_pandas(frame, preserve_index=False)


def test_a_batch_is_scored_with_the_models_own_probabilities(model, features):
    out = score_batch(model, features, date(2026, 12, 1), "7", "features/x/ds=2026-12-01")
    assert out.schema == PREDICTIONS_SCHEMA
    assert out.column("account_id").to_pylist() == features.column("account_id").to_pylist()
    expected = model.predict_proba(features.to_pandas())
    np.testing.assert_array_equal(out.column("probability").to_numpy(), expected)
    assert set(out.column("model_version").to_pylist()) == {"7"}
    assert set(out.column("ds").to_pylist()) == {date(2026, 12, 1)}


def test_an_empty_batch_gives_an_empty_predictions_batch(model, features):
    out = score_batch(model, features.slice(0, 0), date(2026, 12, 1), "7", "features/x/ds=2026-12-01")
    assert out.num_rows == 0 and out.schema == PREDICTIONS_SCHEMA


class _OutOfRange:
    """A model whose output is not a probability for every third row."""

    def predict_proba(self, frame):
        p = np.full(len(frame), 0.2)
        p[::3] = np.nan
        return p


def test_a_prediction_outside_zero_one_fails_naming_the_partition_and_accounts(features):
    with pytest.raises(InferenceError) as error:
        score_batch(_OutOfRange(), features, date(2026, 12, 1), "7", "features/x/ds=2026-12-01")
    message = str(error.value)
    assert message.startswith("features/x/ds=2026-12-01: 167 of 500 predictions are not a probability in [0, 1]")
    assert "e.g. accounts [1, 4, 7, 10, 13]" in message


def test_the_copy_payload_is_the_account_and_probability_columns_as_exact_csv(model, features):
    out = score_batch(model, features, date(2026, 12, 1), "7", "features/x/ds=2026-12-01")
    names = ["account_id", "probability"]
    read = pacsv.read_csv(pa.py_buffer(csv_rows(out)), pacsv.ReadOptions(column_names=names))
    assert read.column("account_id").to_pylist() == out.column("account_id").to_pylist()
    assert read.column("probability").to_pylist() == out.column("probability").to_pylist()
