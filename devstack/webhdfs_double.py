"""A TEST DOUBLE of the WebHDFS REST API (Hadoop's NameNode + DataNode HTTP interface).

No HDFS NameNode or DataNode can be installed here, so this server plays both roles on
one port, backed by a local directory. It follows the Apache Hadoop 3 WebHDFS REST spec
(and, where the spec is silent, the NameNode/DataNode source) closely enough that the
`hdfs` package's `InsecureClient` and Airflow's `WebHDFSHook` work against it unchanged.
It is for tests and the local devstack only, never a storage system.

What it implements, on `/webhdfs/v1/<path>?op=...&user.name=...`:

* The two-step data operations. `PUT op=CREATE`, `POST op=APPEND`, `GET op=OPEN` and
  `GET op=GETFILECHECKSUM` first answer, as the NameNode, `307 Temporary Redirect` to a
  "DataNode" URL on this same server (the request's own URL plus `datanode=true`), or
  `200 {"Location": ...}` when asked `noredirect=true`. The DataNode step answers
  `201 Created` with `Location: webhdfs://...` (CREATE), `200` (APPEND), the bytes
  honouring `offset`/`length` (OPEN), or the checksum.
* GETFILESTATUS, LISTSTATUS, GETCONTENTSUMMARY, GETHOMEDIRECTORY, GETTRASHROOT, MKDIRS,
  DELETE, SETPERMISSION, SETOWNER, SETTIMES, SETREPLICATION and RENAME, with HDFS's
  rename semantics: `{"boolean": false}` (not an error) when the source is missing or
  the destination exists, "move inside" when the destination is a directory, and
  `renameoptions=OVERWRITE` (rename2: replace atomically, fail loudly).
* Errors the way Hadoop sends them: HTTP 404 / 403 / 400 with a JSON body
  `{"RemoteException": {"exception", "javaClassName", "message"}}`, the status mapped
  from the Java exception as Hadoop's ExceptionHandler does.
* GETFILECHECKSUM is HDFS's MD5-of-MD5-of-CRC32C, byte-for-byte what a cluster with the
  default `dfs.checksum.type=CRC32C` reports (CRC32C from `google-crc32c`).
* A CREATE's bytes go to a staging file, then `os.replace` into place, and every
  namespace change holds one lock (as the NameNode's namesystem lock does): readers see
  the old file or the new one, never half of one; RENAME and DELETE are atomic too.
* Paths are checked the way HDFS checks them (no `.`, `..`, `:` or empty components),
  and never leave the backing directory; symlinks in it are not followed.

What it does not do: no Kerberos, SPNEGO or delegation tokens (`user.name` and `doas`
are taken at face value); no permission enforcement (owner, group and mode are stored
and reported, never checked); no blocks, replication or block locations; no ACLs,
xattrs, snapshots, quotas, storage or erasure-coding policies, symlinks, CONCAT or
TRUNCATE (those ops answer 400 UnsupportedOperationException). Owner, group, mode and
replication live in memory: after a restart, or for files put straight into the
directory, paths read as owned by the superuser with HDFS's default modes. A file being
created is invisible until its upload completes, where HDFS shows it growing.

    python -m devstack.webhdfs_double --root DIR [--host 127.0.0.1] [--port 19870] [--verbose]

In-process, like moto's ThreadedMotoServer:

    with WebHdfsDouble(tmp_path) as webhdfs:
        client = hdfs.InsecureClient(webhdfs.url, user="airflow")
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import stat
import struct
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

PREFIX = "/webhdfs/v1"
BLOCK_SIZE = 128 * 1024 * 1024  # dfs.blocksize's default
DEFAULT_REPLICATION = 1  # one "DataNode" holds one replica, as a pseudo-distributed cluster sets it
BYTES_PER_CHECKSUM = 512  # dfs.bytes-per-checksum
UMASK = 0o022  # fs.permissions.umask-mode: DFSClient applies it to CREATE's permission
DEFAULT_FILE_MODE = 0o644
DEFAULT_DIR_MODE = 0o755
SUPERGROUP = "supergroup"  # dfs.permissions.superusergroup
ANONYMOUS = "dr.who"  # hadoop.http.staticuser.user: who a request without user.name is
RESERVED = ".reserved"  # HDFS reserves /.reserved; the double keeps its staging files in it
USER_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*[$]?$")  # dfs.webhdfs.user.provider.user.pattern
COPY_CHUNK = 64 * 1024  # a multiple of BYTES_PER_CHECKSUM

# Simple name -> (Java class, HTTP status), mapped as Hadoop's ExceptionHandler does:
# FileNotFoundException 404, any other IOException 403, IllegalArgument and
# UnsupportedOperation 400, anything else 500.
_EXCEPTIONS: dict[str, tuple[str, int]] = {
    "FileNotFoundException": ("java.io.FileNotFoundException", 404),
    "FileAlreadyExistsException": ("org.apache.hadoop.fs.FileAlreadyExistsException", 403),
    "ParentNotDirectoryException": ("org.apache.hadoop.fs.ParentNotDirectoryException", 403),
    "PathIsNotEmptyDirectoryException": ("org.apache.hadoop.fs.PathIsNotEmptyDirectoryException", 403),
    "EOFException": ("java.io.EOFException", 403),
    "IOException": ("java.io.IOException", 403),
    "InvalidPathException": ("org.apache.hadoop.fs.InvalidPathException", 400),
    "IllegalArgumentException": ("java.lang.IllegalArgumentException", 400),
    "UnsupportedOperationException": ("java.lang.UnsupportedOperationException", 400),
    "RuntimeException": ("java.lang.RuntimeException", 500),
}


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Every op Hadoop 3 knows, by HTTP method (its GetOpParam, PutOpParam, ... enums). An op
# outside these fails to parse (400 IllegalArgumentException, as in Hadoop); one inside
# them that the double does not implement is 400 UnsupportedOperationException.
_HADOOP_OPS: dict[str, frozenset[str]] = {
    "GET": _names(
        """OPEN GETFILESTATUS LISTSTATUS GETCONTENTSUMMARY GETQUOTAUSAGE GETFILECHECKSUM GETHOMEDIRECTORY
        GETDELEGATIONTOKEN GET_BLOCK_LOCATIONS GETFILEBLOCKLOCATIONS GETACLSTATUS GETXATTRS GETTRASHROOT
        LISTXATTRS GETALLSTORAGEPOLICY GETSTORAGEPOLICY CHECKACCESS LISTSTATUS_BATCH GETSNAPSHOTDIFF
        GETSNAPSHOTDIFFLISTING GETSNAPSHOTTABLEDIRECTORYLIST GETSNAPSHOTLIST GETSERVERDEFAULTS GETLINKTARGET
        GETFILELINKSTATUS GETSTATUS GETECPOLICIES GETECCODECS GETTRASHROOTS GETECPOLICY NULL"""
    ),
    "PUT": _names(
        """CREATE MKDIRS CREATESYMLINK RENAME SETREPLICATION SETOWNER SETPERMISSION SETTIMES RENEWDELEGATIONTOKEN
        CANCELDELEGATIONTOKEN MODIFYACLENTRIES REMOVEACLENTRIES REMOVEDEFAULTACL REMOVEACL SETACL SETXATTR
        REMOVEXATTR ENABLEECPOLICY DISABLEECPOLICY SETECPOLICY ALLOWSNAPSHOT DISALLOWSNAPSHOT CREATESNAPSHOT
        RENAMESNAPSHOT SETSTORAGEPOLICY SATISFYSTORAGEPOLICY SETQUOTA SETQUOTABYSTORAGETYPE NULL"""
    ),
    "POST": _names("APPEND CONCAT TRUNCATE UNSETSTORAGEPOLICY UNSETECPOLICY NULL"),
    "DELETE": _names("DELETE DELETESNAPSHOT NULL"),
}
_OP_ENUMS = {"GET": "GetOpParam", "PUT": "PutOpParam", "POST": "PostOpParam", "DELETE": "DeleteOpParam"}


class RemoteException(Exception):  # noqa: N818 (Hadoop's name, and the JSON key it becomes)
    """An error as WebHDFS reports it: a Java exception, its message, its HTTP status."""

    def __init__(self, exception: str, message: str) -> None:
        super().__init__(message)
        self.exception = exception
        self.message = message
        self.java_class, self.status = _EXCEPTIONS[exception]

    def to_json(self) -> dict[str, Any]:
        return {
            "RemoteException": {
                "exception": self.exception,
                "javaClassName": self.java_class,
                "message": self.message,
            }
        }


def invalid_param(name: str, detail: str) -> RemoteException:
    """A parameter that does not parse: Jersey's ParamException as Hadoop rewrites it."""
    return RemoteException("IllegalArgumentException", f'Invalid value for webhdfs parameter "{name}": {detail}')


