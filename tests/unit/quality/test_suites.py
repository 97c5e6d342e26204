"""Suite files load, name every parameter they use, and resolve them from history and the lake."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from include import lake as lk
from include.quality import store
from include.quality.suites import SUITES_DIR, SuiteError, all_suites, load_suite, parse_suite
from include.quality.validate import default_interval, learned_bounds, reference_checks, resolve_parameters, volume_band

RAW_DATASETS = {
    "raw/core/customers",
    "raw/core/accounts",
    "raw/core/statements",
    "raw/core/repayments",
    "raw/partner/bureau",
    "raw/archive/transactions",
    "raw/cards/card_transactions",
}


def test_every_raw_dataset_has_a_suite_that_loads():
    assert {"/".join(s.dataset) for s in all_suites()} >= RAW_DATASETS


def test_columns_expand_into_an_exact_schema_check_and_one_type_check_per_column():
    suite = load_suite("raw/partner/bureau")
    configs = suite.expectation_configs()
    assert configs[0]["type"] == "expect_table_columns_to_match_set"
    assert configs[0]["kwargs"] == {"column_set": list(suite.columns), "exact_match": True}
    type_checks = [c for c in configs if c["type"] == "expect_column_values_to_be_in_type_list"]
    assert [c["kwargs"]["column"] for c in type_checks] == list(suite.columns)
    assert all(c["meta"]["id"] for c in configs)


def test_a_suite_using_an_unprovided_parameter_is_refused(tmp_path):
    body = {
        "dataset": "raw/x/y",
        "expectations": [
            {"id": "a", "type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": {"$PARAMETER": "nope"}}}
        ],
    }
    with pytest.raises(SuiteError, match=r"raw\.x\.y\.yaml: expectations use \$PARAMETER\(s\) \['nope'\]"):
        parse_suite(body, tmp_path / "raw.x.y.yaml")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"dataset": "raw/x/y", "columns": {"a": "decimal"}}, "column type"),
        ({"dataset": "raw/x/y", "expectations": [{"type": "expect_x"}]}, "needs an id"),
        ({"dataset": "raw/x/z"}, "file name must be raw.x.z.yaml"),
        ({"dataset": "raw/x/y", "parameters": {"p": {"kind": "magic"}}}, "needs a kind"),
    ],
)
def test_malformed_suites_are_refused_naming_the_file(tmp_path, body, problem):
    with pytest.raises(SuiteError, match=problem):
        parse_suite(body, tmp_path / "raw.x.y.yaml")


def test_an_unknown_dataset_names_the_suites_there_are():
    with pytest.raises(SuiteError, match=r"raw\.partner\.bureau"):
        load_suite("raw/partner/nothing")


def test_suite_files_are_where_the_loader_looks():
    assert all(Path(s.path).parent == SUITES_DIR for s in all_suites())


def _past(counts, observed=None):
    return [
        store.PastRun(date(2026, 1, i + 1), c, {"m": v} if observed else {})
        for i, (c, v) in enumerate(zip(counts, observed or [None] * len(counts), strict=True))
    ]


def test_volume_band_is_the_trailing_mean_times_one_minus_and_plus_the_band():
    spec = {"kind": "volume", "last": 3, "band": 0.5, "min_history": 3}
    assert volume_band(spec, _past([1, 1000, 2000, 3000])) == (1000, 3000)
    assert volume_band(spec, _past([1000, 2000])) == (1, None)  # too little history: only "not empty"


def test_learned_bounds_come_from_history_and_fall_back_to_the_reviewed_default():
    spec = {"kind": "learned", "expectation": "m", "last": 10, "min_history": 3, "k": 2, "rel": 0.0, "default": [0, 9]}
    low, high = learned_bounds(spec, _past([1, 1, 1, 1], [10.0, 12.0, 10.0, 12.0]))
    assert (low, high) == pytest.approx((9.0, 13.0))  # mean 11, population std 1
    assert learned_bounds(spec, _past([1, 1], [10.0, 12.0])) == (0.0, 9.0)


def test_monthly_suites_default_to_the_month_and_daily_ones_to_the_day():
    month = default_interval(load_suite("raw/archive/transactions"), date(2026, 12, 1))
    assert month == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    day = default_interval(load_suite("raw/partner/bureau"), date(2026, 2, 28))
    assert day == (datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))


def test_reference_values_are_the_union_of_every_validated_and_raw_partition(tmp_path):
    # Later partitions count too: an incremental load holds an old account in the day it last changed.
    lake = lk.Lake.from_uri(f"file://{tmp_path}")
    for zone, day, ids in (("validated", "2026-01-01", [1, 2]), ("raw", "2026-01-02", [3]), ("raw", "2026-01-09", [4])):
        table = pa.table({"customer_id": pa.array(ids, pa.int64())})
        lk.write_partition(
            lake, lake.partition(zone, "core", "customers", ds=day), table, source_position={}, written_by={}
        )
    suite = load_suite("raw/partner/bureau")
    interval = default_interval(suite, date(2026, 1, 5))
    values = resolve_parameters(suite, lake, date(2026, 1, 5), interval, past=[])
    assert values["known_customer_ids"] == [1, 2, 3, 4]
    assert (values["row_count_min"], values["row_count_max"]) == (1, None)
    assert (values["bureau_score_mean_min"], values["bureau_score_mean_max"]) == (450.0, 800.0)
    assert values["interval_start"] == interval[0]


def test_a_reference_check_becomes_a_check_of_the_orphans_found_not_of_every_known_value():
    import pandas as pd

    suite = load_suite("raw/archive/transactions")
    frame = pd.DataFrame({"account_id": [1, 2, 7, 7, None, 9]})
    configs, views = reference_checks(suite, "pandas", frame, {"known_account_ids": list(range(1, 6))})
    [check] = [c for c in configs if c["meta"]["id"] == "account_id_known"]
    assert check["type"] == "expect_column_values_to_not_be_in_set" and views == []
    assert check["kwargs"] == {"column": "account_id", "value_set": [7.0, 9.0]}
    assert check["meta"] == {"id": "account_id_known", "reference": "core/accounts.account_id", "orphan_values": 2}
    others = [c for c in configs if c is not check]
    assert len(others) == len(suite.expectation_configs()) - 1 and all(c in suite.expectation_configs() for c in others)
