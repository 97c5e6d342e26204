"""A seeded, deterministic synthetic credit-card portfolio, written into the real sources.

The demo data of the platform's reference model (probability that a card account is
90+ days past due within 90 days): a bank's core tables in Postgres, the card
transaction stream on Kafka, the credit bureau's daily files on S3, and the monthly
transaction archive on HDFS, all telling one consistent story about the same customers.

- `generate`: the model of the data and its pure, vectorised generation (Arrow tables, no I/O);
  its docstring explains what drives default.
- `labels`: the default label as a plain function of statements.
- `defects`: the catalogue of broken deliveries for the data-quality gate, and how to make them.
- `encode`: wire formats (JSON events, CSV, Parquet).
- `write`: the writers into Postgres, Kafka, S3 and HDFS, and the whole seed.
- `python -m devstack.seed --help`: the command line (`make seed`).
"""