def canonical(path: str) -> str:
    """`path` if HDFS accepts it (DFSUtil.isValidName), without a trailing slash.

    Rejecting `.` and `..` outright, rather than resolving them, is both what HDFS does and
    what keeps every path inside the backing directory.
    """
    components = path.rstrip("/").split("/")
    valid = path.startswith("/") and all(
        part not in ("", ".", "..") and ":" not in part and "\0" not in part for part in components[1:]
    )
    if not valid:
        raise RemoteException("InvalidPathException", f"Invalid path name {path}")
    return path.rstrip("/") or "/"


def _parts(path: str) -> list[str]:
    return [] if path == "/" else path[1:].split("/")


def _join(parent: str, name: str) -> str:
    return f"{parent.rstrip('/')}/{name}"


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _within(path: str, ancestor: str) -> bool:
    return path == ancestor or path.startswith(ancestor.rstrip("/") + "/")


@dataclass(frozen=True)
class Inode:
    """What HDFS keeps per path that a local file cannot: owner, group, mode, replication."""

    owner: str
    group: str
    permission: int
    replication: int = 0
    block_size: int = 0


class Namespace:
    """The file system the double serves: absolute HDFS paths over a local directory.

    Every change holds one lock, as the NameNode's namesystem lock does, so each
    operation is atomic for every other client; reads take no lock.
    """

    def __init__(self, root: Path, superuser: str = "hdfs") -> None:
        self.root = Path(os.path.realpath(root))
        self.superuser = superuser
        self._staging = self.root / RESERVED / "webhdfs-double-staging"
        self._inodes: dict[str, Inode] = {}
        self._lock = threading.RLock()

    # -- paths -----------------------------------------------------------------------------

    def local(self, path: str) -> Path:
        """The local file behind HDFS `path`; the one place that keeps paths inside the root."""
        path = canonical(path)
        parts = _parts(path)
        if parts[:1] == [RESERVED]:
            raise RemoteException("InvalidPathException", f"Invalid path name {path}: {RESERVED} is reserved")
        local = self.root.joinpath(*parts)
        # Validated components cannot climb out; a symlink inside the root still could.
        if os.path.realpath(local) != str(local):
            raise RemoteException("InvalidPathException", f"Invalid path name {path}: symlinks are not followed")
        return local

    def existing(self, path: str, missing: str) -> Path:
        """The local file behind `path`, or FileNotFoundException(`missing`) as HDFS words it."""
        local = self.local(path)
        self._check_traverse(path)
        if not local.exists():
            raise RemoteException("FileNotFoundException", missing)
        return local

    def _check_traverse(self, path: str) -> None:
        # HDFS fails a path that runs through a file with ParentNotDirectoryException (403),
        # not FileNotFoundException, and clients key on "not a directory" in the message.
        prefix = ""
        for part in _parts(path)[:-1]:
            prefix = _join(prefix, part)
            if self.local(prefix).is_file():
                raise RemoteException("ParentNotDirectoryException", f"{prefix} (is not a directory)")

    def _children(self, path: str, local: Path) -> list[str]:
        """Names in a directory, in HDFS's (byte) order; the staging area and symlinks are hidden."""
        names = [
            entry.name
            for entry in os.scandir(local)
            if not entry.is_symlink() and not (path == "/" and entry.name == RESERVED)
        ]
        return sorted(names, key=lambda name: name.encode())

    # -- metadata ---------------------------------------------------------------------------

    def inode(self, path: str, is_dir: bool) -> Inode:
        found = self._inodes.get(path)
        if found is not None:
            return found
        if is_dir:
            return Inode(self.superuser, SUPERGROUP, DEFAULT_DIR_MODE)
        return Inode(self.superuser, SUPERGROUP, DEFAULT_FILE_MODE, DEFAULT_REPLICATION, BLOCK_SIZE)

    def _move_inodes(self, src: str, dst: str) -> None:
        for key in [key for key in self._inodes if _within(key, src)]:
            self._inodes[dst + key[len(src) :]] = self._inodes.pop(key)

    def _drop_inodes(self, path: str) -> None:
        for key in [key for key in self._inodes if _within(key, path)]:
            del self._inodes[key]

    def file_status(self, path: str, local: Path, suffix: str = "") -> dict[str, Any]:
        """HDFS's FileStatus JSON, keys in Hadoop's (sorted) order."""
        st = local.stat()
        is_dir = stat.S_ISDIR(st.st_mode)
        inode = self.inode(path, is_dir)
        return {
            "accessTime": 0 if is_dir else st.st_atime_ns // 1_000_000,
            "blockSize": 0 if is_dir else inode.block_size,
            "childrenNum": len(self._children(path, local)) if is_dir else 0,
            "fileId": st.st_ino,  # stable across renames, new on overwrite: like an HDFS inode id
            "group": inode.group,
            "length": 0 if is_dir else st.st_size,
            "modificationTime": st.st_mtime_ns // 1_000_000,
            "owner": inode.owner,
            "pathSuffix": suffix,
            "permission": format(inode.permission, "o"),
            "replication": 0 if is_dir else inode.replication,
            "storagePolicy": 0,
            "type": "DIRECTORY" if is_dir else "FILE",
        }

    # -- reads -------------------------------------------------------------------------------

    def status(self, path: str) -> dict[str, Any]:
        return self.file_status(path, self.existing(path, f"File does not exist: {path}"))

    def list_status(self, path: str) -> list[dict[str, Any]]:
        """A directory's children; a file lists as itself with an empty pathSuffix, as in HDFS."""
        local = self.existing(path, f"File {path} does not exist.")
        if not local.is_dir():
            return [self.file_status(path, local)]
        return [self.file_status(_join(path, n), local / n, n) for n in self._children(path, local)]

    def content_summary(self, path: str) -> dict[str, int]:
        directories, files, length, space = self._summarize(path, self.existing(path, f"File does not exist: {path}"))
        return {
            "directoryCount": directories,
            "fileCount": files,
            "length": length,
            "quota": -1,
            "spaceConsumed": space,
            "spaceQuota": -1,
        }

    def _summarize(self, path: str, local: Path) -> tuple[int, int, int, int]:
        """(directories including this one, files, bytes, bytes times replication)."""
        if not local.is_dir():
            size = local.stat().st_size
            return 0, 1, size, size * self.inode(path, False).replication
        totals = [1, 0, 0, 0]
        for name in self._children(path, local):
            for i, value in enumerate(self._summarize(_join(path, name), local / name)):
                totals[i] += value
        return totals[0], totals[1], totals[2], totals[3]

    def open_file(self, path: str) -> BinaryIO:
        """An open handle: a reader keeps its snapshot even if the file is replaced meanwhile."""
        local = self.existing(path, f"File does not exist: {path}")
        if local.is_dir():
            raise RemoteException("FileNotFoundException", f"Path is not a file: {path}")
        return local.open("rb")

    def checksum(self, path: str) -> dict[str, Any]:
        with self.open_file(path) as f:
            return md5_md5_crc32(f)

    # -- writes ------------------------------------------------------------------------------

    def mkdirs(self, path: str, permission: int | None, user: str) -> bool:
        """MKDIRS: the directory and any missing ancestors; true even if it already existed."""
        with self._lock:
            self._make_dirs(path, DEFAULT_DIR_MODE if permission is None else permission, user)
        return True

    def _make_dirs(self, path: str, permission: int, user: str) -> None:
        parts = _parts(path)
        current = "/"
        for i, part in enumerate(parts):
            parent, current = current, _join(current, part)
            local = self.local(current)
            if local.is_dir():
                continue
            last = i == len(parts) - 1
            if local.exists() and last:
                raise RemoteException("FileAlreadyExistsException", f"Path is not a directory: {path}")
            if local.exists():
                raise RemoteException("ParentNotDirectoryException", f"{current} (is not a directory)")
            local.mkdir()
            # HDFS gives implicitly created ancestors u+wx so their creator can go on through them,
            # and every new inode its parent's group (the BSD rule).
            mode = permission if last else permission | 0o300
            self._inodes[current] = Inode(user, self.inode(parent, True).group, mode)

    def check_create(self, path: str, overwrite: bool, create_parent: bool, client: str) -> Path:
        """CREATE's refusals, in HDFS's words, checked before the upload and again at commit."""
        local = self.local(path)
        self._check_traverse(path)
        if local.is_dir():
            raise RemoteException("FileAlreadyExistsException", f"{path} already exists as a directory")
        if local.exists() and not overwrite:
            raise RemoteException("FileAlreadyExistsException", f"{path} for client {client} already exists")
        if not create_parent and not local.parent.is_dir():
            raise RemoteException("FileNotFoundException", f"Parent directory doesn't exist: {_parent(path)}")
        return local

    def create(
        self,
        path: str,
        data: Iterable[bytes],
        *,
        user: str,
        client: str,
        overwrite: bool = False,
        permission: int | None = None,
        replication: int = DEFAULT_REPLICATION,
        block_size: int = BLOCK_SIZE,
        create_parent: bool = True,
    ) -> None:
        """CREATE's DataNode step: stage the bytes, then swap them in under the lock."""
        self.check_create(path, overwrite, create_parent, client)
        staged = self._stage(data)
        try:
            with self._lock:
                # Checked again: another writer may have created the file during our upload.
                local = self.check_create(path, overwrite, create_parent, client)
                self._make_dirs(_parent(path), DEFAULT_DIR_MODE, user)
                os.replace(staged, local)
                mode = (DEFAULT_FILE_MODE if permission is None else permission) & ~UMASK
                group = self.inode(_parent(path), True).group
                self._inodes[path] = Inode(user, group, mode, replication, block_size)
        finally:
            staged.unlink(missing_ok=True)

    def check_append(self, path: str, client: str) -> Path:
        local = self.local(path)
        self._check_traverse(path)
        if local.is_dir():
            raise RemoteException(
                "FileAlreadyExistsException", f"Cannot append to directory {path}; already exists as a directory."
            )
        if not local.exists():
            raise RemoteException(
                "FileNotFoundException", f"Failed to append to non-existent file {path} for client {client}"
            )
        return local

    def append(self, path: str, data: Iterable[bytes], *, client: str) -> None:
        """APPEND's DataNode step: the whole upload is added at once, under the lock."""
        self.check_append(path, client)
        staged = self._stage(data)
        try:
            with self._lock:
                local = self.check_append(path, client)
                with staged.open("rb") as source, local.open("ab") as target:
                    shutil.copyfileobj(source, target, COPY_CHUNK)
        finally:
            staged.unlink(missing_ok=True)

    def _stage(self, data: Iterable[bytes]) -> Path:
        """Write an upload to a file under /.reserved: same file system as its target, so
        `os.replace` is atomic, and out of every listing."""
        self._staging.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self._staging, prefix="upload-")
        staged = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in data:
                    out.write(chunk)
            # mkstemp makes it 0600; a process reading the backing directory as someone else
            # (a container, say) should see an ordinary file.
            staged.chmod(0o644)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return staged

    def rename(self, src: str, dst: str) -> bool:
        """HDFS's original RENAME: false, never an error, whenever it cannot be done."""
        with self._lock:
            src_local = self.local(src)
            self._check_traverse(src)
            if src == "/" or not src_local.exists():
                return False
            dst_local = self.local(dst)
            if dst_local.is_dir():  # an existing directory means "move inside it"
                dst = _join(dst, _parts(src)[-1])
                dst_local = self.local(dst)
            if dst == src:
                return True
            if _within(dst, src) or dst_local.exists() or not dst_local.parent.is_dir():
                return False
            os.rename(src_local, dst_local)
            self._move_inodes(src, dst)
            return True

    def rename2(self, src: str, dst: str, overwrite: bool) -> None:
        """RENAME with renameoptions (rename2): no move-inside, errors instead of false, and
        with OVERWRITE an atomic replace of the destination, the way to publish a result."""
        with self._lock:
            src_local = self.existing(src, f"rename source {src} is not found.")
            dst_local = self.local(dst)
            if src == "/":
                raise RemoteException("IOException", "rename source cannot be the root")
            if dst == src:
                raise RemoteException(
                    "FileAlreadyExistsException", f"The source {src} and destination {dst} are the same"
                )
            if _within(dst, src):
                raise RemoteException(
                    "IOException", f"Rename destination {dst} is a directory or file under source {src}"
                )
            if dst_local.parent.is_file():
                raise RemoteException("ParentNotDirectoryException", f"rename destination parent {dst} is a file.")
            if not dst_local.parent.is_dir():
                raise RemoteException("FileNotFoundException", f"rename destination parent {_parent(dst)} not found.")
            if dst_local.exists():
                self._check_overwrite(src, dst, src_local, dst_local, overwrite)
                self._drop_inodes(dst)
            os.replace(src_local, dst_local)  # replaces a file, or an empty directory, atomically
            self._move_inodes(src, dst)

    def _check_overwrite(self, src: str, dst: str, src_local: Path, dst_local: Path, overwrite: bool) -> None:
        if not overwrite:
            raise RemoteException("FileAlreadyExistsException", f"rename destination {dst} already exists.")
        if src_local.is_dir() != dst_local.is_dir():
            kind = "directories" if src_local.is_dir() else "files"
            raise RemoteException("IOException", f"Source {src} and destination {dst} must both be {kind}")
        if dst_local.is_dir() and self._children(dst, dst_local):
            raise RemoteException("IOException", f"rename destination directory is not empty: {dst}")

    def delete(self, path: str, recursive: bool) -> bool:
        """DELETE: false if there was nothing to delete; the root itself is never deleted."""
        with self._lock:
            local = self.local(path)
            self._check_traverse(path)
            if not local.exists():
                return False
            if local.is_dir() and not recursive and self._children(path, local):
                raise RemoteException(
                    "PathIsNotEmptyDirectoryException", f"`{path} is non empty': Directory is not empty"
                )
            if path == "/":
                return False
            if local.is_dir():
                # Out of the namespace in one atomic rename; the slow removal happens after.
                self._staging.mkdir(parents=True, exist_ok=True)
                doomed = self._staging / f"deleted-{uuid.uuid4().hex}"
                os.rename(local, doomed)
            else:
                local.unlink()
                doomed = None
            self._drop_inodes(path)
        if doomed is not None:
            shutil.rmtree(doomed, ignore_errors=True)
        return True

    def set_permission(self, path: str, permission: int | None) -> None:
        self._update(path, lambda inode, is_dir: replace(inode, permission=_default_mode(permission, is_dir)))

    def set_owner(self, path: str, owner: str | None, group: str | None) -> None:
        self._update(path, lambda inode, _: replace(inode, owner=owner or inode.owner, group=group or inode.group))

    def set_replication(self, path: str, replication: int) -> bool:
        """False for a directory, which has no replication, as HDFS answers."""
        if self.existing(path, f"File does not exist: {path}").is_dir():
            return False
        self._update(path, lambda inode, _: replace(inode, replication=replication))
        return True

    def set_times(self, path: str, modification_ms: int, access_ms: int) -> None:
        """SETTIMES: times in ms since the epoch, -1 leaving one as it is."""
        with self._lock:
            local = self.existing(path, f"File does not exist: {path}")
            st = local.stat()
            atime = st.st_atime_ns if access_ms == -1 else access_ms * 1_000_000
            mtime = st.st_mtime_ns if modification_ms == -1 else modification_ms * 1_000_000
            os.utime(local, ns=(atime, mtime))

    def _update(self, path: str, change: Callable[[Inode, bool], Inode]) -> None:
        with self._lock:
            is_dir = self.existing(path, f"File does not exist: {path}").is_dir()
            self._inodes[path] = change(self.inode(path, is_dir), is_dir)


