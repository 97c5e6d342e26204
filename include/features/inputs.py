"""Which lake partitions the features at D read, engine-neutral: lists of committed data files.

Only files listed in committed manifests are read (`data_file_uris`), so a partition
being written, or one never committed, is invisible. Partitions are chosen by their day
so an engine never scans what cannot matter: the transaction window, the bureau
look-back, every core partition up to D (the label's horizon for statements). A core
table whose history came in one initial load (`ingest_postgres_core` with `initial_load`)
has a single snapshot partition for every day before its first daily one: for an earlier
D the snapshot stands in for the missing days. The query then filters on event and update
times again: the partition choice saves work, the query guarantees point-in-time correctness.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from include.features.definitions import FeatureSet
from include.lake import Lake, PartitionRef, data_file_uris, list_partitions, read_manifest

# relation -> (source, dataset, the columns the query reads, as Spark DDL)
CORE = {
    "accounts": (
        "core",
        "accounts",
        "account_id bigint, customer_id bigint, product string, credit_limit double, status string, "
        "opened_at date, updated_at timestamp",
    ),
    "customers": (
        "core",
        "customers",
        "customer_id bigint, birth_date date, gender string, income double, employment_status string, "
        "region string, created_at timestamp, updated_at timestamp",
    ),
    "statements": (
        "core",
        "statements",
        "statement_id bigint, account_id bigint, statement_date date, balance double, credit_limit double, "
        "min_payment_due double, due_date date, days_past_due int, updated_at timestamp",
    ),
    "repayments": (
        "core",
        "repayments",
        "repayment_id bigint, account_id bigint, paid_at timestamp, amount double, updated_at timestamp",
    ),
}
BUREAU = (
    "partner",
    "bureau",
    "customer_id bigint, bureau_score int, open_loans int, total_debt double, max_dpd_12m int, inquiries_6m int",
)
# The archive and the Kafka landing share the event's columns (the archive adds arrival_time,
# the Kafka landing its partition and offset): the query reads only these.
TRANSACTIONS = "account_id bigint, event_time timestamp, amount double, mcc string, country string, declined boolean"
ARCHIVE = ("archive", "transactions")
CARDS = ("cards", "card_transactions")
DAILY = [*(v[:2] for v in CORE.values()), BUREAU[:2], CARDS]


class MissingInputError(RuntimeError):
    """An input the features at D need has no committed partition; the message names it."""


@dataclass(frozen=True)
class Relation:
    """One relation of the query: committed data files, the columns to read, and optionally a time filter.

    `base` is the dataset folder, so engines that understand `ds=` folders (Spark's
    basePath, DuckDB's hive partitioning) add the partition day as a column `ds`.
    `event_time_from` / `event_time_before` keep a source's events to one time range (the
    archive/Kafka hand-over).
    """

    name: str
    files: tuple[str, ...]
    columns_ddl: str
    base: str
    event_time_from: date | None = None
    event_time_before: date | None = None

    @property
    def columns(self) -> list[str]:
        return [part.strip().split()[0] for part in self.columns_ddl.split(",")]


def _files(lake: Lake, zone: str, source: str, dataset: str, days: list[date]) -> tuple[str, ...]:
    files: list[str] = []
    for day in days:
        files += data_file_uris(lake, lake.partition(zone, source, dataset, ds=day))
    return tuple(files)


def plan(
    lake: Lake, zone: str, fs: FeatureSet, d: date, *, label: bool = False, complete: bool = True
) -> list[Relation]:
    """The relations of the feature query at D (and of its label, with `label`).

    With `complete`, every daily input must have its D - 1 partition (and statements
    their D + horizon one for a label), so a run never computes features from a day that
    has not been validated yet; it fails naming the missing partition instead.
    """
    last = d - timedelta(days=1)
    relations = []
    for name, (source, dataset, ddl) in CORE.items():
        until = d + timedelta(days=fs.label_horizon_days) if label and name == "statements" else last
        landed = list_partitions(lake, zone, source, dataset)
        days = [day for day in landed if day <= until]
        snapshot = next((day for day in landed if day > until), None)
        if days and days[-1] == until:
            pass
        elif snapshot and _holds_history_through(lake, lake.partition(zone, source, dataset, ds=snapshot), until):
            days.append(snapshot)
        elif complete:
            raise MissingInputError(
                f"{lake.uri(lake.dataset(zone, source, dataset))}: no partition ds={until} "
                f"(latest {days[-1] if days else 'none'}); the features at {d} need every day up to {until}"
                + (" (the label matures then)" if until > last else "")
            )
        relations.append(
            Relation(name, _files(lake, zone, source, dataset, days), ddl, lake.uri(f"{zone}/{source}/{dataset}"))
        )

    source, dataset, ddl = BUREAU
    oldest = d - timedelta(days=fs.bureau_max_age_days)
    days = [day for day in list_partitions(lake, zone, source, dataset) if oldest <= day <= last]
    if complete and (not days or days[-1] < last):
        raise MissingInputError(
            f"{lake.uri(lake.dataset(zone, source, dataset))}: no partition ds={last}; the features at {d} need it"
        )
    relations.append(
        Relation("bureau", _files(lake, zone, source, dataset, days), ddl, lake.uri(f"{zone}/{source}/{dataset}"))
    )
    relations += _transactions(lake, zone, fs, d, complete)
    return relations


def _holds_history_through(lake: Lake, ref: PartitionRef, day: date) -> bool:
    """The partition holds every change from the table's beginning through `day`: an initial load.

    Its manifest's source position says so (`since` at or before `day`, `until` after it). A
    daily partition holds one day's changes, so only an initial load answers for earlier days.
    """
    manifest = read_manifest(lake, ref)
    position = manifest.source_position if manifest else {}
    try:
        since, until = (datetime.fromisoformat(position[k]).date() for k in ("since", "until"))
    except (KeyError, TypeError, ValueError):
        return False
    return since <= day < until


def _transactions(lake: Lake, zone: str, fs: FeatureSet, d: date, complete: bool) -> list[Relation]:
    """The window's events: Kafka day partitions from the first one in the window on, the archive before it.

    The hand-over day is a time filter, so an event present in both sources (an archive
    month written after the Kafka landing of its days) is counted once.
    """
    start, last = d - timedelta(days=fs.max_window), d - timedelta(days=1)
    card_days = [day for day in list_partitions(lake, zone, *CARDS) if start <= day <= last]
    handover = card_days[0] if card_days else d
    months = [
        day
        for day in list_partitions(lake, zone, *ARCHIVE)
        if day < handover and (day.year, day.month) >= (start.year, start.month)
    ]
    covered_until = max([*card_days, *(_month_end(m) for m in months)], default=None)
    where = f"{lake.uri(lake.dataset(zone, *CARDS))} and {lake.uri(lake.dataset(zone, *ARCHIVE))}"
    if complete and (covered_until is None or covered_until < last):
        raise MissingInputError(
            f"{where}: no transactions for {last} (covered until {covered_until or 'nothing'}); "
            f"the features at {d} need them"
        )
    hole = _first_hole(months, handover, card_days)
    if complete and hole:
        raise MissingInputError(
            f"{where}: no transactions for {hole[0]}..{hole[1]}, between the archive months and the Kafka days "
            f"from {handover}; the features at {d} need every day of their {fs.max_window}-day window"
        )
    return [
        Relation(
            "transactions_archive",
            _files(lake, zone, *ARCHIVE, months),
            TRANSACTIONS,
            lake.uri(lake.dataset(zone, *ARCHIVE)),
            event_time_before=handover,
        ),
        Relation(
            "transactions_cards",
            _files(lake, zone, *CARDS, card_days),
            TRANSACTIONS,
            lake.uri(lake.dataset(zone, *CARDS)),
            event_time_from=handover,
        ),
    ]


def _first_hole(months: list[date], handover: date, card_days: list[date]) -> tuple[date, date] | None:
    """The first run of days that no archive month and no Kafka day covers, between the first covered day
    and the last: a month that never landed, or the days between the last archived month and the first
    Kafka day (gone from the topic, not archived yet). The Kafka days count as one span from the
    hand-over on: a quiet day has no partition."""
    spans = [(m, min(_month_end(m), handover - timedelta(days=1))) for m in months]
    if card_days:
        spans.append((handover, card_days[-1]))
    for (_, end), (begin, _) in pairwise(sorted(spans)):
        if begin > end + timedelta(days=1):
            return end + timedelta(days=1), begin - timedelta(days=1)
    return None


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def latest_complete_date(lake: Lake, zone: str) -> date:
    """The latest D whose inputs are all in the zone: one day after the oldest of the daily inputs' last days.

    What an asset-triggered run (no data interval) builds.
    """
    lasts = []
    for source, dataset in DAILY:
        days = list_partitions(lake, zone, source, dataset)
        if not days:
            raise MissingInputError(f"{lake.uri(lake.dataset(zone, source, dataset))}: no partition at all")
        lasts.append(days[-1])
    return min(lasts) + timedelta(days=1)
