"""The credit bureau's daily CSV delivery (S3 partner drops) into the raw lake zone.

The partner writes `bureau/dt=YYYY-MM-DD/bureau_YYYY-MM-DD.csv` into the partner-drops
bucket. Landing streams the object into Arrow with the delivery's contract types (the
schema below) and writes Parquet with a manifest recording the key, ETag and size of
exactly the object version that was read.

Landing is lenient on purpose: judging the content is the quality gate's job
(`include.quality`, suite `raw.partner.bureau`), so that each defect is named by the
expectation that checks it. A delivery with missing, renamed or extra columns lands
with the columns it has; a column whose values do not parse as its contract type
lands as text; an empty file lands as 0 rows. Only a file that cannot be parsed as CSV
at all (truncated, garbage) raises `UnreadableFileError`, for the gate's
`quarantine_unreadable`.
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
    """The delivery cannot be landed; the message names the key and the problem."""


class UnreadableFileError(BureauFileError):
    """The file is not parseable CSV at all (truncated, corrupt): nothing can be landed."""


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


def _convert_options(types: dict[str, pa.DataType]):
    import pyarrow.csv as csv

    return csv.ConvertOptions(column_types=types, strings_can_be_null=False)


def _csv_batches(stream: Any, where: str):
    """(schema, batches) of a delivery in its contract types; pa.ArrowInvalid when a value breaks them."""
    import pyarrow.csv as csv

    reader = csv.open_csv(
        stream,
        read_options=csv.ReadOptions(block_size=BLOCK_BYTES),
        convert_options=_convert_options({f.name: f.type for f in SCHEMA}),
    )
    if reader.schema.names != SCHEMA.names:
        log.warning(
            "%s: columns %s, the contract says %s; landing as delivered", where, reader.schema.names, SCHEMA.names
        )
    return reader.schema, reader


def _lenient_table(data: bytes, where: str) -> pa.Table:
    """The file with every column read as text, then cast to its contract type where all its values parse.

    Only for a delivery that broke its contract, so holding it in memory once is fine.
    """
    import pyarrow.csv as csv

    try:
        names = csv.open_csv(pa.BufferReader(data)).schema.names
        as_text = _convert_options(dict.fromkeys(names, pa.string()))
        table = csv.read_csv(pa.BufferReader(data), convert_options=as_text)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        # The parser quotes the broken line: keep it readable (and free of NUL bytes) in logs and alerts.
        detail = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(exc))[:300]
        raise UnreadableFileError(f"{where}: not a readable CSV file ({len(data)} bytes): {detail}") from None
    contract = {f.name: f.type for f in SCHEMA}
    for index, name in enumerate(table.column_names):
        if name in contract:
            try:
                table = table.set_column(index, name, table[name].cast(contract[name]))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                log.warning("%s: column '%s' does not parse as %s; landing it as text", where, name, contract[name])
    return table


def land_bureau_file(lake: lk.Lake, s3_client: Any, bucket: str, ds: date, *, written_by: dict) -> dict[str, Any]:
    """Read the day's bureau file (the exact version described by its ETag) into raw/partner/bureau/ds=<ds>.

    Raises `UnreadableFileError` when the file is not parseable CSV (nothing is landed then).
    """
    obj = describe_object(s3_client, bucket, object_key(ds))
    where = f"s3://{bucket}/{obj.key}"
    ref = lake.partition("raw", "partner", "bureau", ds=ds)
    position = {"source": "s3", "bucket": bucket, "key": obj.key, "etag": obj.etag, "size": obj.size}

    def body() -> Any:
        # IfMatch pins the read to the version whose ETag goes into the manifest.
        return s3_client.get_object(Bucket=bucket, Key=obj.key, IfMatch=f'"{obj.etag}"')["Body"]

    if obj.size == 0:
        log.warning("%s: empty file (0 bytes); landing 0 rows", where)
        manifest = lk.write_partition(lake, ref, [], schema=SCHEMA, source_position=position, written_by=written_by)
    else:
        try:
            with pa.PythonFile(body(), mode="r") as stream:
                schema, batches = _csv_batches(stream, where)
                manifest = lk.write_partition(
                    lake, ref, batches, schema=schema, source_position=position, written_by=written_by
                )
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            log.warning("%s: breaks the bureau file contract (%s); landing it leniently", where, exc)
            table = _lenient_table(body().read(), where)
            manifest = lk.write_partition(lake, ref, table, source_position=position, written_by=written_by)
    log.info("%s: %d rows (ETag %s) published to %s", where, manifest.row_count, obj.etag, ref.uri)
    return {"partition_uri": ref.uri, "rows": manifest.row_count, "key": obj.key, "etag": obj.etag}
