"""Where datasources read and batch predictions write: the `DataLocations` seam, and a local-disk one.

The service only sees locations as strings (Amazon ML's `s3://bucket/key` or `s3://bucket/prefix/`);
the composition root gives it a DataLocations that resolves them, the lake's in the server.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol

from altostratus.predict.datasources import CsvSource, FileSource
from altostratus.predict.errors import InvalidInput
from altostratus.storage.blobs import BlobInfo, BlobWriter


class DataLocations(Protocol):
    """Resolves data locations to CSV sources, and output locations to writers."""

    def sources(self, location: str) -> Sequence[CsvSource]:
        """The object at `location`, or every object under it when it is a prefix, in key order."""
        ...

    def writer(self, location: str) -> BlobWriter:
        """A writer that creates the object `location` when committed."""
        ...


@dataclasses.dataclass(frozen=True)
class LocalFiles:
    """Locations as paths under a root folder (also `file://` URLs): a file, or every file under a folder."""

    root: Path

    def sources(self, location: str) -> Sequence[CsvSource]:
        """The file, or the files under the folder, sorted by path."""
        path = self._path(location)
        if path.is_file():
            return [FileSource(path)]
        if path.is_dir():
            return [FileSource(file) for file in sorted(path.rglob("*")) if file.is_file()]
        raise InvalidInput(f"data location {location!r} holds no file")

    def writer(self, location: str) -> BlobWriter:
        """A writer of the file at `location` (written to a temporary file, renamed on commit)."""
        return _FileWriter(self._path(location))

    def _path(self, location: str) -> Path:
        relative = location.removeprefix("file://").lstrip("/")
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise InvalidInput(f"location {location!r} is outside {self.root}")
        return path


class _FileWriter:
    """A BlobWriter onto a local file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        self._file = os.fdopen(handle, "wb")
        self._temporary = Path(name)
        self._size = 0

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        self._file.write(chunk)
        self._size += len(chunk)

    def commit(self) -> BlobInfo:
        """Move the file into place."""
        self._file.close()
        os.replace(self._temporary, self._path)
        return BlobInfo(str(self._path), self._size, "")

    def abort(self) -> None:
        """Remove the temporary file."""
        self._file.close()
        self._temporary.unlink(missing_ok=True)

    def __enter__(self) -> _FileWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.abort()
