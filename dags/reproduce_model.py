"""
### Reproduce a registered model version from its lineage

Trigger with the params `model` (a model YAML's name) and `version` (a registered
version). The run reads the version's `evaluation/lineage.json` in MLflow, rebuilds the
training set from the recorded lake partitions (each must still exist with the recorded
checksum, and together give the recorded training-set SHA-256), retrains the recorded
algorithm with the recorded parameters, seed, features and split months, and compares the
metrics on the recorded test month: reproduced when |ΔROC AUC| <= `tolerance` (0.005).

The report goes to the lake (`reports/training/<model>/v<version>/reproduction.json`) and
to MLflow (run `reproduce-v<version>` in the model's experiment; the version gets the tag
`reproduction` = passed/failed). The task fails, without retries, naming what is wrong when
the lineage is incomplete, a partition is gone or rewritten, or the metrics differ.
Logic: `include/training/reproduce.py`.

    bin/airflow dags trigger reproduce_model --conf '{"model": "credit_default", "version": "3"}'
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from orchestration.defaults import task_defaults


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    default_args=task_defaults(owner="ml-eng"),
    params={
        "model": Param("credit_default", type="string", description="the model YAML's name"),
        "version": Param("1", type="string", description="the registered version to reproduce"),
        "tolerance": Param(0.005, type="number", minimum=0, description="largest |ΔROC AUC| that still counts"),
    },
    tags=["training", "mlflow", "reproducibility"],
    doc_md=__doc__,
)
def reproduce_model():
    @task(execution_timeout=timedelta(hours=4))
    def reproduce(params=None) -> dict:
        """Rebuild, retrain and compare; returns the report's verdict and where it is.

        A `ReproductionError` fails at once: the lineage or the data will not be different on a retry.
        """
        from airflow.exceptions import AirflowFailException

        from include.training.reproduce import ReproductionError
        from include.training.reproduce import reproduce as run
        from include.training.workflow import model_by_name
        from orchestration.resources import lake, mlflow_tracking_uri

        config = model_by_name(params["model"])
        try:
            report = run(
                config,
                str(params["version"]),
                lake(),
                tracking_uri=mlflow_tracking_uri(),
                tolerance=float(params["tolerance"]),
            )
        except ReproductionError as exc:
            raise AirflowFailException(str(exc)) from exc
        keys = ("model", "version", "reproduced", "abs_delta_roc_auc", "same_code", "report_uri", "mlflow_run_id")
        return {k: report.get(k) for k in keys}

    reproduce()


reproduce_model()
