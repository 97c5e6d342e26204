"""
### Platform health check

Every 30 minutes, asks each external system the platform depends on whether it
answers, through the same Airflow connections the pipelines use:

| connection | system |
| --- | --- |
| `core_postgres`, `ml_postgres` | source and ML databases |
| `lake_s3`, `partner_s3` | lake and partner-drop buckets (S3 API) |
| `kafka_default` | card-transactions stream |
| `webhdfs_default` | HDFS archive |
| `mlflow_default` | MLflow tracking server and registry |

One mapped task per connection, so the grid shows at a glance which one is down,
and a failure alerts (Slack / e-mail) like any other task. Run it by hand after
changing a connection: **Trigger DAG** in the UI or
`bin/airflow dags test platform_healthcheck`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from orchestration.deadlines import completion_deadline, deadline_doc
from orchestration.defaults import task_defaults

CONNECTIONS = [
    "core_postgres",
    "ml_postgres",
    "lake_s3",
    "partner_s3",
    "kafka_default",
    "webhdfs_default",
    "mlflow_default",
]


# Connection probes take seconds; the 10-minute run timeout is the hard stop.
FINISHED_WITHIN = timedelta(minutes=5)


@dag(
    schedule=timedelta(minutes=30),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="platform", retries=2, retry_delay=timedelta(seconds=20)),
    dagrun_timeout=timedelta(minutes=10),
    tags=["platform", "ops"],
    deadline=completion_deadline(FINISHED_WITHIN),
    doc_md=__doc__ + deadline_doc(FINISHED_WITHIN),
)
def platform_healthcheck():
    @task(execution_timeout=timedelta(minutes=2))
    def check_connection(conn_id: str) -> str:
        """Open the connection's provider hook and run the provider's own connection test."""
        from orchestration.connectivity import probe

        return probe(conn_id)

    check_connection.expand(conn_id=CONNECTIONS)


platform_healthcheck()
