"""Pure generation of the synthetic credit-card portfolio: parameters in, Arrow tables out, no I/O.

What drives default
-------------------
Every customer has a latent risk `z ~ N(0, 1)` that no system records. It shifts, with
noise, everything the bank and the bureau can observe:

- at onboarding: lower income, more unemployment, a smaller credit limit;
- card use: a higher target utilisation (revolving instead of paying in full), a larger
  share of ATM cash advances and of gambling merchants, and so more declines once the
  limit is reached;
- the bureau: a lower score, more open loans, debt and past delinquencies elsewhere.

On top of it, each month a customer may fall into *hardship* (job loss, illness): the
entry probability rises with `z`, hardship lasts about five months, and the bank only
learns of a job loss weeks later (income and employment change in `core.customers`).
Rarely, a customer becomes *insolvent* (or disappears): from then on nothing is paid.

Every month each account gets a statement (cut on the customer's cycle day) and the
customer pays the minimum, more, everything, or nothing. The probability of *missing*
the minimum payment comes from `z`, hardship, utilisation and age; an account already
behind keeps missing with a much higher probability (or cures by paying what is due).
Each missed cycle adds 30 days past due (the statement's `days_past_due` is the
contractual delinquency, 30 per unpaid cycle), so three missed cycles in a row reach
90+ DPD, the default event; at 180 DPD the account is charged off. Cards of accounts
60+ DPD are blocked. An insolvent customer's cards are terminated at the first missed
payment: the whole balance is due and the statement reports 90 days past due (the
"unlikely to pay" default). The default label of an observation date D is "a statement
in (D, D+90] has days_past_due >= 90" (see `devstack.seed.labels`).

Why insolvency: with monthly cycles, an account current at D needs three missed cycles
in a row to reach 90 DPD by D+90, so without a faster path nearly all defaults would
be accounts already behind at D and any model would look better than real ones do.
Insolvency, only loosely tied to `z` and hardship, makes about half of the defaults come
from accounts that look current: the 90-day default rate is about 3% and a logistic
regression on simple features reaches a ROC AUC of about 0.8 (see the tests).

Time and randomness
-------------------
Customers are simulated in blocks (`block_size` customers, part of the parameters;
all of a customer's accounts are in its block), month by month from six months before `start` (a burn-in,
so the book already holds balances and delinquencies on day one). Each block and month
draws from its own random stream `(seed, block, stream, month)`, in the same order
whatever the scenario, so: the same parameters give identical tables, and the `drift`
scenario is identical to `normal` before `drift_from` (its extra behaviour draws from
streams of its own). Only the monthly steps loop in Python; every step is vectorised.

The tables are the state of the sources at the end of `end` (the "now" of the seed):
a change the bank learns of later, or a payment still in flight, is not in them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from devstack.seed import catalog as cat

SCENARIOS = ("normal", "drift")
SCHEMA_VERSION = 1
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
LATE_AFTER_US = HOUR_US  # an event that reaches Kafka at least this late counts as a late arrival
BURN_IN_MONTHS = 6
DUE_DAYS = 25  # the minimum payment is due this many days after the statement
MONTH_OF_2000 = 2000 * 12  # statement ids count months from January 2000

# Behaviour of the model; the defaults give a 90-day default rate of a few per cent.
NEW_CUSTOMER_SHARE = 0.12
SECOND_CARD_SHARE = 0.15
HARDSHIP_BASE, HARDSHIP_Z, HARDSHIP_EXIT = -4.4, 0.6, 0.2
MISS_BASE, MISS_Z, MISS_HARDSHIP, MISS_UTIL, MISS_YOUNG = -5.5, 0.6, 4.0, 1.2, 0.3
KEEP_MISSING_BASE, KEEP_MISSING_Z, KEEP_MISSING_HARDSHIP = 0.0, 0.5, 2.5
INSOLVENCY_BASE, INSOLVENCY_Z, INSOLVENCY_HARDSHIP = -5.9, 0.7, 1.5
BUREAU_HARDSHIP = 10  # score points a customer in hardship loses (other lenders report it)
APR = 0.199
LATE_FEE = 25.0
CASH_ADVANCE_FEE = 0.03
BASE_DECLINE = 0.01
ECOM_SHARE = 0.22
CONTACTLESS_SHARE = 0.45  # of what is neither ATM nor e-commerce
FOREIGN_BY_CHANNEL = np.array([0.04, 0.15, 0.02, 0.03])  # pos, ecom, atm, contactless
LATE_BY_CHANNEL = np.array([0.05, 0.015, 0.01, 0.02])  # offline terminals upload in batches

# The drift scenario, from `drift_from` on: money gets tighter and card use changes, while
# the data stays valid. What each transaction costs does not change (amounts, channels,
# countries), so the quality gate's learned bands on amounts (a few per cent) accept the
# drifted days: a shift the gate quarantined would never reach the features, and the
# model's monitoring is what must see it. For the same reason the bureau score falls only
# through the extra inquiries (6 points each), within the bureau suite's band (2%).
DRIFT_INCOME_SHARE = 0.35  # of customers whose income the bank sees fall
DRIFT_HARDSHIP = 0.7  # added to the log-odds of falling into hardship
DRIFT_MISS = 0.4  # added to the log-odds of missing a payment
DRIFT_EXTRA_SPEND = 0.35  # extra transactions, as a share of the usual number
DRIFT_NIGHT = 4.0  # activity between midnight and 6 am, times this
DRIFT_INQUIRIES = 0.8  # extra bureau inquiries (Poisson mean)

# Random streams: (seed, block, stream, month).
_BOOK, _MONTH, _DRIFT, _DRIFT_BOOK = range(4)


class SeedError(ValueError):
    """Parameters that cannot make a portfolio; the message names the parameter."""


@dataclass(frozen=True)
class SeedParams:
    """Everything the data depends on: the same parameters give the same data."""

    customers: int = 50_000
    start: date = date(2026, 5, 1)
    end: date = date(2026, 11, 20)
    seed: int = 42
    scenario: str = "normal"
    drift_from: date | None = None  # drift only; default: the middle of the range
    kafka_days: int = 14  # the Kafka retention: the last days of the range go to the topic
    block_size: int = 10_000  # customers generated (and held in memory) at a time

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise SeedError(f"customers: expected at least 1, got {self.customers}")
        if self.start > self.end:
            raise SeedError(f"start {self.start} is after end {self.end}")
        if self.seed < 0:
            raise SeedError(f"seed: expected a non-negative integer, got {self.seed}")
        if self.scenario not in SCENARIOS:
            raise SeedError(f"scenario: expected one of {', '.join(SCENARIOS)}, got {self.scenario!r}")
        if self.kafka_days < 0 or self.block_size < 1:
            raise SeedError(f"kafka_days must be >= 0 and block_size >= 1, got {self.kafka_days}, {self.block_size}")
        if self.scenario == "drift":
            drift_from = self.drift_from or self.start + (self.end - self.start) / 2
            if not self.start < drift_from <= self.end:
                raise SeedError(f"drift_from {drift_from} is not within ({self.start}, {self.end}]")
            object.__setattr__(self, "drift_from", drift_from)
        elif self.drift_from is not None:
            raise SeedError(f"drift_from only applies to scenario 'drift', not {self.scenario!r}")

    @property
    def blocks(self) -> int:
        return -(-self.customers // self.block_size)

    @property
    def kafka_from(self) -> date:
        """First day whose events are on the topic; older ones are in the HDFS archive."""
        if not self.kafka_days:
            return self.end + timedelta(days=1)
        return max(self.start, self.end - timedelta(days=self.kafka_days - 1))

    def as_dict(self) -> dict[str, object]:
        return {f.name: str(v) if isinstance(v := getattr(self, f.name), date) else v for f in fields(self)}


# ---------------------------------------------------------------- output schemas

CUSTOMERS = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("birth_date", pa.date32()),
        ("gender", pa.string()),
        ("income", pa.float64()),
        ("employment_status", pa.string()),
        ("region", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)
ACCOUNTS = pa.schema(
    [
        ("account_id", pa.int64()),
        ("customer_id", pa.int64()),
        ("product", pa.string()),
        ("credit_limit", pa.float64()),
        ("status", pa.string()),
        ("opened_at", pa.date32()),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)
STATEMENTS = pa.schema(
    [
        ("statement_id", pa.int64()),
        ("account_id", pa.int64()),
        ("statement_date", pa.date32()),
        ("balance", pa.float64()),
        ("credit_limit", pa.float64()),
        ("min_payment_due", pa.float64()),
        ("due_date", pa.date32()),
        ("days_past_due", pa.int32()),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)
REPAYMENTS = pa.schema(
    [
        ("repayment_id", pa.int64()),
        ("account_id", pa.int64()),
        ("paid_at", pa.timestamp("us", tz="UTC")),
        ("amount", pa.float64()),
        ("updated_at", pa.timestamp("us", tz="UTC")),
    ]
)
# The card-transaction event, as on the Kafka topic and in the HDFS archive.
TRANSACTION_EVENT = pa.schema(
    [
        ("schema_version", pa.int32()),
        ("txn_id", pa.string()),
        ("account_id", pa.int64()),
        ("event_time", pa.timestamp("us", tz="UTC")),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("mcc", pa.string()),
        ("channel", pa.string()),
        ("country", pa.string()),
        ("declined", pa.bool_()),
    ]
)
# When the event reached Kafka (the message timestamp); not part of the event itself.
TRANSACTIONS = TRANSACTION_EVENT.append(pa.field("arrival_time", pa.timestamp("us", tz="UTC")))
BUREAU_COLUMNS = ("customer_id", "bureau_score", "open_loans", "total_debt", "max_dpd_12m", "inquiries_6m")
BUREAU = pa.schema(
    [
        ("dt", pa.date32()),  # the delivery day (the file's date), not a column of the file
        ("customer_id", pa.int64()),
        ("bureau_score", pa.int32()),
        ("open_loans", pa.int32()),
        ("total_debt", pa.float64()),
        ("max_dpd_12m", pa.int32()),
        ("inquiries_6m", pa.int32()),
    ]
)


@dataclass(frozen=True)
class Portfolio:
    """The generated sources: core tables, every transaction of the range, bureau deliveries."""

    customers: pa.Table
    accounts: pa.Table
    statements: pa.Table
    repayments: pa.Table
    transactions: pa.Table
    bureau: pa.Table

    @staticmethod
    def concat(parts: list[Portfolio]) -> Portfolio:
        return Portfolio(**{f.name: pa.concat_tables([getattr(p, f.name) for p in parts]) for f in fields(Portfolio)})

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name).num_rows for f in fields(self)}


def generate(params: SeedParams) -> Portfolio:
    """The whole portfolio in memory (tests, small seeds); writers stream `generate_blocks`."""
    return Portfolio.concat(list(generate_blocks(params)))


def generate_blocks(params: SeedParams) -> Iterator[Portfolio]:
    """One Portfolio per block of customers, in customer order; memory holds one block at a time."""
    for block in range(params.blocks):
        yield generate_block(params, block)


def generate_block(params: SeedParams, block: int) -> Portfolio:
    rng = _rng(params, block, _BOOK)
    customers = _draw_customers(params, block, rng)
    accounts = _draw_accounts(params, customers, rng)
    return _Simulation(params, block, customers, accounts).run()


# ---------------------------------------------------------------- time and random helpers


def _rng(params: SeedParams, block: int, stream: int, month: int = 0) -> np.random.Generator:
    return np.random.default_rng([params.seed, block, stream, month])


def _day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _month(d: date) -> int:
    return d.year * 12 + d.month - 1


def _first_day_of_month(month: int) -> int:
    return _day(date(month // 12, month % 12 + 1, 1))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _cents(x: np.ndarray) -> np.ndarray:
    return np.round(x, 2)


def _hundreds(x: np.ndarray) -> np.ndarray:
    return np.round(x, -2)


def _draw(cumulative: np.ndarray, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(cumulative) - 1)


def _timestamps(us: np.ndarray) -> pa.Array:
    return pa.array(us.astype(np.int64), pa.timestamp("us", tz="UTC"))


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), pa.date32())


def _labels(values: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """Codes into their strings; a negative code is null."""
    return pc.take(pa.array(values, pa.string()), pa.array(codes.astype(np.int32), mask=codes < 0))


_HEX_PAIRS = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), np.uint16)  # byte -> 2 hex digits
_UUID_GROUPS = ((0, 8), (9, 13), (14, 18), (19, 23), (24, 36))  # where the 32 digits go among the 36 characters


def _uuids(raw: np.ndarray) -> pa.Array:
    """Random version-4 UUID strings from 16 random bytes per row, without a Python loop."""
    raw = raw.copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = _HEX_PAIRS[raw].view(np.uint8)  # (n, 32)
    text = np.full((len(raw), 36), ord("-"), np.uint8)
    taken = 0
    for start, stop in _UUID_GROUPS:
        text[:, start:stop] = digits[:, taken : taken + stop - start]
        taken += stop - start
    offsets = np.arange(0, 36 * (len(raw) + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(len(raw), pa.py_buffer(offsets), pa.py_buffer(text))


# ---------------------------------------------------------------- the book: who the customers are


@dataclass
class _Customers:
    customer_id: np.ndarray
    z: np.ndarray  # latent risk: never written anywhere
    age: np.ndarray
    birth_day: np.ndarray
    gender: np.ndarray
    region: np.ndarray
    employment: np.ndarray  # as the bank knows it
    income: np.ndarray  # as the bank knows it
    created_us: np.ndarray
    updated_us: np.ndarray
    employment_at_us: np.ndarray
    cycle_day: np.ndarray  # statements of all the customer's cards are cut on this day of the month
    bureau_noise: np.ndarray  # how differently from the truth the bureau sees the customer
    base_loans: np.ndarray
    base_debt: np.ndarray
    external_dpd: np.ndarray  # worst delinquency with other lenders in the last year

    @property
    def n(self) -> int:
        return len(self.customer_id)


@dataclass
class _Accounts:
    customer: np.ndarray  # index into the block's customers; accounts are sorted by it
    account_id: np.ndarray
    product: np.ndarray
    opened_day: np.ndarray
    limit: np.ndarray
    status: np.ndarray
    updated_us: np.ndarray
    activity: np.ndarray  # transactions per month
    pay_fraction: np.ndarray  # share of the balance a revolver repays
    p_transactor: np.ndarray  # probability of paying the statement in full
    atm_share: np.ndarray
    gamble_share: np.ndarray  # of e-commerce spend
    travel: np.ndarray  # multiplies the chance of a foreign transaction
    first_of_customer: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.first_of_customer = np.flatnonzero(np.r_[True, self.customer[1:] != self.customer[:-1]])

    @property
    def n(self) -> int:
        return len(self.account_id)

    def per_customer_max(self, values: np.ndarray) -> np.ndarray:
        return np.maximum.reduceat(values, self.first_of_customer)

    def per_customer_sum(self, values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, self.first_of_customer)


def _draw_customers(params: SeedParams, block: int, rng: np.random.Generator) -> _Customers:
    first = block * params.block_size
    n = min(params.block_size, params.customers - first)
    start, end = _day(params.start), _day(params.end)
    z = rng.standard_normal(n)
    age = np.minimum(18 + rng.gamma(3.0, 7.5, n), 92)
    u = rng.random((6, n))

    gender = np.select([u[0] < 0.49, u[0] < 0.96, u[0] < 0.97], [0, 1, 2], -1)
    region = _draw(cat.cumulative(list(cat.REGIONS.values())), u[1])
    employment = np.where(u[2] < 0.10, cat.SELF_EMPLOYED, cat.EMPLOYED)
    employment = np.where(u[2] > 1 - _sigmoid(-3.3 + 0.9 * z), cat.UNEMPLOYED, employment)
    employment = np.where((age >= 63) & (u[3] < 0.85), cat.RETIRED, employment)
    employment = np.where((age < 25) & (u[3] < 0.45), cat.STUDENT, employment)
    log_income = 10.5 - 0.22 * z + 0.35 * rng.standard_normal(n)
    log_income += np.array([0.0, 0.1, -0.8, -0.35, -1.0])[employment]
    income = np.maximum(_hundreds(np.exp(log_income)), 4_800.0)

    # Most customers joined years ago (never before their 18th birthday); some join during the range.
    years_ago = 0.3 + rng.gamma(1.5, 3.0, n)
    created_day = np.maximum(start - np.round(years_ago * 365.25), start - np.round((age - 18) * 365.25))
    new = u[4] < NEW_CUSTOMER_SHARE
    created_day = np.where(new, start + np.floor(u[5] * max(end - start - 20, 0)), created_day).astype(np.int64)
    created_us = created_day * DAY_US + rng.integers(8 * HOUR_US, 20 * HOUR_US, n)

    base_loans = rng.poisson(np.exp(0.2 + 0.3 * z))
    debt = rng.lognormal(8.6 + 0.35 * z + 0.5 * np.log(income / 35_000), 0.8)
    external = rng.random(n) < _sigmoid(-3.0 + 1.0 * z)
    return _Customers(
        customer_id=np.arange(first + 1, first + n + 1, dtype=np.int64),
        z=z,
        age=age,
        birth_day=start - np.round(age * 365.25).astype(np.int64),
        gender=gender,
        region=region,
        employment=employment,
        income=income,
        created_us=created_us,
        updated_us=created_us.copy(),
        employment_at_us=created_us.copy(),
        cycle_day=rng.integers(1, 29, n),
        bureau_noise=rng.standard_normal(n),
        base_loans=base_loans,
        base_debt=np.where(base_loans > 0, debt, 0.0),
        external_dpd=np.where(external, 30 * rng.integers(1, 4, n), 0),
    )


def _draw_accounts(params: SeedParams, customers: _Customers, rng: np.random.Generator) -> _Accounts:
    n = customers.n
    cards = 1 + (rng.random(n) < SECOND_CARD_SHARE)
    owner = np.repeat(np.arange(n), cards)
    a = len(owner)
    rank = np.arange(a) - np.repeat(np.cumsum(cards) - cards, cards)  # 0: first card, 1: second
    second = rank == 1
    z, income = customers.z[owner], customers.income[owner]
    eps = rng.standard_normal((6, a))
    u = rng.random((2, a))

    tier = np.select([income > 90_000, income > 50_000], [cat.PLATINUM, cat.GOLD], cat.CLASSIC)
    student = (customers.employment[owner] == cat.STUDENT) & (income < 20_000)
    product = np.where(second, np.minimum(tier, cat.GOLD), np.where(student, cat.STUDENT_CARD, tier))

    created_day = customers.created_us[owner] // DAY_US
    end = _day(params.end)
    later = created_day + 30 + np.floor(u[0] * np.maximum(end - created_day - 30, 0))
    opened_day = np.where(second, np.minimum(later, end), created_day + np.floor(u[1] * 15)).astype(np.int64)

    limit = _hundreds(income * 0.16 * np.exp(-0.25 * z + 0.25 * eps[0]))
    limit = np.where(second, _hundreds(limit * 0.6), limit)
    limit = np.clip(limit, 500.0, np.where(product == cat.STUDENT_CARD, 1_500.0, 30_000.0))

    activity = rng.gamma(2.0, 9.0, a) * np.where(second, 0.5, 1.0)
    util_target = _sigmoid(-0.9 + 0.9 * z + 0.6 * eps[1])
    monthly_spend = activity * 45.0
    return _Accounts(
        customer=owner,
        account_id=customers.customer_id[owner] * 10 + rank + 1,
        product=product,
        opened_day=opened_day,
        limit=limit,
        status=np.full(a, cat.ACTIVE),
        updated_us=opened_day * DAY_US + 9 * HOUR_US,
        activity=activity,
        pay_fraction=np.clip(monthly_spend / np.maximum(util_target * limit, 1.0), 0.03, 1.0),
        p_transactor=_sigmoid(0.7 - 1.1 * z + 0.5 * eps[2]),
        atm_share=_sigmoid(-3.6 + 0.7 * z + 0.5 * eps[3]),
        gamble_share=_sigmoid(-4.5 + 0.8 * z + 0.8 * eps[4]),
        travel=np.exp(0.5 * eps[5]),
    )


# ---------------------------------------------------------------- the monthly simulation


@dataclass
class _Cycle:
    """The dates of one month's cycle, per account (days since 1970)."""

    month: int
    statement_day: np.ndarray
    previous_statement_day: np.ndarray


