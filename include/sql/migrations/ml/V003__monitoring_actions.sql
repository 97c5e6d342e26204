-- What monitoring did about a model on a day: one row per (model, date, action), so a
-- re-run finds the row and does not alert, signal or roll back a second time.
-- `status` is 'started' from the claim until the action is done: a run that died in
-- between finds 'started' and does the action again (at least once, never twice after 'done').
create table ml.monitoring_actions (
    model          text         not null,
    action_date    date         not null,
    action         text         not null,  -- drift_alert, retrain_signal, rollback, performance_alert
    model_version  text         not null,  -- the champion the action was about
    status         text         not null check (status in ('started', 'done')),
    detail         jsonb        not null default '{}',
    dag_run_id     text,
    started_at     timestamptz  not null default now(),
    done_at        timestamptz,
    primary key (model, action_date, action)
);

-- Trend plots and dashboards read one model's metric over time.
create index monitoring_metrics_model_metric_idx on ml.monitoring_metrics (model, metric, metric_date);
