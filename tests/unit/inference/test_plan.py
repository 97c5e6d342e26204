"""Which days a scoring or monitoring run works on, and where it reads and writes."""

from datetime import date

import pyarrow as pa
import pytest

from include.inference.plan import (
    InferenceError,
    dates_to_process,
    latest_predictions_day,
    latest_scoring_day,
    predictions_partition,
    scoring_dataset,
    scoring_partition,
)
from include.lake import write_partition


def _never() -> date:
    raise AssertionError("the lake must not be listed when the day is known")


def test_the_requested_day_wins_over_events_and_the_lake():
    assert dates_to_process("2026-11-21", [{"ds": "2026-11-20"}], _never, "scores") == ["2026-11-21"]


def test_without_a_request_the_triggering_events_name_the_days_once_each_oldest_first():
    events = [{"ds": "2026-11-21"}, {"ds": "2026-11-20"}, {"ds": "2026-11-21"}, {}]
    assert dates_to_process(None, events, _never, "scores") == ["2026-11-20", "2026-11-21"]


def test_without_request_or_event_day_the_latest_committed_day_is_processed():
    assert dates_to_process("", [{"uri": "x"}], lambda: date(2026, 11, 19), "scores") == ["2026-11-19"]


def test_nothing_to_process_and_a_malformed_day_fail_naming_what():
    with pytest.raises(InferenceError, match=r"^model m: scoring set s: no committed partition yet"):
        dates_to_process(None, [], lambda: None, "model m: scoring set s")
    with pytest.raises(InferenceError, match=r"scores: ds '21\.11\.2026' is not a YYYY-MM-DD date"):
        dates_to_process("21.11.2026", [], _never, "scores")


def test_a_model_reads_its_feature_sets_scoring_partition_and_writes_predictions_under_its_name(config, lake):
    assert scoring_dataset(config) == "small_default_scoring"
    assert scoring_partition(config, lake, "2026-12-01").relative == "features/small_default_scoring/v2/ds=2026-12-01"
    assert predictions_partition(config, lake, "2026-12-01").relative == "predictions/small_default/ds=2026-12-01"


def test_the_latest_days_are_the_newest_committed_partitions(config, lake):
    assert latest_scoring_day(config, lake) is None and latest_predictions_day(config, lake) is None
    table = pa.table({"account_id": pa.array([1], pa.int64())})
    for day in ("2026-12-02", "2026-12-01"):
        write_partition(lake, scoring_partition(config, lake, day), table, source_position={}, written_by={})
    write_partition(lake, predictions_partition(config, lake, "2026-11-30"), table, source_position={}, written_by={})
    assert latest_scoring_day(config, lake) == date(2026, 12, 2)
    assert latest_predictions_day(config, lake) == date(2026, 11, 30)
