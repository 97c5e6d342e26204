"""Render a `FeatureSet` into one SQL query for an observation date D (Spark SQL or DuckDB).

The query reads six relations, named as the lake datasets are:
`transactions` (account_id, event_time, amount, mcc, country, declined), `accounts`,
`customers`, `statements`, `repayments` (each every version landed, with `updated_at`)
and `bureau` (the deliveries, with their `ds`). It returns one row per account active
at D: `account_id`, `ds` (= D), the features, and with `label=True` the label matured at
D + horizon. Every numeric feature is a double, categoricals are strings.

Only built-in SQL functions are used, and only those both dialects spell alike, except
for the few in `_DIALECTS`. Dates are rendered as literals computed here, so no interval
arithmetic differs between engines.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

from include.features.definitions import Aggregate, FeatureSet

_DIALECTS = {
    "spark": {"days_between": "datediff({end}, {start})"},
    "duckdb": {"days_between": "datediff('day', {start}, {end})"},
}

# How distinct counts per window are computed:
# - "last_seen": one pre-aggregation per (account, value) keeps the value's last event
#   time; the value counts in window w when it was last seen inside it. One extra
#   grouping instead of Spark's Expand, which copies every row once per distinct aggregate.
# - "count_distinct": count(distinct case when in_window then value end), the plain way.
DISTINCT_STRATEGIES = ("last_seen", "count_distinct")


def _ts(day: date) -> str:
    return f"TIMESTAMP '{day.isoformat()} 00:00:00'"


def _date(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def feature_columns(fs: FeatureSet) -> list[str]:
    """The feature names in output order (without account_id, ds, label)."""
    return [name for name, _ in _final_columns(fs, "spark", date(2000, 1, 1))] + [f.name for f in fs.derived]


def _window_aggregate(agg: Aggregate, window: int, d: date) -> str:
    in_window = f"event_time >= {_ts(d - timedelta(days=window))}"
    cond = f"{in_window} and ({agg.where})" if agg.where else in_window
    if agg.fn == "count":
        return f"count(case when {cond} then 1 end)"
    if agg.fn == "sum":
        return f"coalesce(sum(case when {cond} then {agg.value} end), 0)"
    # Means and shares are ratios of counts and sums rather than avg(): each avg() keeps a
    # sum and a count of its own in every account's aggregation buffer, while these share
    # the sums and the window's count with the other aggregates (both engines evaluate an
    # aggregate written twice once). Same values: avg() is that sum over that count. At 10M
    # events Spark's buffer shrank from 48 to 33 values and that aggregation's JVM CPU time
    # from 10.1 to 7.7 s.
    if agg.fn == "mean":
        return f"sum(case when {cond} then {agg.value} end) / nullif(count(case when {cond} then {agg.value} end), 0)"
    if agg.fn in ("std", "max"):
        sql_fn = {"std": "stddev_samp", "max": "max"}[agg.fn]
        return f"{sql_fn}(case when {cond} then {agg.value} end)"
    if agg.fn == "share":
        return (
            f"cast(count(case when {cond} then 1 end) as double) / nullif(count(case when {in_window} then 1 end), 0)"
        )
    if agg.fn == "distinct":
        return f"count(distinct case when {cond} then {agg.value} end)"
    raise ValueError(f"aggregate {agg.name}: unknown fn '{agg.fn}', expected count|sum|mean|std|max|share|distinct")


def transaction_ctes(fs: FeatureSet, d: date, distinct: str = "last_seen") -> dict[str, str]:
    """Named CTEs ending in `txn_agg`: one row per account with events in [D - max window, D)."""
    if distinct not in DISTINCT_STRATEGIES:
        raise ValueError(f"distinct strategy '{distinct}': expected one of {DISTINCT_STRATEGIES}")
    start = d - timedelta(days=fs.max_window)
    plain, distincts = [], []
    for agg in fs.transaction_aggregates:
        for w in fs.windows_days:
            name = f"{agg.name}_{w}d"
            if agg.fn == "distinct" and distinct == "last_seen":
                distincts.append((agg, w, name))
            else:
                plain.append(f"{_window_aggregate(agg, w, d)} as {name}")
    ctes = {
        "txn": (
            "select account_id, event_time, amount, mcc, country, declined from transactions "
            f"where event_time >= {_ts(start)} and event_time < {_ts(d)}"
        ),
        "txn_plain": f"select account_id, {', '.join(plain)} from txn group by account_id",
    }
    joins, cols = [], []
    for i, (value, where) in enumerate(sorted({(agg.value, agg.where or "true") for agg, _, _ in distincts})):
        seen = f"txn_seen{i}"
        mine = [(agg, w, name) for agg, w, name in distincts if (agg.value, agg.where or "true") == (value, where)]
        counts = ", ".join(
            f"count(case when last_time >= {_ts(d - timedelta(days=w))} then 1 end) as {name}" for _, w, name in mine
        )
        ctes[seen] = (
            f"select account_id, {counts} from (select account_id, {value}, max(event_time) as last_time "
            f"from txn where {value} is not null and ({where}) group by account_id, {value}) group by account_id"
        )
        joins.append(f"left join {seen} on {seen}.account_id = txn_plain.account_id")
        cols += [f"coalesce({seen}.{name}, 0) as {name}" for _, _, name in mine]
    ctes["txn_agg"] = f"select {', '.join(['txn_plain.*', *cols])} from txn_plain {' '.join(joins)}"
    return ctes


def transaction_aggregates_sql(fs: FeatureSet, d: date, distinct: str = "last_seen") -> str:
    """The transaction part alone (the hot path, what the benchmark compares across engines)."""
    return _with(transaction_ctes(fs, d, distinct)) + " select * from txn_agg"


def _with(ctes: dict[str, str]) -> str:
    return "with " + ", ".join(f"{name} as ({sql})" for name, sql in ctes.items())


def _latest(relation: str, key: str, d: date, where: str = "true") -> str:
    """Each key's latest version known before D (an as-of read of an incrementally landed table)."""
    return (
        f"select * from (select r.*, row_number() over (partition by {key} order by updated_at desc) as rn_ "
        f"from {relation} r where updated_at < {_ts(d)} and ({where})) where rn_ = 1"
    )


