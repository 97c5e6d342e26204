-- The core banking tables the platform extracts from (the demo data comes from
-- `python -m devstack.seed`). Each row carries `updated_at`, moved by every change
-- (a new income, limit or status), and each table has an index on it: ingestion
-- extracts incrementally by that watermark.

create table core.customers (
    customer_id        bigint        primary key,
    birth_date         date          not null,
    gender             text          check (gender in ('F', 'M', 'X')),  -- null: not stated
    income             numeric(12,2) not null check (income >= 0),      -- yearly, EUR, as last declared
    employment_status  text          not null
                       check (employment_status in ('employed', 'self_employed', 'unemployed', 'retired', 'student')),
    region             text          not null,                          -- ISO 3166-2, e.g. DE-BY
    created_at         timestamptz   not null,
    updated_at         timestamptz   not null
);
create index customers_updated_at_idx on core.customers (updated_at);

create table core.accounts (
    account_id    bigint        primary key,
    customer_id   bigint        not null references core.customers,
    product       text          not null,
    credit_limit  numeric(12,2) not null check (credit_limit > 0),  -- the current limit
    status        text          not null check (status in ('active', 'closed', 'charged_off')),
    opened_at     date          not null,
    updated_at    timestamptz   not null
);
create index accounts_customer_id_idx on core.accounts (customer_id);
create index accounts_updated_at_idx on core.accounts (updated_at);

-- One row per account and monthly cycle. days_past_due is the contractual delinquency
-- at the statement date (30 per unpaid cycle): the default label is derived from it.
-- credit_limit is the limit at the statement date, so utilisation is point-in-time.
create table core.statements (
    statement_id     bigint        primary key,
    account_id       bigint        not null references core.accounts,
    statement_date   date          not null,
    balance          numeric(12,2) not null,
    credit_limit     numeric(12,2) not null check (credit_limit > 0),
    min_payment_due  numeric(12,2) not null check (min_payment_due >= 0),
    due_date         date          not null check (due_date > statement_date),
    days_past_due    integer       not null check (days_past_due >= 0),
    updated_at       timestamptz   not null,
    unique (account_id, statement_date)
);
create index statements_updated_at_idx on core.statements (updated_at);

create table core.repayments (
    repayment_id  bigint        primary key,
    account_id    bigint        not null references core.accounts,
    paid_at       timestamptz   not null,
    amount        numeric(12,2) not null check (amount > 0),
    updated_at    timestamptz   not null
);
create index repayments_account_id_idx on core.repayments (account_id, paid_at);
create index repayments_updated_at_idx on core.repayments (updated_at);
