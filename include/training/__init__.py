"""Training: trainers (LightGBM, PyTorch MLP), evaluation, MLflow tracking and the promotion gate.

Plain Python without Airflow. Import the submodules (`data`, `trainers`, `evaluation`,
`tracking`, `pipeline`); this package itself imports nothing heavy, so the DAG files can
name it at parse time. `pipeline` is what the training DAG's tasks call.
"""