# The columns the query reads of each slowly changing table: (key, columns).
_SLOWLY_CHANGING = {
    "accounts": ("account_id", ("customer_id", "product", "credit_limit", "status", "opened_at")),
    "customers": ("customer_id", ("birth_date", "gender", "income", "employment_status", "region", "created_at")),
}


def _as_of(fs: FeatureSet, relation: str, d: date) -> str:
    """Each key's latest version known before D, else (no version before D) its earliest landed version
    with only the columns that never change (`FeatureSet.stable_columns`), the others null.

    `known_` tells the two apart. The fallback exists for keys whose history the lake lacks: an
    initial load lands each row's latest version only, so a row changed after D has none before D.
    Dropping such rows would drop most of the accounts that later default (their status and limit
    change), and taking their later values would leak them.
    """
    key, columns = _SLOWLY_CHANGING[relation]
    stable = dict(fs.stable_columns).get(relation, ())
    known = f"updated_at < {_ts(d)}"
    picked = [c if c in stable else f"case when known_ then {c} end as {c}" for c in columns]
    return (
        f"select {key}, {', '.join(picked)}, known_ from (select r.*, {known} as known_, row_number() over "
        f"(partition by {key} order by case when {known} then 0 else 1 end, "
        f"case when {known} then updated_at end desc, updated_at) as rn_ from {relation} r) where rn_ = 1"
    )


def _age_band(fs: FeatureSet, age: str) -> str:
    bounds = fs.age_bands
    cases = [f"when {age} < {bounds[0]} then 'under_{bounds[0]}'"]
    for lo, hi in pairwise(bounds):
        cases.append(f"when {age} < {hi} then '{lo}-{hi - 1}'")
    return f"case {' '.join(cases)} when {age} is null then null else '{bounds[-1]}+' end"


def _final_columns(fs: FeatureSet, dialect: str, d: date) -> list[tuple[str, str]]:
    """(name, expression) of every feature, over the joined CTEs of `features_sql`."""
    days = _DIALECTS[dialect]["days_between"]
    ds = _date(d)
    age_years = f"floor({days.format(start='c.birth_date', end=ds)} / 365.25)"
    cols: list[tuple[str, str]] = [
        ("product", "a.product"),
        ("age_band", _age_band(fs, age_years)),
        ("employment_status", "c.employment_status"),
        ("region", "c.region"),
        # An account without a version before D: the limit of its latest statement before D.
        ("credit_limit", "case when a.known_ then a.credit_limit else s.credit_limit_last end"),
        ("income", "c.income"),
        ("tenure_days", days.format(start="a.opened_at", end=ds)),
        ("customer_tenure_days", days.format(start="cast(c.created_at as date)", end=ds)),
    ]
    for agg in fs.transaction_aggregates:
        for w in fs.windows_days:
            name = f"{agg.name}_{w}d"
            zero = agg.fn in ("count", "sum", "distinct")
            cols.append((name, f"coalesce(t.{name}, 0)" if zero else f"t.{name}"))
    cols += [
        ("utilization_last", "s.utilization_last"),
        (f"utilization_mean_{fs.statement_window_days}d", "s.utilization_mean"),
        ("dpd_last", "s.dpd_last"),
        (f"dpd_max_{fs.delinquency_window_days}d", "s.dpd_max"),
        (f"delinquent_statements_{fs.delinquency_window_days}d", "coalesce(s.delinquent_statements, 0)"),
        (f"min_payment_due_{fs.statement_window_days}d", "coalesce(s.min_payment_due, 0)"),
        (f"repaid_{fs.statement_window_days}d", "coalesce(p.repaid, 0)"),
        (f"repayments_{fs.statement_window_days}d", "coalesce(p.repayments, 0)"),
        ("bureau_score", "b.bureau_score"),
        ("open_loans", "b.open_loans"),
        ("total_debt", "b.total_debt"),
        ("max_dpd_12m", "b.max_dpd_12m"),
        ("inquiries_6m", "b.inquiries_6m"),
        ("bureau_age_days", days.format(start="b.ds_", end=ds)),
    ]
    return cols


