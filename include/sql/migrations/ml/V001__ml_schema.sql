-- What the platform writes for downstream users: batch scores and monitoring metrics.
create schema if not exists ml;

-- One row per account, date and model: re-scoring a date upserts, never duplicates.
create table ml.scores (
    model          text             not null,
    score_date     date             not null,
    account_id     bigint           not null,
    probability    double precision not null check (probability between 0 and 1),
    model_version  text             not null,
    dag_run_id     text,
    scored_at      timestamptz      not null default now(),
    primary key (model, score_date, account_id)
);

-- Long format so any BI tool can chart any metric over time.
create table ml.monitoring_metrics (
    model          text             not null,
    model_version  text             not null,
    metric_date    date             not null,
    metric         text             not null,
    value          double precision,
    dag_run_id     text,
    recorded_at    timestamptz      not null default now(),
    primary key (model, model_version, metric_date, metric)
);