@dataclass
class _Payments:
    """What each account paid against its previous statement (EUR)."""

    amount: np.ndarray
    fees: np.ndarray
    paid: np.ndarray
    missed: np.ndarray
    in_full: np.ndarray
    terminated: np.ndarray  # insolvent: the whole balance is due at once, reported as 90+ days past due


class _Simulation:
    """Steps one block month by month; collects the rows each month produces."""

    def __init__(self, params: SeedParams, block: int, customers: _Customers, accounts: _Accounts) -> None:
        self.params, self.block = params, block
        self.c, self.a = customers, accounts
        self.start, self.end = _day(params.start), _day(params.end)
        self.start_us, self.end_us = self.start * DAY_US, (self.end + 1) * DAY_US  # [start_us, end_us)
        self.drift_day = _day(params.drift_from) if params.drift_from else None
        self.z = customers.z[accounts.customer]
        self.young = customers.age[accounts.customer] < 25
        rng = _rng(params, block, _BOOK, 1)
        # State before the burn-in: balances near each card's habit, nobody behind yet.
        self.balance = _cents(accounts.limit * _sigmoid(-0.9 + 0.9 * self.z) * rng.uniform(0.3, 1.0, accounts.n))
        self.balance = np.where(accounts.opened_day < self._first_month_day(), self.balance, 0.0)
        self.min_due = self._minimum_payment(self.balance)
        self.cycles_behind = np.zeros(accounts.n, np.int64)
        p_enter = _sigmoid(HARDSHIP_BASE + HARDSHIP_Z * customers.z)
        self.hardship = rng.random(customers.n) < p_enter / (p_enter + HARDSHIP_EXIT)
        self.insolvent = np.zeros(customers.n, bool)
        self.dpd_history = np.zeros((12, customers.n), np.int64)
        self.previous_statement_id = np.zeros(accounts.n, np.int64)
        self.statement_cut_us = np.full(accounts.n, -1, np.int64)  # -1: no statement this month
        self.rows: dict[str, list[pa.Table]] = {name: [] for name in ("statements", "repayments", "bureau")}
        self.transactions: list[_Transactions] = []
        if self.drift_day is not None:
            self._drift_income()

    def _first_month_day(self) -> int:
        return _first_day_of_month(_month(self.params.start) - BURN_IN_MONTHS)

    def run(self) -> Portfolio:
        first, last = _month(self.params.start) - BURN_IN_MONTHS, _month(self.params.end) + 1
        for month in range(first, last + 1):
            self._step(month)
        return Portfolio(
            customers=self._customers_table(),
            accounts=self._accounts_table(),
            statements=_concat(self.rows["statements"], STATEMENTS),
            repayments=_concat(self.rows["repayments"], REPAYMENTS),
            transactions=_Transactions.concat(self.transactions).table(self.a),
            bureau=_concat(self.rows["bureau"], BUREAU),
        )

    def _cycle(self, month: int) -> _Cycle:
        day = self.c.cycle_day[self.a.customer] - 1
        return _Cycle(month, _first_day_of_month(month) + day, _first_day_of_month(month - 1) + day)

    def _drifted(self, day: np.ndarray) -> np.ndarray:
        if self.drift_day is None:
            return np.zeros(np.shape(day), bool)
        return day >= self.drift_day

    def _step(self, month: int) -> None:
        rng = _rng(self.params, self.block, _MONTH, month)
        drift_rng = _rng(self.params, self.block, _DRIFT, month)
        cycle = self._cycle(month)
        self._life_events(month, rng)
        payments = self._repayments(cycle, rng)
        purchases, cash = self._spending(cycle, payments, rng, drift_rng)
        self._statements(cycle, payments, purchases, cash)
        self._account_events(cycle, rng)
        self._bureau(month, rng, drift_rng)

    # -- customers: hardship, job loss, raises

    def _life_events(self, month: int, rng: np.random.Generator) -> None:
        c = self.c
        u = rng.random((7, c.n))
        event_day = _first_day_of_month(month) + np.floor(u[2] * 28).astype(np.int64)
        # This month's state decides the payments after the previous statement: the drift may only
        # change it when that statement was cut on or after the drift date.
        previous_statement_day = _first_day_of_month(month - 1) + c.cycle_day - 1
        drift = np.where(self._drifted(previous_statement_day), DRIFT_HARDSHIP, 0.0)
        # Insolvency (or fraud, death, emigration): the customer stops paying for good.
        insolvency = INSOLVENCY_BASE + INSOLVENCY_Z * c.z + INSOLVENCY_HARDSHIP * self.hardship
        self.insolvent |= u[6] < _sigmoid(insolvency + drift)
        enter = ~self.hardship & (u[0] < _sigmoid(HARDSHIP_BASE + HARDSHIP_Z * c.z + drift))
        leave = self.hardship & (u[0] < HARDSHIP_EXIT)
        working = np.isin(c.employment, [cat.EMPLOYED, cat.SELF_EMPLOYED])
        # The bank learns of a job loss weeks later; of a raise or a new job when the customer tells it.
        learned_us = (event_day + 5 + np.floor(u[3] * 55).astype(np.int64)) * DAY_US + 10 * HOUR_US
        told_us = event_day * DAY_US + 12 * HOUR_US
        self._update_customers(enter & working & (u[1] < 0.6), learned_us, 0.45 + 0.3 * u[4], cat.UNEMPLOYED)
        back = leave & (c.employment == cat.UNEMPLOYED) & (c.age < 63) & (u[1] < 0.5)
        self._update_customers(back, told_us, 1.3 + 0.5 * u[4], cat.EMPLOYED)
        raise_ = ~enter & working & (u[5] < 0.015)
        self._update_customers(raise_, told_us, 1.02 + 0.06 * u[4], None)
        self.hardship = (self.hardship | enter) & ~leave

    def _update_customers(
        self, who: np.ndarray, at_us: np.ndarray, income_factor: np.ndarray, employment: int | None
    ) -> None:
        c = self.c
        who = who & (at_us < self.end_us) & (at_us > c.created_us)
        c.income = np.where(who, np.maximum(_hundreds(c.income * income_factor), 4_800.0), c.income)
        if employment is not None:
            newer = who & (at_us > c.employment_at_us)
            c.employment = np.where(newer, employment, c.employment)
            c.employment_at_us = np.where(newer, at_us, c.employment_at_us)
        c.updated_us = np.where(who, np.maximum(c.updated_us, at_us), c.updated_us)

    def _drift_income(self) -> None:
        """Drift: from `drift_from` on, the bank sees the income of a third of its customers fall."""
        rng = _rng(self.params, self.block, _DRIFT_BOOK)
        u = rng.random((3, self.c.n))
        at_us = (self.drift_day + np.floor(u[1] * 60).astype(np.int64)) * DAY_US + 11 * HOUR_US
        self._update_customers(u[0] < DRIFT_INCOME_SHARE, at_us, 0.7 + 0.22 * u[2], None)

    # -- accounts: paying the previous statement

    def _repayments(self, cycle: _Cycle, rng: np.random.Generator) -> _Payments:
        a = self.a
        u = rng.random((7, a.n))
        due = (self.min_due > 0) & (a.status == cat.ACTIVE)
        hardship = self.hardship[a.customer]
        drift = np.where(self._drifted(cycle.previous_statement_day), DRIFT_MISS, 0.0)
        utilisation = self.balance / a.limit
        current = MISS_BASE + MISS_Z * self.z + MISS_HARDSHIP * hardship + MISS_UTIL * (utilisation - 0.5)
        current += MISS_YOUNG * self.young
        behind = KEEP_MISSING_BASE + KEEP_MISSING_Z * self.z + KEEP_MISSING_HARDSHIP * hardship
        insolvent = self.insolvent[a.customer]
        missed = due & ((u[0] < _sigmoid(np.where(self.cycles_behind > 0, behind, current) + drift)) | insolvent)
        pays = due & ~missed
        in_full = pays & (self.cycles_behind == 0) & (u[1] < a.p_transactor)
        revolving = np.maximum(self.min_due, self.balance * a.pay_fraction * (0.6 + 0.8 * u[2]))
        amount = _cents(np.where(in_full, self.balance, np.minimum(revolving, self.balance)))

        late = u[3] < 0.04  # after the due date but before the next statement
        day = cycle.previous_statement_day + np.where(late, 26 + np.floor(u[4] * 2), 2 + np.floor(u[4] * 23))
        paid_us = day.astype(np.int64) * DAY_US + (7 * HOUR_US + u[5] * 15 * HOUR_US).astype(np.int64)
        split = pays & (u[6] < 0.08) & (amount >= 50)
        first = np.where(split, _cents(amount / 2), amount)
        self._emit_repayments(pays, 1, paid_us, first)
        self._emit_repayments(split, 2, paid_us + DAY_US, _cents(amount - first))
        fees = np.where(missed | (pays & late), LATE_FEE, 0.0)
        return _Payments(np.where(pays, amount, 0.0), fees, pays, missed, in_full, missed & insolvent)

    def _emit_repayments(self, who: np.ndarray, number: int, paid_us: np.ndarray, amount: np.ndarray) -> None:
        updated_us = paid_us + 60_000_000 + (paid_us % (3 * HOUR_US))  # posted within a few hours
        keep = who & (paid_us >= self.start_us) & (updated_us < self.end_us) & (amount > 0)
        self.rows["repayments"].append(
            pa.Table.from_arrays(
                [
                    pa.array(self.previous_statement_id[keep] * 10 + number),
                    pa.array(self.a.account_id[keep]),
                    _timestamps(paid_us[keep]),
                    pa.array(amount[keep]),
                    _timestamps(updated_us[keep]),
                ],
                schema=REPAYMENTS,
            )
        )

    # -- accounts: spending in the cycle

    def _spending(
        self, cycle: _Cycle, payments: _Payments, rng: np.random.Generator, drift_rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Purchases and cash advances (EUR, approved only) of the cycle ending on this month's statement."""
        a = self.a
        low = np.maximum(cycle.previous_statement_day + 1, a.opened_day)
        high = np.minimum(cycle.statement_day, self.end)
        active = (a.status == cat.ACTIVE) & (high >= low)
        available = np.maximum(a.limit - (self.balance - payments.amount), 0.0)
        blocked = self.cycles_behind >= 2
        # Cycles that end before `start` leave no rows: draw their totals, not their transactions.
        approximate = active & (high < self.start)
        months = (high - low + 1) / 30.4
        spend = a.activity * 45.0 * months * rng.gamma(4.0, 0.25, a.n)
        spend = np.where(approximate & ~blocked, np.minimum(spend, available), 0.0)
        cash = spend * np.minimum(a.atm_share * 2.5, 0.9)

        detailed = np.flatnonzero(active & (high >= self.start))
        txns = _draw_transactions(rng, a, detailed, low, high, self.drift_day)
        if self.drift_day is not None:
            after = np.maximum(low, self.drift_day)
            extra = detailed[after[detailed] <= high[detailed]]
            extra_txns = _draw_transactions(drift_rng, a, extra, after, high, self.drift_day, extra=True)
            txns = _Transactions.concat([txns, extra_txns])
        txns = txns.decline(available, blocked)
        approved = ~txns.declined
        purchases = spend + np.bincount(txns.account[approved], txns.amount_eur[approved], minlength=a.n)
        atm = approved & (txns.channel == cat.ATM)
        cash = cash + np.bincount(txns.account[atm], txns.amount_eur[atm], minlength=a.n)
        self.transactions.append(txns.take(txns.event_us >= self.start_us))
        return purchases, cash

    # -- accounts: the statement

    @staticmethod
    def _minimum_payment(balance: np.ndarray) -> np.ndarray:
        return _cents(np.where(balance <= 25, np.maximum(balance, 0.0), np.maximum(25.0, 0.03 * balance)))

    def _statements(self, cycle: _Cycle, payments: _Payments, purchases: np.ndarray, cash: np.ndarray) -> None:
        a = self.a
        on_book = (a.status == cat.ACTIVE) & (a.opened_day < cycle.statement_day)
        carried = self.balance - payments.amount
        interest = np.where((carried > 0) & ~payments.in_full, carried * APR / 12, 0.0)
        balance = _cents(carried + interest + payments.fees + purchases + CASH_ADVANCE_FEE * cash)
        overdue = np.where(payments.missed, self.min_due, 0.0)
        min_due = np.minimum(np.maximum(balance, 0.0), self._minimum_payment(balance) + overdue)
        min_due = np.where(payments.terminated, np.maximum(balance, 0.0), min_due)  # the card is terminated
        behind = np.where(payments.missed, self.cycles_behind + 1, np.where(payments.paid, 0, self.cycles_behind))
        behind = np.where(payments.terminated, np.maximum(behind, 3), behind)

        self.balance = np.where(on_book, balance, self.balance)
        self.min_due = np.where(on_book, _cents(min_due), 0.0)
        self.cycles_behind = np.where(on_book, behind, self.cycles_behind)
        self.previous_statement_id = a.account_id * 1000 + (cycle.month - MONTH_OF_2000)

        day = cycle.statement_day
        happened = on_book & (day <= self.end)  # burn-in statements happened too, they are just not written
        emit = happened & (day >= self.start)
        cut_us = day * DAY_US + 20 * HOUR_US + (a.account_id * 7919 % 10_800) * 1_000_000  # the nightly batch
        self.rows["statements"].append(
            pa.Table.from_arrays(
                [
                    pa.array(self.previous_statement_id[emit]),
                    pa.array(a.account_id[emit]),
                    _dates(day[emit]),
                    pa.array(self.balance[emit]),
                    pa.array(a.limit[emit]),
                    pa.array(self.min_due[emit]),
                    _dates(day[emit] + DUE_DAYS),
                    pa.array((30 * self.cycles_behind[emit]).astype(np.int32)),
                    _timestamps(cut_us[emit]),
                ],
                schema=STATEMENTS,
            )
        )
        self.statement_cut_us = np.where(happened, cut_us, -1)

    # -- accounts: what the bank decides after the statement

    def _account_events(self, cycle: _Cycle, rng: np.random.Generator) -> None:
        a = self.a
        u = rng.random((5, a.n))
        cut = self.statement_cut_us >= 0
        behind = self.cycles_behind
        utilisation = self.balance / a.limit
        decided_us = (cycle.statement_day + 1) * DAY_US + (2 * HOUR_US + u[4] * 6 * HOUR_US).astype(np.int64)
        decided = cut & (decided_us < self.end_us)

        charge_off = cut & (behind >= 6)
        self._set_status(charge_off, cat.CHARGED_OFF, self.statement_cut_us)
        self.min_due = np.where(charge_off, 0.0, self.min_due)
        close = decided & ~charge_off & (behind == 0) & (self.balance < 1) & (u[0] < 0.004)
        self._set_status(close, cat.CLOSED, decided_us)
        increase = decided & (behind == 0) & (utilisation < 0.5) & (self.z < 0.8) & (u[1] < 0.012)
        self._set_limit(increase, np.minimum(_hundreds(a.limit * (1.2 + 0.3 * u[2])), 30_000.0), decided_us)
        # Cards 60+ days behind may have their limit cut to the balance.
        decrease = decided & (behind >= 2) & (u[3] < 0.35) & (a.limit > self.balance + 100)
        self._set_limit(decrease, np.maximum(500.0, np.ceil(self.balance / 100) * 100), decided_us)

    def _set_status(self, who: np.ndarray, status: int, at_us: np.ndarray) -> None:
        self.a.status = np.where(who, status, self.a.status)
        self.a.updated_us = np.where(who, np.maximum(self.a.updated_us, at_us), self.a.updated_us)

    def _set_limit(self, who: np.ndarray, limit: np.ndarray, at_us: np.ndarray) -> None:
        self.a.limit = np.where(who, limit, self.a.limit)
        self.a.updated_us = np.where(who, np.maximum(self.a.updated_us, at_us), self.a.updated_us)

    # -- the bureau's monthly refresh

    def _bureau(self, month: int, rng: np.random.Generator, drift_rng: np.random.Generator) -> None:
        """The bureau refreshes each customer monthly, 1-5 days after the bank reports the statement."""
        c, a = self.c, self.a
        u = rng.random((2, c.n))
        noise = rng.standard_normal((2, c.n))
        behind = a.per_customer_max(self.cycles_behind)
        self.dpd_history[month % 12] = 30 * behind
        report_day = _first_day_of_month(month) + c.cycle_day - 1
        delivery = report_day + 1 + np.floor(u[0] * 5).astype(np.int64)
        drifted = self._drifted(delivery)
        inquiries = rng.poisson(0.4 + 1.2 * _sigmoid(c.z) + 1.5 * self.hardship)
        inquiries = inquiries + np.where(drifted, drift_rng.poisson(DRIFT_INQUIRIES, c.n), 0)
        score = 715 - 48 * (0.75 * c.z + 0.66 * c.bureau_noise) - BUREAU_HARDSHIP * self.hardship - 22 * behind
        score = score - 6 * inquiries + 12 * noise[0]
        debt = c.base_debt * np.exp(0.05 * noise[1]) * (1 + 0.25 * self.hardship)
        debt = debt + a.per_customer_sum(np.where(a.status == cat.CHARGED_OFF, 0.0, np.maximum(self.balance, 0.0)))

        emit = (c.created_us // DAY_US <= report_day) & (delivery >= self.start) & (delivery <= self.end)
        self.rows["bureau"].append(
            pa.Table.from_arrays(
                [
                    _dates(delivery[emit]),
                    pa.array(c.customer_id[emit]),
                    pa.array(np.clip(np.round(score), 300, 850).astype(np.int32)[emit]),
                    pa.array((c.base_loans + (self.hardship & (u[1] < 0.5))).astype(np.int32)[emit]),
                    pa.array(_cents(debt)[emit]),
                    pa.array(np.maximum(self.dpd_history.max(axis=0), c.external_dpd).astype(np.int32)[emit]),
                    pa.array(inquiries.astype(np.int32)[emit]),
                ],
                schema=BUREAU,
            )
        )

    # -- the final state of the book

    def _customers_table(self) -> pa.Table:
        c = self.c
        return pa.Table.from_arrays(
            [
                pa.array(c.customer_id),
                _dates(c.birth_day),
                _labels(cat.GENDERS, c.gender),
                pa.array(c.income),
                _labels(cat.EMPLOYMENT, c.employment),
                _labels(list(cat.REGIONS), c.region),
                _timestamps(c.created_us),
                _timestamps(c.updated_us),
            ],
            schema=CUSTOMERS,
        )

    def _accounts_table(self) -> pa.Table:
        a = self.a
        return pa.Table.from_arrays(
            [
                pa.array(a.account_id),
                pa.array(self.c.customer_id[a.customer]),
                _labels(cat.PRODUCTS, a.product),
                pa.array(a.limit),
                _labels(cat.ACCOUNT_STATUS, a.status),
                _dates(a.opened_day),
                _timestamps(a.updated_us),
            ],
            schema=ACCOUNTS,
        )


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    tables = [t for t in tables if t.num_rows]  # months before `start` add empty chunks
    return pa.concat_tables(tables) if tables else schema.empty_table()


# ---------------------------------------------------------------- card transactions

_MCC_CODES = tuple(sorted({m for m, *_ in cat.CARD_PRESENT_MCC + cat.ECOM_MCC} | {cat.CASH_MCC, cat.GAMBLING_MCC}))
_MCC_INDEX = {code: i for i, code in enumerate(_MCC_CODES)}
_CARD_PRESENT = np.array([_MCC_INDEX[m] for m, *_ in cat.CARD_PRESENT_MCC])
_ECOM = np.array([_MCC_INDEX[m] for m, *_ in cat.ECOM_MCC])
_CARD_PRESENT_CUM = cat.cumulative([w for _, w, _ in cat.CARD_PRESENT_MCC])
_ECOM_CUM = cat.cumulative([w for _, w, _ in cat.ECOM_MCC])
_MEDIAN_EUR = np.zeros(len(_MCC_CODES))
for _mcc, _, _median in cat.CARD_PRESENT_MCC + cat.ECOM_MCC:
    _MEDIAN_EUR[_MCC_INDEX[_mcc]] = _median
_MEDIAN_EUR[_MCC_INDEX[cat.GAMBLING_MCC]] = cat.GAMBLING_MEDIAN_EUR
_ATM_EUR = np.array(list(cat.ATM_AMOUNTS_EUR), dtype=np.float64)
_ATM_CUM = cat.cumulative(list(cat.ATM_AMOUNTS_EUR.values()))
_COUNTRIES = (cat.HOME_COUNTRY, *cat.FOREIGN_COUNTRIES)
_FOREIGN_CUM = cat.cumulative([w for w, _ in cat.FOREIGN_COUNTRIES.values()])
_COUNTRY_CURRENCY = np.array(
    [cat.CURRENCIES.index(cat.HOME_CURRENCY)] + [cat.CURRENCIES.index(c) for _, c in cat.FOREIGN_COUNTRIES.values()]
)
_FX = np.array([cat.FX_PER_EUR[c] for c in cat.CURRENCIES])
_HOURS_CUM = cat.cumulative(cat.HOURLY_ACTIVITY)
_DRIFT_HOURS_CUM = cat.cumulative(cat.HOURLY_ACTIVITY * np.where(np.arange(24) < 6, DRIFT_NIGHT, 1.0))


@dataclass
class _Transactions:
    account: np.ndarray  # index into the block's accounts
    event_us: np.ndarray
    amount_eur: np.ndarray
    channel: np.ndarray
    mcc: np.ndarray
    country: np.ndarray
    delay_us: np.ndarray
    id_bytes: np.ndarray
    decline_u: np.ndarray
    declined: np.ndarray

    @staticmethod
    def concat(parts: list[_Transactions]) -> _Transactions:
        names = [f.name for f in fields(_Transactions)]
        return _Transactions(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})

    def take(self, rows: np.ndarray) -> _Transactions:
        return _Transactions(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    def decline(self, available: np.ndarray, blocked: np.ndarray) -> _Transactions:
        """Decline once the cycle's spend (in time order) exceeds the available credit, or the card is blocked."""
        self = self.take(np.lexsort((self.event_us, self.account)))
        spent = np.cumsum(self.amount_eur)
        starts = np.flatnonzero(np.r_[True, self.account[1:] != self.account[:-1]]) if len(spent) else np.zeros(0, int)
        before = np.repeat(spent[starts] - self.amount_eur[starts], np.diff(np.r_[starts, len(spent)]))
        over = spent - before > available[self.account]
        self.declined = blocked[self.account] | over | (self.decline_u < BASE_DECLINE)
        return self

    def table(self, accounts: _Accounts) -> pa.Table:
        """The events in time order (then account order), as the TRANSACTIONS table."""
        account_id = accounts.account_id[self.account]
        t = self.take(np.lexsort((account_id, self.event_us)))  # sorting codes is cheaper than sorting strings
        currency = _COUNTRY_CURRENCY[t.country]
        return pa.Table.from_arrays(
            [
                pa.array(np.full(len(t.event_us), SCHEMA_VERSION, np.int32)),
                _uuids(t.id_bytes),
                pa.array(accounts.account_id[t.account]),
                _timestamps(t.event_us),
                pa.array(np.maximum(_cents(t.amount_eur * _FX[currency]), 0.01)),
                _labels(cat.CURRENCIES, currency),
                _labels(_MCC_CODES, t.mcc),
                _labels(cat.CHANNELS, t.channel),
                _labels(_COUNTRIES, t.country),
                pa.array(t.declined),
                _timestamps(t.event_us + t.delay_us),
            ],
            schema=TRANSACTIONS,
        )


def _draw_transactions(
    rng: np.random.Generator,
    a: _Accounts,
    accounts: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    drift_day: int | None,
    extra: bool = False,
) -> _Transactions:
    """Transactions of `accounts` on days [low, high] (per account, inclusive); `extra`: the drift's added spend."""
    days = (high - low + 1)[accounts]
    mean = a.activity[accounts] * days / 30.4 * (DRIFT_EXTRA_SPEND if extra else 1.0)
    account = np.repeat(accounts, rng.poisson(mean))
    n = len(account)
    u = rng.random((11, n))
    normal = rng.standard_normal(n)
    id_bytes = np.frombuffer(rng.bytes(16 * n), np.uint8).reshape(n, 16)

    day = low[account] + np.floor(u[0] * (high - low + 1)[account]).astype(np.int64)
    drifted = np.ones(n, bool) if extra else (day >= drift_day if drift_day is not None else np.zeros(n, bool))
    hour = np.where(drifted, _draw(_DRIFT_HOURS_CUM, u[1]), _draw(_HOURS_CUM, u[1]))
    event_us = day * DAY_US + hour * HOUR_US + np.floor(u[2] * 3_600_000).astype(np.int64) * 1000

    p_atm = np.minimum(a.atm_share[account], 0.5)
    p_ecom = ECOM_SHARE
    p_contactless = CONTACTLESS_SHARE * (1 - p_atm - p_ecom)
    channel = np.select(
        [u[3] < p_atm, u[3] < p_atm + p_ecom, u[3] < p_atm + p_ecom + p_contactless],
        [cat.ATM, cat.ECOM, cat.CONTACTLESS],
        cat.POS,
    )
    mcc = np.where(channel == cat.ECOM, _ECOM[_draw(_ECOM_CUM, u[4])], _CARD_PRESENT[_draw(_CARD_PRESENT_CUM, u[4])])
    gamble = (channel == cat.ECOM) & (u[5] < a.gamble_share[account])
    mcc = np.where(gamble, _MCC_INDEX[cat.GAMBLING_MCC], mcc)
    mcc = np.where(channel == cat.ATM, _MCC_INDEX[cat.CASH_MCC], mcc)

    amount = _MEDIAN_EUR[mcc] * np.exp(0.8 * normal)
    amount = np.where(channel == cat.ATM, _ATM_EUR[_draw(_ATM_CUM, u[4])], np.maximum(amount, 0.5))

    p_foreign = np.minimum(FOREIGN_BY_CHANNEL[channel] * a.travel[account], 0.9)
    country = np.where(u[6] < p_foreign, 1 + _draw(_FOREIGN_CUM, u[7]), 0)

    # Most events reach Kafka within seconds; offline terminals upload hours to two days later.
    late = u[8] < LATE_BY_CHANNEL[channel]
    delay_us = np.where(late, HOUR_US + u[10] * 47 * HOUR_US, 150_000 + u[10] * 3_000_000).astype(np.int64)
    return _Transactions(
        account=account,
        event_us=event_us,
        amount_eur=amount,
        channel=channel,
        mcc=mcc,
        country=country,
        delay_us=delay_us // 1000 * 1000,
        id_bytes=id_bytes,
        decline_u=u[9],
        declined=np.zeros(n, bool),
    )


# ---------------------------------------------------------------- views the writers need


ARRIVAL_ORDER = [("arrival_time", "ascending"), ("event_time", "ascending"), ("txn_id", "ascending")]


def kafka_window(params: SeedParams, transactions: pa.Table) -> pa.Table:
    """The events on the topic (event day >= `kafka_from`), in the order they reached Kafka."""
    since = pa.scalar(_day(params.kafka_from) * DAY_US, pa.timestamp("us", tz="UTC"))
    window = transactions.filter(pc.greater_equal(transactions["event_time"], since))
    return window.sort_by(ARRIVAL_ORDER)


def late_arrivals(events: pa.Table) -> int:
    """Events that reached Kafka at least `LATE_AFTER_US` after they happened."""
    delay = pc.subtract(events["arrival_time"].cast(pa.int64()), events["event_time"].cast(pa.int64()))
    return pc.sum(pc.greater_equal(delay, LATE_AFTER_US).cast(pa.int64())).as_py() or 0


def archive(params: SeedParams, transactions: pa.Table) -> pa.Table:
    """The events older than the Kafka window, as the HDFS archive holds them (event fields only)."""
    since = pa.scalar(_day(params.kafka_from) * DAY_US, pa.timestamp("us", tz="UTC"))
    older = transactions.filter(pc.less(transactions["event_time"], since))
    return older.select(TRANSACTION_EVENT.names)


def archive_months(events: pa.Table) -> Iterator[tuple[int, int, pa.Table]]:
    """(year, month, events of that month) for each month present, in order."""
    year = pc.year(events["event_time"]).to_numpy()
    month = pc.month(events["event_time"]).to_numpy()
    key = year * 12 + month - 1
    for value in np.unique(key):
        yield int(value // 12), int(value % 12 + 1), events.filter(pa.array(key == value))


def bureau_days(bureau: pa.Table) -> Iterator[tuple[date, pa.Table]]:
    """(delivery day, the file's rows) for each day with a delivery, in order; columns as in the file."""
    days = bureau["dt"].cast(pa.int32()).to_numpy()
    for value in np.unique(days):
        rows = bureau.filter(pa.array(days == value)).select(list(BUREAU_COLUMNS))
        yield date(1970, 1, 1) + timedelta(days=int(value)), rows.sort_by("customer_id")
