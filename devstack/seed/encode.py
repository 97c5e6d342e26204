"""The wire formats of the sources, from Arrow tables, vectorised: JSON events, CSV files, Parquet.

The encoders follow the table they are given, column by column, so a defective table
(a column missing, renamed or of the wrong type) encodes into an equally defective file
or message: the data-quality tests see what a broken upstream would really send.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def json_events(table: pa.Table) -> pa.Array:
    """One compact JSON object per row (a string array), keys in column order.

    Timestamps are ISO 8601 UTC with milliseconds (`2026-11-20T13:45:12.123Z`), doubles
    always carry a decimal point (`100.0`, so a reader never sees an integer), nulls are `null`.
    """
    pieces: list[pa.Array | str] = []
    for i, name in enumerate(table.column_names):
        pieces += [("{" if i == 0 else ", ") + f'"{name}": ', _json_values(table.column(name))]
    pieces.append("}")
    if not table.num_rows:
        return pa.array([], pa.string())
    return pc.binary_join_element_wise(*pieces, "")


def _json_values(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_timestamp(kind):
        millis = column.cast(pa.timestamp("ms", tz="UTC"), safe=False)  # truncates finer precision
        text = pc.strftime(millis, format="%Y-%m-%dT%H:%M:%S")
        text = pc.binary_join_element_wise('"', text, 'Z"', "")
    elif pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_floating(kind):
        text = column.cast(pa.string())
        text = pc.if_else(pc.match_substring_regex(text, r"[.eEn]"), text, pc.binary_join_element_wise(text, ".0", ""))
    elif pa.types.is_integer(kind):
        text = column.cast(pa.string())
    else:
        text = pc.replace_substring(column.cast(pa.string()), "\\", "\\\\")
        text = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '\\"'), '"', "")
    return pc.fill_null(text, "null")


def csv_bytes(table: pa.Table, header: bool = True) -> bytes:
    """CSV as partners send it: a plain header line, strings quoted, nulls empty."""
    buffer = io.BytesIO()
    if header:
        buffer.write((",".join(table.column_names) + "\n").encode())
    # pyarrow 25's CSV writer emits garbage bytes for an empty record batch: leave those out.
    batches = [batch for batch in table.to_batches() if batch.num_rows]
    if batches:
        pacsv.write_csv(
            pa.Table.from_batches(batches, table.schema),
            buffer,
            pacsv.WriteOptions(include_header=False, quoting_style="needed"),
        )
    return buffer.getvalue()


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()
