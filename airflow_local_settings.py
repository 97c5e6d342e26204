"""Airflow's local settings hook: Airflow imports this module in every process it starts.

It does three things.

**Preloading.** With the LocalExecutor, the scheduler forks the processes that run tasks,
so whatever the scheduler has imported is already loaded in every task. Importing Great
Expectations costs about 6 s of CPU (its pydantic models), and every quality gate task
paid it again: about 90 times in `make demo`, minutes of a 2-core machine. So the
scheduler of a LocalExecutor imports the libraries the gate tasks use once, before it
forks its workers. The tasks run the same code; their own imports become look-ups. Any
other process (the CLI, `dags test`, the API server, the DAG processor, Celery workers)
preloads nothing. Project code is never preloaded, so a change to `include/` needs no
scheduler restart.

**`dags test` of a DAG with a deadline.** On the Airflow releases in
`DEADLINE_TEST_BROKEN`, `DAG.test()` crashes when a run of a DAG with a deadline succeeds
(apache/airflow#73428, see `resolving_encoded_alerts`). The tests and `make demo` run
DAGs with `airflow dags test`, so on those releases the lookup that crashes also takes
what `DAG.test()` hands it; the ids the scheduler passes are looked up as before.

**Clearing a run of a DAG with a deadline.** On the releases in `CLEAR_DEADLINE_BROKEN`,
clearing a run whose DAG has a queued-at deadline fails (apache/airflow#70368, see
`recalculate_queued_at_deadlines`): an HTTP 500 in the UI's Clear, and a crash of a
backfill that re-processes runs. Every platform DAG has such a deadline.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

PRELOAD = ("great_expectations", "pandas", "pyarrow.parquet")

# apache/airflow#73428 is open as of 3.3.2. A release that fixes it drops out of this set;
# one that does not fails tests/integration/test_deadline_alert.py's `dags test` until added.
DEADLINE_TEST_BROKEN = frozenset({"3.3.2"})
# apache/airflow#70368 (fix proposed in #70370) is open as of 3.3.2; tests/integration/
# test_deadline_alert.py clears a run with a deadline and fails on a release missing here.
CLEAR_DEADLINE_BROKEN = frozenset({"3.3.2"})


def preloads(argv: list[str], executor: str) -> bool:
    """Whether this process is a scheduler that forks task processes itself (LocalExecutor)."""
    return argv[1:2] == ["scheduler"] and executor.rsplit(".", 1)[-1] == "LocalExecutor"


def _preload() -> None:
    from airflow.configuration import conf

    if preloads(sys.argv, conf.get("core", "executor")):
        for name in PRELOAD:
            importlib.import_module(name)


def resolving_encoded_alerts(get_by_id: Callable[..., Any], model: type) -> Callable[..., Any]:
    """`get_by_id` of Airflow's `deadline_alert` table (`model`) that also takes an encoded alert.

    When a run succeeds, `DagRun.update_state` (airflow/models/dagrun.py:1267-1271) passes
    each entry of `dag.deadline` to `DeadlineAlert.get_by_id`, to learn whether any deadline
    belongs to the run and must be pruned. The scheduler's DAG comes from the
    `serialized_dag` table, where the DAG processor replaced each alert by the id of its
    `deadline_alert` row (`SerializedDagModel._generate_deadline_uuids`). `DAG.test()`
    builds its DAG by serializing and deserializing in memory
    (airflow/sdk/definitions/dag.py:1280), which keeps the encoded alerts themselves
    (serialization/serialized_objects.py:1742 and 1889), and the lookup of a dict as a UUID
    failed: "'dict' object has no attribute 'hex'". An encoded alert is the definition its
    row is made from, so it becomes that row, unsaved, field by field as
    `SerializedDagModel._create_deadline_alert_records` makes it; an id is looked up as before.
    """
    from airflow.serialization.definitions.deadline import DeadlineAlertFields as Field
    from airflow.serialization.enums import Encoding

    def lookup(deadline_alert: Any, **kwargs: Any) -> Any:
        if not isinstance(deadline_alert, dict):
            return get_by_id(deadline_alert, **kwargs)
        data = deadline_alert.get(Encoding.VAR, deadline_alert)  # with or without the type envelope
        return model(
            name=data.get(Field.NAME),
            reference=data[Field.REFERENCE],
            interval=data[Field.INTERVAL],
            callback_def=data[Field.CALLBACK],
        )

    return lookup


def _resolve_encoded_deadline_alerts() -> None:
    from airflow import __version__

    if __version__ in DEADLINE_TEST_BROKEN:
        from airflow.models.deadline_alert import DeadlineAlert

        DeadlineAlert.get_by_id = staticmethod(resolving_encoded_alerts(DeadlineAlert.get_by_id, DeadlineAlert))


def recalculate_queued_at_deadlines(dagrun: Any, new_queued_at: Any, session: Any) -> None:
    """Airflow's `_recalculate_dagrun_queued_at_deadlines`, with the stored interval decoded.

    Clearing a run gives it a new `queued_at`, so `clear_task_instances`
    (airflow/models/taskinstance.py:466) moves the run's pending queued-at deadlines by it
    (taskinstance.py:206-247). Since 3.3.0 the `deadline_alert.interval` column holds the
    serde-encoded interval (`{"__classname__": "datetime.timedelta", ..., "__data__": 3600.0}`),
    and that function still did `timedelta(seconds=interval)`: "unsupported type for
    timedelta seconds component: dict". The same query and update, with the interval
    decoded the way the run's creation decodes it (serialization/definitions/dag.py:726).
    Like the original, it neither flushes nor commits: the caller does.
    """
    from airflow.models.deadline import Deadline, ReferenceModels
    from airflow.models.deadline_alert import DeadlineAlert
    from airflow.serialization.decoders import decode_deadline_alert
    from airflow.serialization.definitions.deadline import DeadlineAlertFields as Field
    from sqlalchemy import false, select

    pending = session.execute(
        select(Deadline, DeadlineAlert)
        .join(DeadlineAlert, Deadline.deadline_alert_id == DeadlineAlert.id)
        .where(
            Deadline.dagrun_id == dagrun.id,
            Deadline.missed == false(),
            DeadlineAlert.reference[ReferenceModels.REFERENCE_TYPE_FIELD].as_string()
            == ReferenceModels.DagRunQueuedAtDeadline.__name__,
        )
    ).all()
    for deadline, alert in pending:
        interval = decode_deadline_alert(
            {Field.REFERENCE: alert.reference, Field.INTERVAL: alert.interval, Field.CALLBACK: alert.callback_def}
        ).interval
        if hasattr(interval, "resolve"):  # an interval read from a Variable
            interval = interval.resolve()
        deadline.deadline_time = new_queued_at + interval


def _decode_intervals_when_clearing() -> None:
    from airflow import __version__

    if __version__ in CLEAR_DEADLINE_BROKEN:
        from airflow.models import taskinstance

        taskinstance._recalculate_dagrun_queued_at_deadlines = recalculate_queued_at_deadlines


_preload()
_resolve_encoded_deadline_alerts()
_decode_intervals_when_clearing()
