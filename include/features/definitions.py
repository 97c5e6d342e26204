"""The credit-default feature set, declared as data: what each feature is, not how an engine computes it.

`query.py` renders these declarations into one SQL query per observation date D, in the
dialect of the engine that runs it (Spark SQL on the hot path, DuckDB in the benchmark),
with built-in functions only. The feature set's version is a hash of these declarations
(and of the query renderer's own version), so changing any definition writes a new
`features/<set>/v<version>/` instead of silently mixing two meanings under one name.

Point in time: every feature at D sees only what was known before D. Events count when
their event time is < D; core tables are taken as of D (for each key the latest version
with `updated_at` < D); the bureau attributes are those of the latest delivery before D.
An account or customer with no version before D (its only landed version is an initial
load's snapshot taken after D, see `stable_columns`) keeps only the attributes that never
change over its life; the others are unknown at D.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

FEATURE_SET = "credit_default"
TRAINING_SET = f"{FEATURE_SET}_training"
SCORING_SET = f"{FEATURE_SET}_scoring"

# Bumped when the renderer changes what a declaration means.
RENDERER_VERSION = 2

CASH_MCC = "6011"  # ATM withdrawal on a credit card: a cash advance
HOME_COUNTRY = "DE"


@dataclass(frozen=True)
class Aggregate:
    """A transaction aggregate computed per account over each window (events in [D - w days, D)).

    `fn`: count | sum | mean | std | max | share | distinct. `value` is a column or SQL
    expression of the transaction row; `where` restricts the rows (SQL predicate).
    `share` is the fraction of the window's transactions for which `where` holds.
    `distinct` counts the distinct values of `value`. Empty windows give 0 for counts
    and sums, null (missing) for means, std, max and shares.
    """

    name: str
    fn: str
    value: str | None = None
    where: str | None = None


@dataclass(frozen=True)
class Derived:
    """A feature computed from other features of the same row (SQL expression over their names)."""

    name: str
    sql: str


@dataclass(frozen=True)
class FeatureSet:
    name: str
    windows_days: tuple[int, ...]
    transaction_aggregates: tuple[Aggregate, ...]
    derived: tuple[Derived, ...]
    # Statement / repayment look-backs for utilization and payment behaviour.
    statement_window_days: int = 90
    delinquency_window_days: int = 180
    # A bureau delivery older than this is treated as missing (customers refresh monthly).
    bureau_max_age_days: int = 120
    # Age bands: lower bounds in years; the label of band i is "<lo>-<next lo - 1>" and the last "<lo>+".
    age_bands: tuple[int, ...] = (18, 26, 36, 46, 56, 66)
    label_horizon_days: int = 90
    label_dpd: int = 90
    categoricals: tuple[str, ...] = field(
        default=("product", "age_band", "employment_status", "region"),
    )
    # Per slowly changing table, the columns that never change over a row's life. A source
    # keeps only each row's latest version, so a table's first landing (an initial load) has
    # no version before D for a row that changed after D. At such a D the row is taken from
    # its earliest landed version with these columns only: a later value of any other column
    # (status, limit, income, employment) would tell the future. Its credit limit comes from
    # its latest statement before D instead; income and employment are unknown (null).
    stable_columns: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("accounts", ("customer_id", "product", "opened_at")),
        ("customers", ("birth_date", "gender", "region", "created_at")),
    )

    @property
    def version(self) -> str:
        """A number (the lake layout wants `v<digits>`) from the SHA-256 of the declarations."""
        payload = json.dumps({"renderer": RENDERER_VERSION, **asdict(self)}, sort_keys=True)
        return str(int(hashlib.sha256(payload.encode()).hexdigest()[:8], 16))

    @property
    def max_window(self) -> int:
        return max(self.windows_days)

    def matured_date(self, d: date) -> date:
        """The latest observation date whose label has matured by D: its window (D', D' + horizon]
        closed before D, so a run at D can build the training set for it."""
        return d - timedelta(days=self.label_horizon_days + 1)


_APPROVED = "not declined"

CREDIT_DEFAULT = FeatureSet(
    name=FEATURE_SET,
    windows_days=(7, 30, 90),
    transaction_aggregates=(
        Aggregate("txn_count", "count"),
        Aggregate("amount_sum", "sum", value="amount", where=_APPROVED),
        Aggregate("amount_mean", "mean", value="amount", where=_APPROVED),
        Aggregate("amount_std", "std", value="amount", where=_APPROVED),
        Aggregate("amount_max", "max", value="amount", where=_APPROVED),
        Aggregate("declined_share", "share", where="declined"),
        Aggregate("cash_advance_share", "share", where=f"mcc = '{CASH_MCC}'"),
        Aggregate("foreign_share", "share", where=f"country <> '{HOME_COUNTRY}'"),
        # Midnight to 6 am UTC: engines run with the session time zone set to UTC.
        Aggregate("night_share", "share", where="hour(event_time) < 6"),
        Aggregate("distinct_mcc", "distinct", value="mcc"),
    ),
    derived=(
        Derived("amount_trend_30d_90d", "amount_sum_30d / nullif(amount_sum_90d / 3.0, 0)"),
        Derived("txn_count_trend_30d_90d", "txn_count_30d / nullif(txn_count_90d / 3.0, 0)"),
        Derived("spend_to_limit_30d", "amount_sum_30d / nullif(credit_limit, 0)"),
        Derived("min_pay_ratio_90d", "repaid_90d / nullif(min_payment_due_90d, 0)"),
        Derived("debt_to_income", "total_debt / nullif(income, 0)"),
    ),
)
