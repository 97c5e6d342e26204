"""The credit bureau's daily CSV delivery (S3 partner drops) into the raw lake zone.

The partner writes `bureau/dt=YYYY-MM-DD/bureau_YYYY-MM-DD.csv` into the partner-drops
bucket. Landing streams the object into Arrow with the delivery's contract types (the
schema below), so a file that breaks the contract fails here with the key and the
column named, and writes typed Parquet with a manifest recording the key, ETag and size
of exactly the object version that was read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from include import lake as lk

log = logging.getLogger(__name__)

SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.int64()),
        pa.field("bureau_score", pa.int32()),
        pa.field("open_loans", pa.int32()),
        pa.field("total_debt", pa.float64()),
        pa.field("max_dpd_12m", pa.int32()),
        pa.field("inquiries_6m", pa.int32()),
    ]
)
BLOCK_BYTES = 4 << 20  # CSV parse block: bounds memory per batch


class BureauFileError(ValueError):
    """The delivery does not match its contract; the message names the key and the problem."""


@dataclass(frozen=True)
class BureauObject:
    bucket: str
    key: str
    etag: str
    size: int


def object_key(ds: date) -> str:
    return f"bureau/dt={ds.isoformat()}/bureau_{ds.isoformat()}.csv"


def describe_object(s3_client: Any, bucket: str, key: str) -> BureauObject:
    head = s3_client.head_object(Bucket=bucket, Key=key)
    return BureauObject(bucket, key, head["ETag"].strip('"'), head["ContentLength"])


def _csv_batches(stream: Any, where: str):
    import pyarrow.csv as csv

    try:
        reader = csv.open_csv(
            stream,
            read_options=csv.ReadOptions(block_size=BLOCK_BYTES),
            convert_options=csv.ConvertOptions(
                column_types=SCHEMA,
                include_columns=SCHEMA.names,
                include_missing_columns=False,
                strings_can_be_null=False,
            ),
        )
        if reader.schema.names != SCHEMA.names:
            raise BureauFileError(f"{where}: columns {reader.schema.names}, expected {SCHEMA.names}")
        yield from reader
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        raise BureauFileError(f"{where}: does not match the bureau file contract: {exc}") from exc


def land_bureau_file(lake: lk.Lake, s3_client: Any, bucket: str, ds: date, *, written_by: dict) -> dict[str, Any]:
    """Read the day's bureau file (the exact version described by its ETag) into raw/partner/bureau/ds=<ds>."""
    obj = describe_object(s3_client, bucket, object_key(ds))
    where = f"s3://{bucket}/{obj.key}"
    if obj.size == 0:
        raise BureauFileError(f"{where}: empty file (0 bytes)")
    # IfMatch pins the read to the version whose ETag goes into the manifest.
    body = s3_client.get_object(Bucket=bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')["Body"]
    ref = lake.partition("raw", "partner", "bureau", ds=ds)
    position = {"source": "s3", "bucket": bucket, "key": obj.key, "etag": obj.etag, "size": obj.size}
    with pa.PythonFile(body, mode="r") as stream:
        manifest = lk.write_partition(
            lake, ref, _csv_batches(stream, where), schema=SCHEMA, source_position=position, written_by=written_by
        )
    log.info("%s: %d rows (ETag %s) published to %s", where, manifest.row_count, obj.etag, ref.uri)
    return {"partition_uri": ref.uri, "rows": manifest.row_count, "key": obj.key, "etag": obj.etag}