def features_sql(
    fs: FeatureSet, d: date, *, dialect: str = "spark", label: bool = False, distinct: str = "last_seen"
) -> str:
    """The whole feature query at D; with `label`, the training population and its label (see module doc)."""
    if dialect not in _DIALECTS:
        raise ValueError(f"dialect '{dialect}': expected one of {sorted(_DIALECTS)}")
    sw, dw = fs.statement_window_days, fs.delinquency_window_days
    since_sw, since_dw = _date(d - timedelta(days=sw)), _date(d - timedelta(days=dw))
    ctes = transaction_ctes(fs, d, distinct) | {
        "acc": _as_of(fs, "accounts", d),
        "cust": _as_of(fs, "customers", d),
        "stmt": _latest("statements", "statement_id", d, f"statement_date < {_date(d)}"),
        "stmt_agg": (
            "select account_id, max_by(days_past_due, statement_date) as dpd_last, "
            "max_by(balance / nullif(credit_limit, 0), statement_date) as utilization_last, "
            "max_by(credit_limit, statement_date) as credit_limit_last, "
            f"avg(case when statement_date >= {since_sw} then balance / nullif(credit_limit, 0) end) "
            "as utilization_mean, "
            f"max(case when statement_date >= {since_dw} then days_past_due end) as dpd_max, "
            f"count(case when statement_date >= {since_dw} and days_past_due > 0 then 1 end) "
            "as delinquent_statements, "
            f"sum(case when statement_date >= {since_sw} then min_payment_due end) as min_payment_due "
            "from stmt group by account_id"
        ),
        "pay": (
            "select account_id, sum(amount) as repaid, count(*) as repayments "
            f"from ({_latest('repayments', 'repayment_id', d)}) "
            f"where paid_at >= {_ts(d - timedelta(days=sw))} and paid_at < {_ts(d)} group by account_id"
        ),
        # The latest delivery before D per customer; `ds` is the delivery day (from the partition path).
        "bur": (
            "select * from (select r.*, row_number() over (partition by customer_id order by ds_ desc) as rn_ "
            f"from (select *, cast(ds as date) as ds_ from bureau) r where ds_ < {_date(d)} "
            f"and ds_ >= {_date(d - timedelta(days=fs.bureau_max_age_days))}) where rn_ = 1"
        ),
    }
    # An account without a version before D counts as active at D: its only version is later, and
    # closing or charging off an account is its last change.
    population = f"(a.status = 'active' or not a.known_) and a.opened_at < {_date(d)}"
    if label:
        end = d + timedelta(days=fs.label_horizon_days)
        # Statements as known at the end of D + horizon: the label has matured then.
        ctes["lab"] = (
            f"select account_id, max(case when days_past_due >= {fs.label_dpd} then 1 else 0 end) as label "
            f"from ({_latest('statements', 'statement_id', end + timedelta(days=1))}) "
            f"where statement_date > {_date(d)} and statement_date <= {_date(end)} group by account_id"
        )
        # Accounts already in default at D are not part of the population whose default is predicted.
        population += f" and coalesce(s.dpd_last, 0) < {fs.label_dpd}"
    string = "varchar" if dialect == "duckdb" else "string"
    select = [
        f"cast({expr} as {string if name in fs.categoricals else 'double'}) as {name}"
        for name, expr in _final_columns(fs, dialect, d)
    ]
    ctes["base"] = (
        f"select a.account_id, {_date(d)} as ds, {', '.join(select)}"
        + (", cast(coalesce(l.label, 0) as int) as label" if label else "")
        + " from acc a left join cust c on c.customer_id = a.customer_id"
        " left join txn_agg t on t.account_id = a.account_id"
        " left join stmt_agg s on s.account_id = a.account_id"
        " left join pay p on p.account_id = a.account_id"
        " left join bur b on b.customer_id = a.customer_id"
        + (" left join lab l on l.account_id = a.account_id" if label else "")
        + f" where {population}"
    )
    derived = [f"cast({f.sql} as double) as {f.name}" for f in fs.derived]
    return _with(ctes) + f" select base.*, {', '.join(derived)} from base order by account_id"
