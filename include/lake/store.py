"""Where the lake lives: a root URI on a `pyarrow.fs` filesystem, and the zone layout under it.

The same code runs on `file://` (local default) and `s3://` (production, or the local
S3 server): only `Lake.from_uri` looks at the scheme. Everything else goes through
`pyarrow.fs`, plus `put_bytes`, the one place that knows how each filesystem publishes
an object atomically.

    raw/<source>/<dataset>/ds=YYYY-MM-DD/part-*.parquet + _manifest.json
    validated/<source>/<dataset>/ds=YYYY-MM-DD/...
    quarantine/<source>/<dataset>/ds=YYYY-MM-DD/... + _reason.json
    features/<feature_set>/v<version>/ds=YYYY-MM-DD/...
    predictions/<model>/ds=YYYY-MM-DD/...
    reports/...                      (free-form documents: write_json / put_bytes)
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow.fs as pafs

from include.lake.errors import LakeError

# Zone -> the path parts between the zone and `ds=`, as the layout names them.
ZONES: dict[str, tuple[str, ...]] = {
    "raw": ("source", "dataset"),
    "validated": ("source", "dataset"),
    "quarantine": ("source", "dataset"),
    "features": ("feature_set", "v<version>"),
    "predictions": ("model",),
}

_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class PartitionRef:
    """One day of one dataset: `<root>/<zone>/<parts...>/ds=YYYY-MM-DD`.

    Carries its lake's root URI so that `.uri` is what goes into XCom and logs;
    `Lake.partition_from_uri` turns that string back into a ref.
    """

    root_uri: str
    zone: str
    parts: tuple[str, ...]
    ds: date

    @property
    def relative(self) -> str:
        return "/".join([self.zone, *self.parts, f"ds={self.ds.isoformat()}"])

    @property
    def uri(self) -> str:
        return f"{self.root_uri}/{self.relative}"

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True)
class S3Options:
    """How an `s3://` lake is reached (an Airflow `aws` connection's fields); None: the AWS defaults.

    Kept beside the pyarrow filesystem so that Spark's s3a connector (`include.lake.spark`)
    reaches the same endpoint with the same keys. The keys never appear in a repr.
    """

    endpoint_url: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    region: str | None = None

    @classmethod
    def from_env(cls) -> S3Options:
        """The standard AWS variables (what `include.lake.spark.s3_env` hands a submitted driver)."""
        import os

        return cls(
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None,
            access_key=os.environ.get("AWS_ACCESS_KEY_ID") or None,
            secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
        )


@dataclass(frozen=True)
class Lake:
    """A lake root: `root_uri` as configured, `root` as a path on `filesystem`; `s3` for an s3:// root."""

    root_uri: str
    root: str
    filesystem: pafs.FileSystem = field(repr=False, compare=False)
    s3: S3Options | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_uri(
        cls,
        uri: str,
        *,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
    ) -> Lake:
        """`file:///abs/path` (or a plain path) or `s3://bucket/prefix`.

        The S3 options are those of an Airflow `aws` connection (login, password,
        extra.endpoint_url, extra.region_name); without them pyarrow falls back to the
        standard AWS environment variables and config files.
        """
        parsed = urlparse(uri)
        if parsed.scheme in ("", "file"):
            if parsed.netloc not in ("", "localhost"):
                raise LakeError(f"lake root {uri}: expected file:///absolute/path, got host '{parsed.netloc}'")
            path = Path(parsed.path).resolve()
            return cls(root_uri=f"file://{path}", root=str(path), filesystem=pafs.LocalFileSystem())
        if parsed.scheme == "s3":
            if not parsed.netloc:
                raise LakeError(f"lake root {uri}: expected s3://bucket[/prefix]")
            root = f"{parsed.netloc}/{parsed.path.strip('/')}".rstrip("/")
            return cls(
                root_uri=f"s3://{root}",
                root=root,
                filesystem=_s3_filesystem(endpoint_url, access_key, secret_key, region),
                s3=S3Options(endpoint_url, access_key, secret_key, region),
            )
        raise LakeError(f"lake root {uri}: unsupported scheme '{parsed.scheme}', expected file:// or s3://")

    @property
    def is_local(self) -> bool:
        return isinstance(self.filesystem, pafs.LocalFileSystem)

    def path(self, relative: str) -> str:
        """The filesystem path of a path relative to the root (no `..`, no leading `/`)."""
        if any(part in ("", ".", "..") for part in relative.split("/")):
            raise LakeError(f"lake {self.root_uri}: '{relative}' is not a plain relative path")
        return f"{self.root}/{relative}"

    def uri(self, relative: str) -> str:
        self.path(relative)
        return f"{self.root_uri}/{relative}"

    def dataset(self, zone: str, *parts: str) -> str:
        """The relative path of a dataset (the folder of its `ds=` partitions), checked against `ZONES`."""
        expected = ZONES.get(zone)
        if expected is None:
            raise LakeError(f"lake {self.root_uri}: unknown zone '{zone}', expected one of {sorted(ZONES)}")
        where = f"lake {self.root_uri}: {zone}/{'/'.join(parts)}"
        if len(parts) != len(expected):
            raise LakeError(f"{where}: expected {zone}/{'/'.join(f'<{p}>' for p in expected)}/ds=YYYY-MM-DD")
        for part in parts:
            if not _PART.fullmatch(part):
                raise LakeError(f"{where}: path part '{part}' must be letters, digits, '_', '-' or '.'")
        if zone == "features" and not re.fullmatch(r"v\d+", parts[1]):
            raise LakeError(f"{where}: feature set version '{parts[1]}' must look like v<number>")
        return "/".join([zone, *parts])

    def partition(self, zone: str, *parts: str, ds: date | str) -> PartitionRef:
        """The ref of one partition, checked against the layout (`ZONES`)."""
        where = f"lake {self.root_uri}: {self.dataset(zone, *parts)}"
        return PartitionRef(self.root_uri, zone, tuple(parts), _as_date(ds, where))

    def partition_from_uri(self, uri: str) -> PartitionRef:
        """The inverse of `PartitionRef.uri`, for refs passed between tasks as strings."""
        prefix = f"{self.root_uri}/"
        if not uri.startswith(prefix):
            raise LakeError(f"partition {uri}: not under this lake's root {self.root_uri}")
        *head, last = uri[len(prefix) :].split("/")
        if not head or not last.startswith("ds="):
            raise LakeError(f"partition {uri}: expected <zone>/<parts...>/ds=YYYY-MM-DD after the root")
        return self.partition(head[0], *head[1:], ds=last.removeprefix("ds="))


def _as_date(value: date | str, where: str) -> date:
    if isinstance(value, datetime):
        # Which day a timestamp belongs to depends on a timezone only the caller knows.
        raise LakeError(f"{where}: ds {value!r} is a datetime, expected a date (call .date() in the right timezone)")
    if isinstance(value, date):
        return value
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        raise LakeError(f"{where}: ds '{value}' is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LakeError(f"{where}: ds '{value}' is not a YYYY-MM-DD date") from None


def _s3_filesystem(
    endpoint_url: str | None, access_key: str | None, secret_key: str | None, region: str | None
) -> pafs.S3FileSystem:
    options: dict[str, Any] = {
        "access_key": access_key,
        "secret_key": secret_key,
        "region": region,
        # Without it pyarrow starts a multipart upload on open, even for a 2 KB manifest;
        # delayed, an object smaller than one part goes out as a single PutObject at close.
        "allow_delayed_open": True,
    }
    if endpoint_url:
        endpoint = urlparse(endpoint_url)
        options |= {"endpoint_override": endpoint.netloc, "scheme": endpoint.scheme or "https"}
    return pafs.S3FileSystem(**{k: v for k, v in options.items() if v is not None})


# ---------------------------------------------------------------- objects


def put_bytes(lake: Lake, relative: str, data: bytes) -> None:
    """Publish `data` at `relative` so that a reader sees the old object or the new one, never a mix.

    S3 makes a single PUT visible all at once. A local file is written under a hidden
    temporary name in the same directory and renamed over the target: rename(2) within
    one filesystem is atomic. The hidden name (leading '.') keeps Spark and the
    partition cleanup's "not in the manifest" rule from mistaking it for data.
    """
    path = lake.path(relative)
    if not lake.is_local:
        with lake.filesystem.open_output_stream(path) as out:
            out.write(data)
        return
    directory, name = path.rsplit("/", 1)
    ensure_dir(lake, relative.rpartition("/")[0])
    temporary = f"{directory}/.{name}.{uuid.uuid4().hex}.tmp"
    with lake.filesystem.open_output_stream(temporary) as out:
        out.write(data)
    lake.filesystem.move(temporary, path)


def ensure_dir(lake: Lake, relative: str) -> None:
    """Create a local directory before writing into it; S3 has no directories, and creating
    one there would only leave an empty marker object behind."""
    if lake.is_local:
        lake.filesystem.create_dir(lake.path(relative) if relative else lake.root, recursive=True)


def check_ref(lake: Lake, ref: PartitionRef) -> None:
    if ref.root_uri != lake.root_uri:
        raise LakeError(f"partition {ref.uri}: belongs to lake {ref.root_uri}, not to {lake.root_uri}")


def get_bytes(lake: Lake, relative: str) -> bytes | None:
    """The object's bytes, or None when there is no such object."""
    try:
        with lake.filesystem.open_input_stream(lake.path(relative)) as stream:
            return stream.read()
    except FileNotFoundError:
        return None


def write_json(lake: Lake, relative: str, obj: Any) -> str:
    """Atomically write `obj` as JSON (reports, markers); returns its URI."""
    put_bytes(lake, relative, json.dumps(obj, indent=2, sort_keys=True, default=str).encode())
    return lake.uri(relative)


def read_json(lake: Lake, relative: str, default: Any = None) -> Any:
    """The JSON document at `relative`, or `default` when there is none (a marker not yet written)."""
    data = get_bytes(lake, relative)
    if data is None:
        return default
    try:
        return json.loads(data)
    except ValueError as exc:
        raise LakeError(f"{lake.uri(relative)}: not valid JSON ({exc})") from None


def list_files(lake: Lake, relative: str, *, recursive: bool = False) -> list[pafs.FileInfo]:
    """The files (not directories) under `relative`; empty when it does not exist."""
    selector = pafs.FileSelector(lake.path(relative), allow_not_found=True, recursive=recursive)
    return [info for info in lake.filesystem.get_file_info(selector) if info.type == pafs.FileType.File]
