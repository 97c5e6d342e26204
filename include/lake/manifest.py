"""The partition manifest: the commit marker and the lineage record of one partition.

A partition exists exactly when its `_manifest.json` exists, and contains exactly the
files the manifest lists. Besides that list the manifest says what the data is (row
count, schema and its hash, a checksum of the bytes), where it came from
(`source_position`: SQL watermark, Kafka offset ranges, S3 keys + ETags, HDFS paths +
mtimes, as the writer supplies them) and what produced it (git sha, DAG run).
"""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from include.lake.errors import LakeError

SCHEMA_VERSION = 1
MANIFEST_NAME = "_manifest.json"
REASON_NAME = "_reason.json"


@dataclass(frozen=True)
class DataFile:
    name: str
    size: int
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    partition: str
    attempt: str
    row_count: int
    schema: list[dict[str, Any]]
    schema_hash: str
    content_sha256: str
    files: list[DataFile]
    source_position: dict[str, Any]
    code_version: str
    written_by: dict[str, Any]
    written_at: str
    extra: dict[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str | bytes, where: str) -> Manifest:
        """Parse a manifest; `where` (its URI) names it in errors."""
        try:
            body = json.loads(text)
            version = body.get("schema_version")
            if version != SCHEMA_VERSION:
                raise LakeError(f"{where}: manifest schema_version {version!r}, this code reads {SCHEMA_VERSION}")
            return cls(**{**body, "files": [DataFile(**f) for f in body["files"]]})
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise LakeError(f"{where}: not a valid manifest ({type(exc).__name__}: {exc})") from None

    @property
    def file_names(self) -> list[str]:
        return [f.name for f in self.files]


def schema_fields(schema: pa.Schema) -> list[dict[str, Any]]:
    """The schema as JSON: name, Arrow type and nullability, without metadata.

    Metadata is left out on purpose: pandas and Spark stamp their own into it, and the
    same columns must hash the same whoever produced them.
    """
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


def schema_hash(schema: pa.Schema) -> str:
    return hashlib.sha256(json.dumps(schema_fields(schema), sort_keys=True).encode()).hexdigest()


def new_attempt_id() -> str:
    """Unique per write attempt; the timestamp first, so leftovers sort oldest first when debugging."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@functools.cache
def detect_code_version() -> str:
    """The git sha of this checkout, or "unknown" where there is no git (e.g. an image without .git)."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"
