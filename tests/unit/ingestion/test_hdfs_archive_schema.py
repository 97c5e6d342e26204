"""The archive contract is the transaction event, as Kafka carries it and the seed archives it."""

from devstack.seed import generate
from include.ingestion.hdfs_archive import ARCHIVE_SCHEMA
from include.ingestion.kafka import EVENT_SCHEMA


def test_archive_schema_is_the_transaction_event():
    assert ARCHIVE_SCHEMA.equals(EVENT_SCHEMA)
    assert ARCHIVE_SCHEMA.equals(generate.TRANSACTION_EVENT)
