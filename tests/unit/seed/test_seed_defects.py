"""Each bad-batch defect really breaks the delivery the way its name says, and only that way."""

from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from devstack.seed import defects, encode
from devstack.seed import generate as gen

DAY = date(2026, 3, 10)
DELIVERED_AT = datetime(2026, 3, 10, 6, tzinfo=UTC)
ARCHIVED_AT = datetime(2026, 4, 1, 2, tzinfo=UTC)
BUREAU_CONTRACT = pacsv.ConvertOptions(column_types=gen.BUREAU.remove(0))


@pytest.fixture(scope="module")
def bureau_day(portfolio) -> pa.Table:
    return dict(gen.bureau_days(portfolio.bureau))[DAY]


@pytest.fixture(scope="module")
def march(portfolio, params) -> pa.Table:
    months = {(y, m): t for y, m, t in gen.archive_months(gen.archive(params, portfolio.transactions))}
    return months[(2026, 3)]


def bureau(rows: pa.Table, defect: str) -> bytes:
    return defects.bureau_csv(rows, defect, seed=7, delivered_at=DELIVERED_AT)


def read_bureau(data: bytes, typed: bool = False) -> pa.Table:
    return pacsv.read_csv(pa.py_buffer(data), convert_options=BUREAU_CONTRACT if typed else None)


def archive(events: pa.Table, defect: str) -> pa.Table:
    return pq.read_table(pa.py_buffer(defects.archive_parquet(events, defect, seed=7, delivered_at=ARCHIVED_AT)))


def test_every_defect_is_in_the_catalogue_with_its_sources():
    assert set(defects.DEFECTS) == {
        "missing_column",
        "renamed_column",
        "wrong_type",
        "null_keys",
        "duplicate_keys",
        "negative_amounts",
        "future_timestamps",
        "unknown_currency",
        "empty_file",
        "corrupt_file",
        "volume_drop_90",
        "orphan_ids",
    }
    transactions_only = {d.name for d in defects.DEFECTS.values() if d.sources == {defects.TRANSACTIONS}}
    assert transactions_only == {"future_timestamps", "unknown_currency"}
    with pytest.raises(ValueError, match="does not apply to bureau"):
        defects.check("unknown_currency", defects.BUREAU)
    with pytest.raises(ValueError, match="unknown defect 'typo'"):
        defects.check("typo", defects.BUREAU)


def test_a_clean_bureau_file_reads_under_the_contract(bureau_day):
    clean = read_bureau(encode.csv_bytes(bureau_day), typed=True)
    assert clean.equals(bureau_day)


# ---------------------------------------------------------------- bureau CSV


def test_bureau_missing_column(bureau_day):
    assert read_bureau(bureau(bureau_day, "missing_column")).column_names == [
        c for c in gen.BUREAU_COLUMNS if c != "bureau_score"
    ]


def test_bureau_renamed_column(bureau_day):
    names = read_bureau(bureau(bureau_day, "renamed_column")).column_names
    assert "bureau_score" not in names and "score" in names and len(names) == len(gen.BUREAU_COLUMNS)


def test_bureau_wrong_type(bureau_day):
    data = bureau(bureau_day, "wrong_type")
    assert read_bureau(data)["total_debt"].type == pa.string()
    with pytest.raises(pa.ArrowInvalid, match="column #3: CSV conversion error to double"):
        read_bureau(data, typed=True)


def test_bureau_null_keys(bureau_day):
    rows = read_bureau(bureau(bureau_day, "null_keys"), typed=True)
    assert rows.num_rows == bureau_day.num_rows
    assert 0 < rows["customer_id"].null_count <= 0.06 * rows.num_rows + 1


def test_bureau_duplicate_keys(bureau_day):
    rows = read_bureau(bureau(bureau_day, "duplicate_keys"), typed=True)
    assert rows.num_rows > bureau_day.num_rows
    assert pc.count_distinct(rows["customer_id"]).as_py() == bureau_day.num_rows


