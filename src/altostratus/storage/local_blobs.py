"""BlobStore on the local filesystem: temporary file, fsync, rename."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from altostratus.core.errors import InvalidArgument
from altostratus.storage.blobs import CHUNK_SIZE, BlobInfo, BlobMissing
from altostratus.storage.private_files import make_private_dirs

_TMP_SUFFIX = ".partial"


class LocalBlobWriter:
    """Writes into a temporary file beside the target and renames it into place on commit."""

    def __init__(self, path: Path, key: str, *, fsync: bool) -> None:
        self._path = path
        self._key = key
        self._fsync = fsync
        make_private_dirs(path.parent)
        # mkstemp makes the file 0600, and the rename keeps that mode: every blob is its owner's only.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=_TMP_SUFFIX)
        self._tmp = Path(tmp)
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._size = 0
        self._done = False

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        self._file.write(chunk)
        self._md5.update(chunk)
        self._size += len(chunk)

    def commit(self) -> BlobInfo:
        """Flush to disk and rename over the target."""
        if self._fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._tmp, self._path)
        if self._fsync:
            _fsync_dir(self._path.parent)
        self._done = True
        return BlobInfo(self._key, self._size, self._md5.hexdigest())

    def abort(self) -> None:
        """Remove the temporary file."""
        if self._done:
            return
        self._done = True
        self._file.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> LocalBlobWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.abort()


class LocalBlobStore:
    """Blobs as files under a root folder; keys map to relative paths."""

    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = root
        self._fsync = fsync
        # Constructing never deletes: CLI commands build this store beside a running server, whose writes in
        # flight are temporary files too. The server clears a crash's leftovers at start (remove_partials).
        make_private_dirs(root)

    def remove_partials(self) -> int:
        """Delete the temporary files of writes that never committed (a crash); how many.

        Only for the process that holds the data directory's serving lock, before it serves
        (storage/serving_lock.py): another process's writes in flight would be deleted too.
        """
        removed = 0
        for tmp in self.root.rglob("." + "*" + _TMP_SUFFIX):
            tmp.unlink(missing_ok=True)
            removed += 1
        return removed

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") or p.endswith(_TMP_SUFFIX) for p in parts):
            raise InvalidArgument(f"blob key={key!r}; expected '/'-separated names without '.', '..' or ''")
        return self.root.joinpath(*parts)

    def writer(self, key: str) -> LocalBlobWriter:
        """A writer for the blob `key`."""
        return LocalBlobWriter(self._path(key), key, fsync=self._fsync)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes [start, end) of the blob."""
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise BlobMissing(f"blob {key!r} does not exist") from None
        return _read_range(handle, start, end)

    def size(self, key: str) -> int:
        """The blob's size in bytes."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise BlobMissing(f"blob {key!r} does not exist") from None

    def delete(self, key: str) -> None:
        """Remove the blob if present."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """Whether the blob exists."""
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every blob key that starts with prefix."""
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.endswith(_TMP_SUFFIX):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key


def _read_range(handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        remaining = None if end is None else max(0, end - start)
        while remaining is None or remaining > 0:
            want = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
            chunk = handle.read(want)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