def _default_mode(permission: int | None, is_dir: bool) -> int:
    if permission is not None:
        return permission
    return DEFAULT_DIR_MODE if is_dir else DEFAULT_FILE_MODE


def md5_md5_crc32(f: BinaryIO) -> dict[str, Any]:
    """GETFILECHECKSUM's FileChecksum, computed as the DataNodes and DFSClient compute it.

    Per block, the DataNode takes the MD5 of the CRC32Cs of its 512-byte chunks; the client
    takes the MD5 of those block MD5s. Hadoop hashes its DataOutputBuffer's whole backing
    array (32 bytes, doubling), not only the bytes written, so the block MD5s are
    zero-padded to that size. Keeping the quirk is what makes the result match a cluster's:
    an empty file gives Hadoop's well-known `MD5-of-0MD5-of-0CRC32C` / ...70bc8f4b72a869....
    """
    digests: list[bytes] = []
    crcs_in_first_block = 0
    while (block := _block_md5_of_crc32(f)) is not None:
        digest, crcs = block
        crcs_in_first_block = crcs_in_first_block or crcs
        digests.append(digest)
    bytes_per_crc = BYTES_PER_CHECKSUM if digests else 0
    crc_per_block = crcs_in_first_block if len(digests) > 1 else 0
    written = b"".join(digests)
    capacity = 32
    while capacity < len(written):
        capacity *= 2
    file_md5 = hashlib.md5(written.ljust(capacity, b"\0"), usedforsecurity=False).digest()
    raw = struct.pack(">iq", bytes_per_crc, crc_per_block) + file_md5
    return {
        "algorithm": f"MD5-of-{crc_per_block}MD5-of-{bytes_per_crc}CRC32C",
        "bytes": raw.hex(),
        "length": len(raw),
    }


