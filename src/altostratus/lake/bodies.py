"""Small objects' bytes kept in the metadata store (the table object_bodies), beside their version's row.

A small PUT then costs one transaction and one fsync of the journal, shared with concurrent PUTs (group commit),
instead of a file's create, rename and two fsyncs on top of the transaction. MinIO keeps objects under 128 KiB
inside their metadata for the same reason, and SQLite measures blobs under about 100 KB as faster to read from
the database than from files (sqlite.org/intern-v-extern-blob.html). Such a version's blob_key is "".
"""

from __future__ import annotations

import hashlib
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from altostratus.lake.objects import ObjectInfo
from altostratus.lake.tables import BODY_OF_VERSION, object_bodies, objects
from altostratus.storage.blobs import BlobInfo, BlobMissing, BlobStore, BlobWriter

INLINE_LIMIT = 128 * 1024  # bytes stored; a larger object is a blob of its own (MinIO's threshold)

_PK = (
    object_bodies.c.bucket == bindparam("bucket"),
    object_bodies.c.key == bindparam("key"),
    object_bodies.c.version_id == bindparam("version_id"),
)
# The bytes, only while the row is still the version asked for: an unversioned key's overwrite keeps the version id
# "null", and a reader holding the older row must not get the newer bytes (a file's reader finds its blob gone).
_GET = (
    select(object_bodies.c.data)
    .select_from(object_bodies.join(objects, BODY_OF_VERSION))
    .where(*_PK, objects.c.etag == bindparam("etag"), objects.c.last_modified == bindparam("last_modified"))
)
_DELETE = delete(object_bodies).where(*_PK)


class BufferedBlobWriter:
    """Holds a blob's bytes in memory while they are at most `limit`; past it, they go on into a blob of `blobs`.

    Committed small, the blob has the key "" and its bytes are `body`, for the caller to store in its transaction.
    """

    def __init__(self, blobs: BlobStore, key: str, limit: int = INLINE_LIMIT) -> None:
        self._blobs = blobs
        self._key = key
        self._limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._spilled: BlobWriter | None = None

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        if self._spilled is not None:
            self._spilled.write(chunk)
            return
        self._chunks.append(chunk)
        self._size += len(chunk)
        self._md5.update(chunk)
        if self._size > self._limit:
            self._spilled = self._blobs.writer(self._key)
            for held in self._chunks:
                self._spilled.write(held)
            self._chunks = []

    @property
    def body(self) -> bytes | None:
        """The bytes, while they are small enough to keep beside the row; None once they went into a blob."""
        return None if self._spilled is not None else b"".join(self._chunks)

    def commit(self) -> BlobInfo:
        """The blob's key ("" when small), size and MD5; a spilled blob becomes visible under its key."""
        if self._spilled is not None:
            return self._spilled.commit()
        return BlobInfo("", self._size, self._md5.hexdigest())

    def abort(self) -> None:
        """Throw the bytes away."""
        self._chunks = []
        if self._spilled is not None:
            self._spilled.abort()

    def __enter__(self) -> BufferedBlobWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.abort()


def _upsert(dialect: Any) -> Any:
    statement = dialect.insert(object_bodies)
    return statement.on_conflict_do_update(
        index_elements=["bucket", "key", "version_id"], set_={"data": statement.excluded.data}
    )


# Built once, as records.py builds the statements on the request path: building one costs more than running it.
_UPSERT = {"sqlite": _upsert(sqlite), "postgresql": _upsert(postgresql)}


def put_body(db: Connection, info: ObjectInfo, data: bytes) -> None:
    """Store the bytes of the version info (its row is written already), replacing any it had (a null version)."""
    values = {"bucket": info.bucket, "key": info.key, "version_id": info.version_id, "data": data}
    db.execute(_UPSERT[db.dialect.name], values)


def drop_body(db: Connection, info: ObjectInfo) -> None:
    """Remove the bytes the version info's row kept before it was rewritten in place with a blob of its own."""
    db.execute(_DELETE, {"bucket": info.bucket, "key": info.key, "version_id": info.version_id})


def get_body(db: Connection, info: ObjectInfo) -> bytes:
    """The bytes of a small version (blob_key ""); BlobMissing (NoSuchKey) when the version is gone or was
    rewritten since info was read, as a file's reader finds its blob gone."""
    where = {"bucket": info.bucket, "key": info.key, "version_id": info.version_id}
    data = db.execute(_GET, {**where, "etag": info.etag, "last_modified": info.last_modified}).scalar()
    if data is None:
        raise BlobMissing(f"Key={info.key!r} VersionId={info.version_id!r} changed or went away while it was read")
    return bytes(data)