def test_bureau_negative_amounts(bureau_day):
    rows = read_bureau(bureau(bureau_day, "negative_amounts"), typed=True)
    assert pc.min(bureau_day["total_debt"]).as_py() >= 0
    assert pc.sum(pc.less(rows["total_debt"], 0).cast(pa.int64())).as_py() > 0


def test_bureau_empty_file_has_only_its_header(bureau_day):
    data = bureau(bureau_day, "empty_file")
    assert data == (",".join(gen.BUREAU_COLUMNS) + "\n").encode()


def test_bureau_corrupt_file_is_cut_off_and_unreadable(bureau_day):
    clean, data = encode.csv_bytes(bureau_day), bureau(bureau_day, "corrupt_file")
    assert data[: len(clean) // 2] == clean[: len(clean) // 2] and data != clean
    with pytest.raises((pa.ArrowInvalid, UnicodeDecodeError)):
        read_bureau(data, typed=True)


def test_bureau_volume_drop_90(bureau_day):
    rows = read_bureau(bureau(bureau_day, "volume_drop_90"), typed=True)
    assert 0 < rows.num_rows < 0.2 * bureau_day.num_rows


def test_bureau_orphan_ids(bureau_day, portfolio):
    rows = read_bureau(bureau(bureau_day, "orphan_ids"), typed=True)
    known = pc.is_in(rows["customer_id"], portfolio.customers["customer_id"])
    assert 0 < pc.sum(pc.invert(known).cast(pa.int64())).as_py() <= 0.06 * rows.num_rows + 1


def test_defects_are_reproducible(bureau_day):
    assert bureau(bureau_day, "null_keys") == bureau(bureau_day, "null_keys")


# ---------------------------------------------------------------- transactions archive (Parquet)


def test_archive_missing_and_renamed_column(march):
    assert "amount" not in archive(march, "missing_column").column_names
    renamed = archive(march, "renamed_column").column_names
    assert "amount" not in renamed and "amt" in renamed


def test_archive_wrong_type(march):
    amounts = archive(march, "wrong_type")["amount"]
    assert amounts.type == pa.string() and pc.any(pc.match_substring(amounts, ",")).as_py()


def test_archive_null_and_duplicate_keys(march):
    assert archive(march, "null_keys")["txn_id"].null_count > 0
    doubled = archive(march, "duplicate_keys")["txn_id"]
    assert pc.count_distinct(doubled).as_py() == march.num_rows < len(doubled)


def test_archive_negative_amounts_future_timestamps_and_unknown_currency(march):
    assert pc.min(archive(march, "negative_amounts")["amount"]).as_py() < 0
    latest = pc.max(archive(march, "future_timestamps")["event_time"]).as_py()
    assert latest > ARCHIVED_AT
    currencies = set(archive(march, "unknown_currency")["currency"].to_pylist())
    assert currencies - set(gen.cat.CURRENCIES) and set(march["currency"].to_pylist()) <= set(gen.cat.CURRENCIES)


def test_archive_empty_corrupt_volume_drop_and_orphans(march, portfolio):
    empty = archive(march, "empty_file")
    assert empty.num_rows == 0 and empty.schema.equals(gen.TRANSACTION_EVENT)
    with pytest.raises(pa.ArrowInvalid):
        pq.read_table(pa.py_buffer(defects.archive_parquet(march, "corrupt_file", 7, ARCHIVED_AT)))
    assert 0 < archive(march, "volume_drop_90").num_rows < 0.2 * march.num_rows
    orphans = pc.invert(pc.is_in(archive(march, "orphan_ids")["account_id"], portfolio.accounts["account_id"]))
    assert pc.sum(orphans.cast(pa.int64())).as_py() > 0


def test_a_defective_kafka_batch_encodes_what_it_is_given(march):
    broken = defects.defective_table(march.slice(0, 50), "renamed_column", defects.TRANSACTIONS, 7, ARCHIVED_AT)
    assert all('"amt": ' in message and '"amount"' not in message for message in encode.json_events(broken).to_pylist())
