"""Point-in-time correct features of the credit-default model, built with Spark.

- `definitions`: the feature set declared as data; its version is a hash of the declarations.
- `query`: the declarations rendered as one SQL query per observation date (Spark or DuckDB).
- `inputs`: which committed lake partitions the features at D read.
- `spark_engine`: the query on Spark, published through the lake's manifest commit.
- `job`: the `spark-submit` entry point (`python -m include.features.job --help`).

No Airflow import and nothing heavy at import time: pyspark is imported where it is used.
"""
