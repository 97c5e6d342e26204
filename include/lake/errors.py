"""What can go wrong in the lake; every message names the URI involved and what was expected."""

from __future__ import annotations


class LakeError(RuntimeError):
    """A lake operation was asked something impossible (bad root, bad path, bad input)."""


class PartitionNotFoundError(LakeError):
    """The partition has no `_manifest.json`: it was never committed, or its writer died before the commit."""


class PartitionCorruptError(LakeError):
    """A committed partition's files do not match its manifest (missing, truncated or changed)."""
