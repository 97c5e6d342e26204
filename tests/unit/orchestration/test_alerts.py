from dataclasses import dataclass
from datetime import UTC, datetime

from orchestration import alerts


@dataclass
class TaskInstanceStub:
    """The attributes of Airflow's RuntimeTaskInstance that an alert reads."""

    dag_id: str = "ingest_s3_bureau"
    task_id: str = "land_bureau_file"
    run_id: str = "scheduled__2026-11-20T00:00:00+00:00"
    try_number: int = 3
    max_tries: int = 2
    log_url: str = "http://localhost:8080/dags/ingest_s3_bureau/runs/r/tasks/land_bureau_file?try_number=3"


def context(exception: Exception | None = None) -> dict:
    return {
        "ti": TaskInstanceStub(),
        "logical_date": datetime(2026, 11, 20, tzinfo=UTC),
        "exception": exception or ValueError("bureau_2026-11-20.csv: column 'bureau_score' has 312 nulls"),
    }


def test_failure_alert_names_dag_task_date_try_exception_and_log_link():
    alert = alerts.describe(context(), retrying=False)
    for fact in (
        "ingest_s3_bureau",
        "land_bureau_file",
        "2026-11-20T00:00:00+00:00",
        "3 of 3",
        "ValueError: bureau_2026-11-20.csv: column 'bureau_score' has 312 nulls",
        "http://localhost:8080/dags/ingest_s3_bureau/runs/r/tasks/land_bureau_file?try_number=3",
    ):
        assert fact in alert.text
        assert fact.replace("'", "&#x27;") in alert.html
    assert alert.subject == "[airflow] ingest_s3_bureau.land_bureau_file FAILED (2026-11-20T00:00:00+00:00)"


def test_retry_alert_says_it_will_retry():
    ctx = context()
    ctx["ti"].try_number = 1
    alert = alerts.describe(ctx, retrying=True)
    assert "retrying" in alert.subject
    assert "will retry (try 1 of 3)" in alert.text


def test_html_body_escapes_markup_from_the_exception():
    alert = alerts.describe(context(RuntimeError("<script>x</script> {{ var }}")), retrying=False)
    assert "<script>" not in alert.html
    assert "&lt;script&gt;" in alert.html
    assert "{{ var }}" in alert.text


def test_manual_run_without_logical_date_is_described():
    ctx = context()
    ctx["logical_date"] = None
    assert "manual run (no logical date)" in alerts.describe(ctx, retrying=False).subject
