"""
### Validate and publish each closed day of card transactions

`ingest_kafka_transactions` lands events hourly into the raw partition of their event
day, so a day's partition keeps growing until the day is over. This DAG gates each day
once it has closed: at 02:00 UTC it validates `raw/cards/card_transactions/ds=<day
before>` with the GX suite `include/quality/suites/raw.cards.card_transactions.yaml`
(schema, keys, amounts, currencies, channels, event times inside the day, volume against
the trailing week, accounts known to core, learned amount bounds).

- **Pass:** the day is published to `validated/cards/card_transactions/` and the Asset
  `validated/cards/card_transactions` is emitted: features are scheduled on it.
- **Fail:** the day moves to `quarantine/` with `_reason.json`, the alert lists each failed
  expectation with its observed value and the Data Docs link, and the task fails without
  retrying.
- **Late events** that arrive after 02:00 land in the raw partition of their day; re-run
  that day's validation (clear the task in the UI, or `bin/airflow tasks clear`) to
  publish them. Re-running replaces the validated day: it never duplicates.
- A day with no landed events fails naming the partition: a card portfolio never has a
  silent day, so that is an upstream outage to look at.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, task

from orchestration.deadlines import completion_deadline, deadline_doc
from orchestration.defaults import task_defaults
from orchestration.quality import quality_gate

# One day's partition through the gate; features wait for it.
FINISHED_WITHIN = timedelta(hours=1)


@dag(
    # The interval [D 02:00, D+1 02:00) validates day D: two hours of grace for the last hourly landings.
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=3,
    default_args=task_defaults(owner="data-eng"),
    tags=["quality", "kafka", "cards"],
    deadline=completion_deadline(FINISHED_WITHIN),
    doc_md=__doc__ + deadline_doc(FINISHED_WITHIN),
)
def validate_card_transactions():
    @task(execution_timeout=timedelta(minutes=5))
    def closed_day(data_interval_start=None) -> dict:
        """The raw partition of the day that has closed; fails if nothing landed for it."""
        from airflow.exceptions import AirflowFailException

        from include import lake as lk
        from orchestration.resources import lake

        store = lake()
        ref = store.partition("raw", "cards", "card_transactions", ds=data_interval_start.date())
        if not lk.partition_exists(store, ref):
            raise AirflowFailException(f"no card transactions landed for {ref.uri}: is ingest_kafka_transactions late?")
        return {"partition_uri": ref.uri}

    quality_gate("cards", "card_transactions")(closed_day())


validate_card_transactions()
