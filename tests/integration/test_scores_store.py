"""`ml.scores` loads on a real Postgres: a day is replaced as a whole, or not at all."""

from datetime import date

import psycopg
import pyarrow as pa
import pytest

from include import migrations
from include.inference import InferenceError
from include.inference.scoring import PREDICTIONS_SCHEMA
from include.inference.store import ScoresLoad
from tests.conftest import scratch_database

pytestmark = pytest.mark.integration

DAY = date(2026, 12, 1)


@pytest.fixture
def ml_postgres(stack, settings):
    with scratch_database(settings, "ml_scores") as conninfo:
        with psycopg.connect(conninfo, autocommit=True) as pg:
            migrations.apply(pg, "ml")
        yield conninfo


def batch(accounts: list[int], probability: float, version: str) -> pa.RecordBatch:
    n = len(accounts)
    return pa.RecordBatch.from_pydict(
        {"account_id": accounts, "ds": [DAY] * n, "probability": [probability] * n, "model_version": [version] * n},
        schema=PREDICTIONS_SCHEMA,
    )


def load(uri: str, model: str, version: str, *batches: pa.RecordBatch, day: date = DAY) -> dict:
    with ScoresLoad(uri, model, day, version, f"run-{version}") as scores:
        for b in batches:
            scores.write(b)
        return scores.finish()


def rows(uri: str) -> list[tuple]:
    with psycopg.connect(uri) as pg:
        return pg.execute(
            "select model, score_date, account_id, probability, model_version, dag_run_id "
            "from ml.scores order by 1, 2, 3"
        ).fetchall()


def test_rescoring_replaces_the_days_rows_and_drops_accounts_no_longer_scored(ml_postgres):
    load(ml_postgres, "pd", "1", batch([1, 2], 0.1, "1"), batch([3], 0.2, "1"))
    load(ml_postgres, "pd", "1", batch([1], 0.5, "1"), day=date(2026, 12, 2))
    load(ml_postgres, "other", "9", batch([1], 0.9, "9"))
    counts = load(ml_postgres, "pd", "2", batch([2, 3, 4], 0.3, "2"))
    assert counts == {"rows": 3, "replaced": 3}
    assert rows(ml_postgres) == [
        ("other", DAY, 1, 0.9, "9", "run-9"),
        ("pd", DAY, 2, 0.3, "2", "run-2"),
        ("pd", DAY, 3, 0.3, "2", "run-2"),
        ("pd", DAY, 4, 0.3, "2", "run-2"),
        ("pd", date(2026, 12, 2), 1, 0.5, "1", "run-1"),
    ]


def test_a_duplicate_account_fails_naming_the_day_and_changes_nothing(ml_postgres):
    load(ml_postgres, "pd", "1", batch([1, 2], 0.1, "1"))
    before = rows(ml_postgres)
    with pytest.raises(InferenceError, match=r"model pd 2026-12-01: an account appears twice in the scoring set"):
        load(ml_postgres, "pd", "2", batch([1, 3], 0.4, "2"), batch([3], 0.4, "2"))
    assert rows(ml_postgres) == before


def test_a_load_that_fails_midway_leaves_the_day_as_it_was(ml_postgres):
    load(ml_postgres, "pd", "1", batch([1, 2], 0.1, "1"))
    before = rows(ml_postgres)
    with pytest.raises(RuntimeError, match="scoring crashed"), ScoresLoad(ml_postgres, "pd", DAY, "2", "r") as scores:
        scores.write(batch([5, 6], 0.7, "2"))
        raise RuntimeError("scoring crashed")
    assert rows(ml_postgres) == before
