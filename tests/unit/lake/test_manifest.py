import json
import re

import pyarrow as pa
import pytest

from include.lake import DataFile, LakeError, Manifest, detect_code_version
from include.lake.manifest import schema_fields, schema_hash


def manifest() -> Manifest:
    return Manifest(
        partition="raw/kafka/card_transactions/ds=2026-11-20",
        attempt="20261121T010203-0a1b2c3d",
        row_count=3,
        schema=schema_fields(pa.schema([("card_id", pa.int64())])),
        schema_hash="h",
        content_sha256="c",
        files=[DataFile(name="part-20261121T010203-0a1b2c3d-00000.parquet", size=10, rows=3, sha256="s")],
        source_position={"topic": "card-transactions", "offsets": {"0": [0, 2], "1": [5, 5]}},
        code_version="abc",
        written_by={"dag_id": "ingest_kafka", "try_number": 2},
        written_at="2026-11-21T01:02:03.000+00:00",
        extra={"note": "x"},
    )


def test_manifest_round_trips_through_json():
    original = manifest()
    text = original.to_json()
    assert json.loads(text)["schema_version"] == 1
    assert Manifest.from_json(text, where="m") == original


def test_a_manifest_of_another_schema_version_is_refused_by_name():
    body = json.loads(manifest().to_json()) | {"schema_version": 2}
    with pytest.raises(LakeError, match=r"s3://lake/x/_manifest.json: manifest schema_version 2, this code reads 1"):
        Manifest.from_json(json.dumps(body), where="s3://lake/x/_manifest.json")


@pytest.mark.parametrize("text", ["not json", "[]", '{"schema_version": 1}'])
def test_a_malformed_manifest_is_an_error_naming_it(text):
    with pytest.raises(LakeError, match=r"^m: not a valid manifest"):
        Manifest.from_json(text, where="m")


def test_schema_hash_ignores_metadata_but_not_types_or_nullability():
    schema = pa.schema([pa.field("a", pa.int64()), pa.field("b", pa.string())])
    assert schema_hash(schema) == schema_hash(schema.with_metadata({b"pandas": b"{}"}))
    assert schema_hash(schema) != schema_hash(pa.schema([pa.field("a", pa.int32()), pa.field("b", pa.string())]))
    assert schema_hash(schema) != schema_hash(schema.set(0, pa.field("a", pa.int64(), nullable=False)))


def test_code_version_is_the_git_sha_of_the_checkout_or_unknown():
    version = detect_code_version()
    assert version == "unknown" or re.fullmatch(r"[0-9a-f]{40}", version)
