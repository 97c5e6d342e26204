"""Lake I/O: parquet partitions with a manifest as the commit marker, on file:// and s3://.

    lake = Lake.from_uri("s3://lake/lake", endpoint_url=..., access_key=..., secret_key=..., region=...)
    ref = lake.partition("raw", "core", "accounts", ds="2026-11-20")
    write_partition(lake, ref, batches, source_position={"watermark": ...}, written_by={"dag_id": ...})
    table = read_partition(lake, ref)        # only what the manifest lists

Writers put data files under attempt-unique names, then publish `_manifest.json` in one
atomic step (the commit), then delete whatever the manifest does not list. Readers open
only listed files, and a partition without a manifest does not exist. So a writer killed
anywhere leaves nothing partial visible, and re-running a day replaces that day. The
details are in `writer`'s docstring; `append` adds offset ranges of a stream (Kafka) to
a partition with the same protocol, each range at most once. Plain Python: no Airflow
import, so tasks, scripts and tests call it alike and pass `ref.uri` strings between them.
"""

from include.lake.append import OffsetRange, PartitionAppend, append_range
from include.lake.errors import LakeError, PartitionCorruptError, PartitionNotFoundError
from include.lake.manifest import DataFile, Manifest, detect_code_version
from include.lake.moves import copy_partition, delete_partition, move_partition
from include.lake.reader import (
    data_file_uris,
    iter_batches,
    list_partitions,
    partition_exists,
    read_manifest,
    read_partition,
    verify_partition,
)
from include.lake.store import ZONES, Lake, PartitionRef, S3Options, read_json, write_json
from include.lake.writer import Encodings, ParquetAsIs, write_partition, write_partition_parts

__all__ = [
    "ZONES",
    "DataFile",
    "Encodings",
    "Lake",
    "LakeError",
    "Manifest",
    "OffsetRange",
    "ParquetAsIs",
    "PartitionAppend",
    "PartitionCorruptError",
    "PartitionNotFoundError",
    "PartitionRef",
    "S3Options",
    "append_range",
    "copy_partition",
    "data_file_uris",
    "delete_partition",
    "detect_code_version",
    "iter_batches",
    "list_partitions",
    "move_partition",
    "partition_exists",
    "read_json",
    "read_manifest",
    "read_partition",
    "verify_partition",
    "write_json",
    "write_partition",
    "write_partition_parts",
]
