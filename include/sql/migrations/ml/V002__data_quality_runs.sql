-- One row per validation of a lake partition by the data-quality gate (include/quality),
-- pass or fail, for trend dashboards and as the history that volume bands and learned
-- distribution bounds are computed from. Re-validating a day adds a row: the latest
-- row of a (dataset, ds) is its current verdict.
create table ml.data_quality_runs (
    id                        bigserial    primary key,
    dataset                   text         not null,  -- lake dataset, e.g. raw/partner/bureau
    ds                        date         not null,  -- the partition's day
    success                   boolean      not null,
    row_count                 bigint,                 -- null: the delivery could not be read
    evaluated_expectations    integer      not null,
    failed_expectations       integer      not null,
    failed_expectation_names  text[]       not null default '{}',
    observed                  jsonb        not null default '{}',  -- expectation id -> observed number
    reason                    text,                   -- why it failed, in one line
    data_docs_uri             text,
    partition_uri             text,                   -- where the data is now (validated/ or quarantine/)
    engine                    text,                   -- pandas or spark
    dag_id                    text,
    run_id                    text,
    task_id                   text,
    validated_at              timestamptz  not null default now()
);
create index data_quality_runs_dataset_ds_idx on ml.data_quality_runs (dataset, ds, validated_at);
