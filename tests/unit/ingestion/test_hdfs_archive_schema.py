"""The archive contract is the transaction event, as Kafka carries it and the seed archives it."""

from devstack.seed import generate
from include.ingestion.hdfs_archive import ARCHIVE_SCHEMA


def test_the_seed_archives_the_contract_schema():
    assert ARCHIVE_SCHEMA.equals(generate.TRANSACTION_EVENT)
