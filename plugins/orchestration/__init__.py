"""Airflow-facing building blocks every DAG of the platform shares (alerts, task defaults).

Lives in `plugins/`, which Airflow puts on `sys.path` for the scheduler, DAG processor
and workers alike; domain logic stays in `include/` and never imports Airflow.
"""
