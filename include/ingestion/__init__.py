"""Landing source data in the lake's raw zone: Postgres, Kafka, S3 and HDFS.

Each module turns one source into `include.lake` partitions with manifests that record
where in the source the data came from. No Airflow import: the DAGs call these with
connection details they resolved themselves.
"""
