"""
### Ingest card transactions from Kafka, exactly once

Every hour, lands the new events of the topic named by the variable
`card_transactions_topic` (default `card-transactions`; connection `kafka_default`) in
`raw/cards/card_transactions/ds=<event date UTC>/`:

1. **plan**: per Kafka partition, from where the lake already holds the topic
   (`_offsets.json` checkpoint; the consumer group's committed offset the first time)
   up to the high watermark taken now; the plan is saved before anything lands, and a
   retry finishes the same plan instead of taking a new snapshot;
2. **land**: exactly those offsets, decoded and typed; each day partition gets one file
   per (Kafka partition, offset range) and one manifest commit listing the ranges;
   a range already listed is skipped, so a retry never duplicates;
3. **commit**: only then the lake checkpoint and the group's offsets.

Events land in the partition of their *event* time: late arrivals go to older days and
are counted (`late` in the task's return value). Malformed messages land, with their
reason, in `raw/cards/card_transactions_rejected/`. One landing at a time
(`max_active_tis_per_dag=1`): the plan is not a lock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, task

from orchestration.assets import lake_asset
from orchestration.deadlines import completion_deadline, deadline_doc
from orchestration.defaults import task_defaults

GROUP_ID = "lake-landing.card-transactions"  # this DAG's own group, not the connection's shared one


# Hourly, one run at a time: a run still going after 45 minutes delays the next hour's.
FINISHED_WITHIN = timedelta(minutes=45)


@dag(
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(owner="data-eng"),
    tags=["ingestion", "kafka", "cards"],
    deadline=completion_deadline(FINISHED_WITHIN),
    doc_md=__doc__ + deadline_doc(FINISHED_WITHIN),
)
def ingest_kafka_transactions():
    @task(
        outlets=[lake_asset("raw", "cards", "card_transactions")],
        max_active_tis_per_dag=1,
        execution_timeout=timedelta(minutes=50),
    )
    def land_card_transactions(data_interval_start=None, **context) -> dict:
        """Land the topic's new offsets exactly once; late and rejected events are counted."""
        from airflow.sdk import Variable

        from include.ingestion.kafka import land_topic
        from orchestration.resources import kafka_config, lake, written_by

        summary = land_topic(
            lake(),
            kafka_config("kafka_default"),
            topic=Variable.get("card_transactions_topic"),
            group_id=GROUP_ID,
            late_before=data_interval_start.date(),
            written_by=written_by(context),
        )
        return {k: v for k, v in summary.items() if k != "partition_uris"} | {"days": len(summary["per_ds"])}

    land_card_transactions()


ingest_kafka_transactions()
