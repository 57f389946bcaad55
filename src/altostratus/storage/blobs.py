"""The BlobStore protocol: atomic, streaming storage of opaque byte blobs under string keys."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Protocol

from altostratus.core.errors import NotFound

CHUNK_SIZE = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class BlobInfo:
    """What was stored: the key, the size in bytes and the hex MD5 of the bytes."""

    key: str
    size: int
    md5: str


class BlobMissing(NotFound):
    """The blob does not exist in the store."""

    code = "NoSuchKey"


class BlobWriter(Protocol):
    """Receives bytes for one blob; nothing is visible until commit, and abort leaves no trace."""

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        ...

    def commit(self) -> BlobInfo:
        """Make the blob visible under its key, whole, replacing any older blob of that key."""
        ...

    def abort(self) -> None:
        """Throw the bytes away; safe to call more than once and after commit."""
        ...

    def __enter__(self) -> BlobWriter: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class BlobStore(Protocol):
    """Opaque bytes by key; every write is atomic, every read streams."""

    def writer(self, key: str) -> BlobWriter:
        """A writer for the blob `key`."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes [start, end) of the blob (end None: to the end)."""
        ...

    def size(self, key: str) -> int:
        """The blob's size in bytes; BlobMissing when absent."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob; no error when it is absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether the blob exists."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every blob key that starts with prefix."""
        ...

    def remove_partials(self) -> int:
        """Delete what writes cut short by a crash left behind; how many (only under the serving lock, at start)."""
        ...


def put_chunks(store: BlobStore, key: str, chunks: Iterable[bytes]) -> BlobInfo:
    """Write a whole blob from an iterable of chunks; if the iterable raises, nothing is stored."""
    with store.writer(key) as writer:
        for chunk in chunks:
            writer.write(chunk)
        return writer.commit()


def concat(store: BlobStore, key: str, sources: Iterable[str]) -> BlobInfo:
    """Write the blobs `sources`, one after another, as the new blob `key`."""
    return put_chunks(store, key, (chunk for source in sources for chunk in store.read(source)))
