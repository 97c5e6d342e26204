"""The scheduler of a LocalExecutor preloads the gate tasks' libraries; no other process does.
On Airflow 3.3.2, the deadline-alert lookup also takes the encoded alerts `dags test` hands it."""

import pytest

from airflow_local_settings import DEADLINE_TEST_BROKEN, preloads, resolving_encoded_alerts


@pytest.mark.parametrize(
    ("argv", "executor", "expected"),
    [
        (["airflow", "scheduler"], "LocalExecutor", True),
        (["airflow", "scheduler"], "airflow.executors.local_executor.LocalExecutor", True),
        (["airflow", "scheduler"], "CeleryExecutor", False),  # tasks run on Celery workers
        (["airflow", "dags", "test", "x"], "LocalExecutor", False),
        (["airflow", "api-server"], "LocalExecutor", False),
        (["airflow", "dag-processor"], "LocalExecutor", False),
        (["airflow"], "LocalExecutor", False),
    ],
)
def test_only_a_local_executors_scheduler_preloads(argv, executor, expected):
    assert preloads(argv, executor) is expected


def _test_dag_deadlines() -> list:
    """`dag.deadline` as `DAG.test()` builds it: the DAG serialized and deserialized in memory."""
    from datetime import datetime, timedelta

    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    from orchestration.deadlines import completion_deadline

    dag = DAG("probe", schedule=None, start_date=datetime(2026, 1, 1), deadline=completion_deadline(timedelta(hours=2)))
    return DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).deadline


def test_an_encoded_deadline_alert_resolves_to_the_row_it_defines():
    from airflow.models.deadline_alert import DeadlineAlert
    from airflow.serialization.definitions.deadline import SerializedReferenceModels

    lookup = resolving_encoded_alerts(lambda *_, **__: pytest.fail("an encoded alert needs no lookup"), DeadlineAlert)
    [entry] = _test_dag_deadlines()
    assert isinstance(entry, dict)  # what DagRun.update_state hands to get_by_id under `dags test`

    alert = lookup(entry, session=None)
    # What DagRun.update_state reads: whether the deadline belongs to the run (and is pruned on success).
    assert alert.reference_class is SerializedReferenceModels.DagRunQueuedAtDeadline
    assert alert.reference_class in SerializedReferenceModels.TYPES.DAGRUN
    assert alert.callback_def["__data__"]["path"] == "orchestration.deadlines.alert_missed_deadline"
    assert alert.interval["__data__"] == 7200.0


def test_an_id_is_looked_up_as_before():
    from airflow.models.deadline_alert import DeadlineAlert

    calls = []
    lookup = resolving_encoded_alerts(lambda *args, **kwargs: calls.append((args, kwargs)) or "row", DeadlineAlert)
    assert lookup("01a2075e-b2f6-7917-9fa4-024202d6575a", session="s") == "row"
    assert calls == [(("01a2075e-b2f6-7917-9fa4-024202d6575a",), {"session": "s"})]


def test_the_pinned_airflow_gets_the_lookup_that_takes_encoded_alerts():
    from airflow import __version__
    from airflow.models.deadline_alert import DeadlineAlert

    assert __version__ in DEADLINE_TEST_BROKEN  # drop the shim (and this test) once Airflow fixes #73428
    [entry] = _test_dag_deadlines()
    assert DeadlineAlert.get_by_id(entry).reference_class.__name__ == "DagRunQueuedAtDeadline"