def _block_md5_of_crc32(f: BinaryIO) -> tuple[bytes, int] | None:
    """(MD5 of the big-endian CRC32Cs of one block's chunks, number of chunks), None at EOF."""
    import google_crc32c

    md5 = hashlib.md5(usedforsecurity=False)
    crcs = 0
    remaining = BLOCK_SIZE
    while remaining and (data := f.read(min(remaining, COPY_CHUNK))):
        remaining -= len(data)
        view = memoryview(data)
        for start in range(0, len(data), BYTES_PER_CHECKSUM):
            md5.update(struct.pack(">I", google_crc32c.value(bytes(view[start : start + BYTES_PER_CHECKSUM]))))
            crcs += 1
    return (md5.digest(), crcs) if crcs else None


class Params:
    """Query parameters as Hadoop reads them: names case-insensitive, blank means absent."""

    def __init__(self, query: str) -> None:
        self._values: dict[str, str] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            # The first wins: the hdfs client repeats user.name when it follows a Location.
            self._values.setdefault(name.lower(), value)

    def items(self) -> list[tuple[str, str]]:
        return list(self._values.items())

    def text(self, name: str) -> str | None:
        value = self._values.get(name)
        return value if value is not None and value.strip() else None

    def boolean(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise invalid_param(name, f'Failed to parse "{value}" to Boolean.')
        return value.lower() == "true"

    def number(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self.optional_number(name, minimum)
        return default if value is None else value

    def optional_number(self, name: str, minimum: int | None = None) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not re.fullmatch(r"[+-]?[0-9]+", value):  # Java's Long.parseLong, not Python's int()
            raise invalid_param(name, f'For input string: "{value}"')
        number = int(value)
        if minimum is not None and number < minimum:
            raise invalid_param(name, f"Invalid parameter range: {name} = {number} < {minimum}")
        return number

    def permission(self) -> int | None:
        """An octal mode between 0 and 1777, as PermissionParam parses it."""
        value = self.text("permission")
        if value is None:
            return None
        if not re.fullmatch(r"[0-7]+", value):
            raise invalid_param("permission", f'For input string: "{value}" under radix 8')
        if int(value, 8) > 0o1777:
            raise invalid_param("permission", f"Invalid parameter range: permission = {value} > 1777")
        return int(value, 8)


@dataclass(frozen=True)
class Request:
    method: str
    op: str
    path: str
    params: Params
    user: str
    datanode: bool  # the second step of a redirected op


def _read_exactly(stream: BinaryIO, length: int) -> Iterator[bytes]:
    while length > 0:
        data = stream.read(min(length, COPY_CHUNK))
        if not data:
            raise ConnectionError("request body ended early")
        length -= len(data)
        yield data


def _read_chunked(stream: BinaryIO) -> Iterator[bytes]:
    """A `Transfer-Encoding: chunked` body, which is how the hdfs client streams uploads."""
    while True:
        size_line = stream.readline(1024)
        if not size_line:
            raise ConnectionError("request body ended early")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while stream.readline(1024) not in (b"\r\n", b"\n", b""):  # trailers, if any
                pass
            return
        yield from _read_exactly(stream, size)
        stream.readline(1024)  # the CRLF closing the chunk


class _Handler(BaseHTTPRequestHandler):
    """Turns WebHDFS requests into Namespace calls and answers in WebHDFS's shapes."""

    server: _Server
    protocol_version = "HTTP/1.1"  # keep-alive, as the hdfs client's requests session expects
    # Headers and body leave in separate writes; with Nagle on, each small JSON answer would
    # wait out the client's delayed ACK (~40 ms a request).
    disable_nagle_algorithm = True
    server_version = "WebHdfsTestDouble/1.0"

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def log_message(self, fmt: str, *args: Any) -> None:
        if self.server.verbose:  # quiet by default: tests and the devstack log enough already
            sys.stderr.write(f"webhdfs-double {self.address_string()} {fmt % args}\n")

    @property
    def _ns(self) -> Namespace:
        return self.server.namespace

    # -- request plumbing ---------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        self._body_reader: Iterator[bytes] | None = None
        try:
            request = self._parse(method)
            self._route(request)(self, request)
        except RemoteException as err:
            self._send_json(err.status, err.to_json())
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away; nobody to answer
        except OSError as err:  # the backing directory refused: Hadoop reports an IOException, 403
            self._send_json(403, RemoteException("IOException", str(err)).to_json())
        except Exception as err:  # noqa: BLE001 (a bug in the double: answer 500 as Hadoop would, and say so)
            self.log_error("unhandled %r", err)
            message = f"{type(err).__name__}: {err} (in the WebHDFS test double)"
            self._send_json(500, RemoteException("RuntimeException", message).to_json())

    def _parse(self, method: str) -> Request:
        url = urlsplit(self.path)
        if url.path != PREFIX and not url.path.startswith(PREFIX + "/"):
            raise RemoteException("FileNotFoundException", f"{url.path}: WebHDFS paths start with {PREFIX}/")
        params = Params(url.query)
        op = (params.text("op") or "NULL").upper()
        if op not in _HADOOP_OPS[method]:
            enum = f"org.apache.hadoop.hdfs.web.resources.{_OP_ENUMS[method]}.Op"
            raise invalid_param("op", f"No enum constant {enum}.{op}")
        path = canonical(unquote(url.path[len(PREFIX) :]) or "/")
        datanode = params.boolean("datanode", False)
        return Request(method, op, path, params, self._user(params), datanode)

    @staticmethod
    def _user(params: Params) -> str:
        for name in ("doas", "user.name"):
            value = params.text(name)
            if value is not None and not USER_PATTERN.match(value):
                detail = f'Invalid value: "{value}" does not belong to the domain {USER_PATTERN.pattern}'
                raise invalid_param(name, detail)
        return params.text("doas") or params.text("user.name") or ANONYMOUS

    def _route(self, request: Request) -> _Route:
        table = _DATANODE_ROUTES if request.datanode else _NAMENODE_ROUTES
        route = table.get((request.method, request.op))
        if route is not None:
            return route
        if request.datanode:  # Hadoop's DataNode handler words it this way
            raise RemoteException("IllegalArgumentException", f"Invalid operation {request.op}")
        raise RemoteException(
            "UnsupportedOperationException", f"op={request.op} is not supported by the WebHDFS test double"
        )

    def _body(self) -> Iterator[bytes]:
        """The request body, de-chunked, read lazily and at most once."""
        if self._body_reader is None:
            self._body_reader = self._read_body()
        return self._body_reader

    def _read_body(self) -> Iterator[bytes]:
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                yield from _read_chunked(self.rfile)
            else:
                yield from _read_exactly(self.rfile, int(self.headers.get("Content-Length") or 0))
        except (ValueError, OSError) as err:
            # We have lost our place in the byte stream: this connection cannot carry another request.
            self.close_connection = True
            raise RemoteException("IOException", f"Failed to read the request body: {err}") from err

    def _drain_body(self) -> None:
        """Read what the client sent even when it is not wanted (a refused upload, a body on the
        NameNode step), so the next request on this kept-alive connection starts in the right place."""
        try:
            for _ in self._body():
                pass
        except RemoteException:
            pass  # _read_body has already marked the connection for closing

    def _send(
        self, status: int, body: bytes = b"", content_type: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self._drain_body()
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:  # tell the client's pool not to reuse this connection
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _authority(self) -> str:
        """host:port as the client reached us, so redirects work through any name or port mapping."""
        host, port = self.server.server_address[:2]
        return self.headers.get("Host") or f"{host}:{port}"

    # -- NameNode --------------------------------------------------------------------------------

    def _redirect(self, request: Request) -> None:
        """First step of CREATE, APPEND, OPEN, GETFILECHECKSUM: point the client at a DataNode (us)."""
        self._check_before_redirect(request)
        pairs = [(k, v) for k, v in request.params.items() if k not in ("noredirect", "datanode")]
        query = urlencode([*pairs, ("datanode", "true")])
        location = f"http://{self._authority()}{PREFIX}{quote(request.path)}?{query}"
        if request.params.boolean("noredirect", False):
            self._send_json(200, {"Location": location})
        else:
            self._send(307, content_type="application/octet-stream", headers={"Location": location})

    def _check_before_redirect(self, request: Request) -> None:
        # The NameNode validates parameters and, for existing files, existence and offset
        # before choosing a DataNode; everything else fails at the DataNode step, as in Hadoop.
        if request.op == "CREATE":
            _create_options(request.params)
            return
        local = self._ns.existing(request.path, f"File {request.path} not found.")
        if request.op == "OPEN":
            offset, _ = _open_range(request.params)
            size = 0 if local.is_dir() else local.stat().st_size
            if offset >= size > 0:
                message = f"Offset={offset} out of the range [0, {size}); OPEN, path={request.path}"
                raise RemoteException("IOException", message)

    def _get_file_status(self, request: Request) -> None:
        self._send_json(200, {"FileStatus": self._ns.status(request.path)})

    def _list_status(self, request: Request) -> None:
        self._send_json(200, {"FileStatuses": {"FileStatus": self._ns.list_status(request.path)}})

    def _get_content_summary(self, request: Request) -> None:
        self._send_json(200, {"ContentSummary": self._ns.content_summary(request.path)})

    def _get_home_directory(self, request: Request) -> None:
        self._send_json(200, {"Path": f"/user/{request.user}"})

    def _get_trash_root(self, request: Request) -> None:
        self._send_json(200, {"Path": f"/user/{request.user}/.Trash"})

    def _mkdirs(self, request: Request) -> None:
        created = self._ns.mkdirs(request.path, request.params.permission(), request.user)
        self._send_json(200, {"boolean": created})

    def _rename(self, request: Request) -> None:
        destination = request.params.text("destination")
        if destination is None or not destination.startswith("/"):
            detail = f'Invalid parameter value: destination = "{destination}" is not an absolute path.'
            raise invalid_param("destination", detail)
        destination = canonical(destination)
        options = {o.strip().upper() for o in (request.params.text("renameoptions") or "").split(",") if o.strip()}
        if not options:
            self._send_json(200, {"boolean": self._ns.rename(request.path, destination)})
            return
        if not options <= {"NONE", "OVERWRITE", "TO_TRASH"}:
            raise invalid_param("renameoptions", f"{sorted(options)} is not a subset of [NONE, OVERWRITE, TO_TRASH]")
        self._ns.rename2(request.path, destination, overwrite="OVERWRITE" in options)
        self._send(200, content_type="application/octet-stream")

    def _delete(self, request: Request) -> None:
        deleted = self._ns.delete(request.path, request.params.boolean("recursive", False))
        self._send_json(200, {"boolean": deleted})

    def _set_permission(self, request: Request) -> None:
        self._ns.set_permission(request.path, request.params.permission())
        self._send(200, content_type="application/octet-stream")

    def _set_owner(self, request: Request) -> None:
        owner, group = request.params.text("owner"), request.params.text("group")
        if owner is None and group is None:
            raise RemoteException("IllegalArgumentException", "Both owner and group are empty.")
        self._ns.set_owner(request.path, owner, group)
        self._send(200, content_type="application/octet-stream")

    def _set_times(self, request: Request) -> None:
        modification = request.params.number("modificationtime", -1, minimum=-1)
        access = request.params.number("accesstime", -1, minimum=-1)
        self._ns.set_times(request.path, modification, access)
        self._send(200, content_type="application/octet-stream")

    def _set_replication(self, request: Request) -> None:
        replication = request.params.number("replication", DEFAULT_REPLICATION, minimum=1)
        changed = self._ns.set_replication(request.path, replication)
        self._send_json(200, {"boolean": changed})

    # -- DataNode --------------------------------------------------------------------------------

    def _datanode_create(self, request: Request) -> None:
        options = _create_options(request.params)
        self._ns.create(request.path, self._body(), user=request.user, client=self.client_address[0], **options)
        location = f"webhdfs://{self._authority()}{quote(request.path)}"
        self._send(201, headers={"Location": location})

    def _datanode_append(self, request: Request) -> None:
        self._ns.append(request.path, self._body(), client=self.client_address[0])
        self._send(200)

    def _datanode_open(self, request: Request) -> None:
        offset, length = _open_range(request.params)
        with self._ns.open_file(request.path) as f:
            size = os.fstat(f.fileno()).st_size
            if offset > size:
                raise RemoteException("EOFException", "Cannot seek after EOF")
            count = size - offset if length is None else min(length, size - offset)
            f.seek(offset)
            self._drain_body()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(count))
            self.end_headers()
            # Headers are out: from here a failure can only cut the connection.
            try:
                while count > 0 and (data := f.read(min(count, COPY_CHUNK))):
                    self.wfile.write(data)
                    count -= len(data)
            except OSError:
                self.close_connection = True

    def _datanode_checksum(self, request: Request) -> None:
        self._send_json(200, {"FileChecksum": self._ns.checksum(request.path)})


def _create_options(params: Params) -> dict[str, Any]:
    """CREATE's parameters, validated at both steps as Hadoop's NameNode and DataNode do."""
    params.optional_number("buffersize", minimum=1)  # accepted and ignored: no buffers to size
    return {
        "overwrite": params.boolean("overwrite", False),
        "permission": params.permission(),
        "replication": params.number("replication", DEFAULT_REPLICATION, minimum=1),
        "block_size": params.number("blocksize", BLOCK_SIZE, minimum=1),
        "create_parent": params.boolean("createparent", True),
    }


def _open_range(params: Params) -> tuple[int, int | None]:
    return params.number("offset", 0, minimum=0), params.optional_number("length", minimum=0)


_Route = Callable[[_Handler, Request], None]
_NAMENODE_ROUTES: dict[tuple[str, str], _Route] = {
    ("GET", "OPEN"): _Handler._redirect,
    ("GET", "GETFILECHECKSUM"): _Handler._redirect,
    ("PUT", "CREATE"): _Handler._redirect,
    ("POST", "APPEND"): _Handler._redirect,
    ("GET", "GETFILESTATUS"): _Handler._get_file_status,
    ("GET", "LISTSTATUS"): _Handler._list_status,
    ("GET", "GETCONTENTSUMMARY"): _Handler._get_content_summary,
    ("GET", "GETHOMEDIRECTORY"): _Handler._get_home_directory,
    ("GET", "GETTRASHROOT"): _Handler._get_trash_root,
    ("PUT", "MKDIRS"): _Handler._mkdirs,
    ("PUT", "RENAME"): _Handler._rename,
    ("PUT", "SETPERMISSION"): _Handler._set_permission,
    ("PUT", "SETOWNER"): _Handler._set_owner,
    ("PUT", "SETTIMES"): _Handler._set_times,
    ("PUT", "SETREPLICATION"): _Handler._set_replication,
    ("DELETE", "DELETE"): _Handler._delete,
}
_DATANODE_ROUTES: dict[tuple[str, str], _Route] = {
    ("PUT", "CREATE"): _Handler._datanode_create,
    ("POST", "APPEND"): _Handler._datanode_append,
    ("GET", "OPEN"): _Handler._datanode_open,
    ("GET", "GETFILECHECKSUM"): _Handler._datanode_checksum,
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # parallel uploads (hdfs client n_threads) should not be refused

    def __init__(self, address: tuple[str, int], namespace: Namespace, verbose: bool) -> None:
        self.namespace = namespace
        self.verbose = verbose
        super().__init__(address, _Handler)


class WebHdfsDouble:
    """The WebHDFS test double as an object: bound on construction, served by start()."""

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        superuser: str = "hdfs",
        verbose: bool = False,
    ) -> None:
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        self.namespace = Namespace(root, superuser)
        self.root = self.namespace.root
        self._server = _Server((host, port), self.namespace, verbose)
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def host(self) -> str:
        host = str(self._server.server_address[0])
        # A wildcard bind (0.0.0.0) is reachable on loopback; it is no address to connect to.
        return "127.0.0.1" if ipaddress.ip_address(host).is_unspecified else host

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The NameNode URL clients take, e.g. `InsecureClient(double.url)`."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> WebHdfsDouble:
        """Serve in a daemon thread; returns self."""
        self._serving = True
        self._thread = threading.Thread(target=self.serve_forever, name="webhdfs-double", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until stop() is called from another thread."""
        self._serving = True
        # stop() waits up to one poll interval; the default 0.5 s would slow every test's teardown.
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        # shutdown() waits for serve_forever() to notice, so it would hang if nothing serves.
        if self._serving:
            self._serving = False
            self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> WebHdfsDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.webhdfs_double",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=19870)
    parser.add_argument("--root", type=Path, required=True, help="the directory that holds the files")
    parser.add_argument("--superuser", default="hdfs", help="owner reported for files with no recorded owner")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    double = WebHdfsDouble(args.root, args.host, args.port, superuser=args.superuser, verbose=args.verbose)

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        # The handler runs in the serving thread, and stop() waits for that thread's loop to end.
        threading.Thread(target=double.stop, name="webhdfs-double-stop").start()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(f"webhdfs test double serving {double.root} on {double.url}", flush=True)
    double.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
