"""Local developer stack: services on loopback, Airflow wiring, demo driver.

Nothing here runs in production: production swaps these for real servers through
configuration (Airflow connections, `LAKE_ROOT`, the executor), never through code.
"""
