"""A tiny lake builder for feature inputs (the SparkSession is `spark` in tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from devstack.seed import generate as seed
from include.ingestion import bureau, kafka
from include.lake import Lake, write_partition

D = date(2030, 3, 1)  # an observation date far from the demo data's
ZONE = "raw"  # the features read a zone given as a parameter; the tests use raw

SCHEMAS = {
    ("core", "customers"): seed.CUSTOMERS,
    ("core", "accounts"): seed.ACCOUNTS,
    ("core", "statements"): seed.STATEMENTS,
    ("core", "repayments"): seed.REPAYMENTS,
    ("partner", "bureau"): bureau.SCHEMA,
    ("cards", "card_transactions"): kafka.SCHEMA,
    ("archive", "transactions"): seed.TRANSACTIONS,
}


def utc(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class TinyLake:
    """Rows put per (dataset, day), published as committed partitions like ingestion does."""

    def __init__(self, lake: Lake, zone: str = ZONE) -> None:
        self.lake, self.zone = lake, zone
        self.rows: dict[tuple[str, str, date], list[dict]] = {}

    def add(self, source: str, dataset: str, ds: date, **row) -> None:
        self.rows.setdefault((source, dataset, ds), []).append(row)

    def txn(self, account_id: int, when: datetime, amount: float, *, mcc="5411", country="DE", declined=False):
        """A card transaction in the Kafka landing's partition of its event day."""
        n = sum(len(v) for k, v in self.rows.items() if k[1] == "card_transactions")
        row = {
            "schema_version": 1,
            "txn_id": f"t{n}",
            "account_id": account_id,
            "event_time": when,
            "amount": amount,
            "currency": "EUR",
            "mcc": mcc,
            "channel": "pos",
            "country": country,
            "declined": declined,
            "kafka_partition": 0,
            "kafka_offset": n,
        }
        self.add("cards", "card_transactions", when.date(), **row)

    def publish(self, through: date, since: date | None = None, snapshot: date | None = None) -> None:
        """Commit every dataset's partitions, and an empty one for each daily dataset's missing days up to `through`
        (from `since`, by default from just before D).

        With `snapshot`, each core table is instead one partition ds=snapshot holding all its rows, with
        the source position of an initial load (every change before the day after `snapshot`)."""
        for (source, dataset), schema in SCHEMAS.items():
            if snapshot and source == "core":
                rows = [row for (s, n, _), part in self.rows.items() if (s, n) == (source, dataset) for row in part]
                position = {
                    "since": "1970-01-01T00:00:00+00:00",
                    "until": f"{snapshot + timedelta(days=1)}T00:00:00+00:00",
                }
                ref = self.lake.partition(self.zone, source, dataset, ds=snapshot)
                table = pa.Table.from_pylist(rows, schema=schema)
                write_partition(
                    self.lake, ref, table, schema=schema, source_position=position, written_by={"test": True}
                )
                continue
            days = {ds for (s, n, ds) in self.rows if (s, n) == (source, dataset)}
            if dataset != "transactions":
                first = since or min(through, D - timedelta(days=1)) - timedelta(days=1)
                days |= {first + timedelta(days=i) for i in range((through - first).days + 1)}
            for ds in sorted(days):
                rows = self.rows.get((source, dataset, ds), [])
                table = pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()
                ref = self.lake.partition(self.zone, source, dataset, ds=ds)
                write_partition(self.lake, ref, table, schema=schema, source_position={}, written_by={"test": True})


def portfolio(tl: TinyLake, d: date = D) -> None:
    """Two customers with one account each, statements, repayments, bureau and some transactions before D."""
    for cid, income in ((10, 40_000.0), (20, 90_000.0)):
        tl.add(
            "core",
            "customers",
            date(2029, 1, 1),
            customer_id=cid,
            birth_date=date(1990, 5, 5),
            gender="F",
            income=income,
            employment_status="employed",
            region="DE-BY",
            created_at=utc(date(2029, 1, 1)),
            updated_at=utc(date(2029, 1, 1)),
        )
        tl.add(
            "core",
            "accounts",
            date(2029, 1, 1),
            account_id=cid * 10,
            customer_id=cid,
            product="classic",
            credit_limit=5_000.0,
            status="active",
            opened_at=date(2029, 1, 1),
            updated_at=utc(date(2029, 1, 1)),
        )
    for i, day in enumerate((d - timedelta(days=45), d - timedelta(days=15))):
        for account, balance, dpd in ((100, 1_000.0 + i * 500, 0), (200, 4_000.0, 30 * i)):
            tl.add(
                "core",
                "statements",
                day,
                statement_id=account * 100 + i,
                account_id=account,
                statement_date=day,
                balance=balance,
                credit_limit=5_000.0,
                min_payment_due=balance * 0.05,
                due_date=day + timedelta(days=25),
                days_past_due=dpd,
                updated_at=utc(day),
            )
    tl.add(
        "core",
        "repayments",
        d - timedelta(days=20),
        repayment_id=1,
        account_id=100,
        paid_at=utc(d - timedelta(days=20)),
        amount=300.0,
        updated_at=utc(d - timedelta(days=20)),
    )
    tl.add(
        "partner",
        "bureau",
        d - timedelta(days=10),
        customer_id=10,
        bureau_score=710,
        open_loans=2,
        total_debt=12_000.0,
        max_dpd_12m=0,
        inquiries_6m=1,
    )
    tl.add(
        "partner",
        "bureau",
        d - timedelta(days=40),
        customer_id=10,
        bureau_score=650,
        open_loans=3,
        total_debt=15_000.0,
        max_dpd_12m=10,
        inquiries_6m=2,
    )
    tl.txn(100, utc(d - timedelta(days=1), 2), 25.0)
    tl.txn(100, utc(d - timedelta(days=3)), 200.0, mcc="6011")
    tl.txn(100, utc(d - timedelta(days=20)), 80.0, country="FR", mcc="5812")
    tl.txn(100, utc(d - timedelta(days=60)), 500.0, declined=True)
    tl.txn(200, utc(d - timedelta(days=2)), 40.0, mcc="5999")
    tl.txn(200, utc(d - timedelta(days=89), 23), 60.0)


@pytest.fixture
def tiny(tmp_path) -> TinyLake:
    tl = TinyLake(Lake.from_uri(f"file://{tmp_path}/lake"))
    portfolio(tl)
    return tl
