"""Writers that stream an object's (or a part's) bytes into a new blob while checksums run, then commit it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING

from altostratus.core.caller import Caller
from altostratus.lake import bodies
from altostratus.lake.acl import Owned
from altostratus.lake.checksums import Checksums, check_content_md5
from altostratus.lake.encryption import Envelope, SealedBlobWriter
from altostratus.lake.object_lock import Retention
from altostratus.lake.objects import ObjectInfo, ObjectMeta, WriteCondition
from altostratus.storage.blobs import BlobInfo, BlobWriter

if TYPE_CHECKING:
    from altostratus.lake.service import LakeService


class StreamingWriter:
    """Streams bytes into a new blob while checksums run; subclasses decide what committing means."""

    def __init__(self, lake: LakeService, blob: BlobWriter, digests: Checksums) -> None:
        self._lake = lake
        self._blob = blob
        self._digests = digests
        self.size = 0

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        self._blob.write(chunk)
        self._digests.update(chunk)
        self.size += len(chunk)

    def expect_checksum(self, algorithm: str, value: str) -> None:
        """Require that the bytes written hash to value under algorithm (sent as a trailer)."""
        self._digests.expect(algorithm, value)

    def _store_blob(self) -> tuple[BlobInfo, dict[str, str]]:
        try:
            checksums = self._digests.verify()
        except BaseException:
            self._blob.abort()
            raise
        return self._blob.commit(), checksums

    def _etag(self, blob: BlobInfo) -> str:
        """S3's ETag of the bytes stored: their MD5 (see SealedBlobWriter.etag_md5 for an encrypted blob's)."""
        return f'"{self._blob.etag_md5 if isinstance(self._blob, SealedBlobWriter) else blob.md5}"'

    @property
    def encryption(self) -> Envelope | None:
        """How the bytes are sealed; None when they are stored as they come."""
        return self._envelope(())

    def _envelope(self, segments: tuple[tuple[int, int], ...]) -> Envelope | None:
        """How the bytes stored are sealed, as these segments; None when they are stored as they came."""
        if isinstance(self._blob, SealedBlobWriter):
            return self._blob.sealing.envelope.with_segments(segments)
        return None

    def abort(self) -> None:
        """Throw the bytes away."""
        self._blob.abort()

    def __enter__(self) -> StreamingWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None:
            self.abort()


@dataclasses.dataclass(frozen=True)
class PendingCommit:
    """A new object version whose bytes are all in (and checked), ready for LakeService.commit_objects."""

    info: ObjectInfo
    caller: Caller | None
    event_name: str
    condition: WriteCondition | None
    body: bytes | None  # a small object's bytes, stored beside its row (lake/bodies.py); None: in its blob


class ObjectWriter(StreamingWriter):
    """Streams one object's bytes into a new blob, then commits it as the object's current version."""

    def __init__(
        self,
        lake: LakeService,
        bucket: str,
        key: str,
        meta: ObjectMeta,
        blob: BlobWriter,
        digests: Checksums,
        content_md5: str | None,
        *,
        tags: Mapping[str, str] | None = None,
        owned: Owned | None = None,
        buffered: bodies.BufferedBlobWriter | None = None,
    ) -> None:
        super().__init__(lake, blob, digests)
        self._buffered = buffered
        self._bucket = bucket
        self._key = key
        self._meta = meta
        self._content_md5 = content_md5
        self._tags = dict(tags or {})
        self._owned = owned or Owned()

    def commit(
        self,
        caller: Caller | None = None,
        *,
        event_name: str = "ObjectCreated:Put",
        condition: WriteCondition | None = None,
        retention: Retention | None = None,
        legal_hold: bool = False,
    ) -> ObjectInfo:
        """Check digests, store the blob, make it the object if `condition` holds; on any error nothing is stored.

        The version keeps the retention and legal hold given (object lock), else its bucket's default retention."""
        pending = self.prepare(
            caller, event_name=event_name, condition=condition, retention=retention, legal_hold=legal_hold
        )
        (outcome,) = self._lake.commit_objects([pending])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def prepare(
        self,
        caller: Caller | None = None,
        *,
        event_name: str = "ObjectCreated:Put",
        condition: WriteCondition | None = None,
        retention: Retention | None = None,
        legal_hold: bool = False,
    ) -> PendingCommit:
        """Check digests and store the blob (a small object's bytes stay in memory): the version ready to commit,
        as commit() does, or, with others, LakeService.commit_objects. On any error nothing is stored."""
        blob, checksums = self._store_blob()
        info = ObjectInfo(
            bucket=self._bucket,
            key=self._key,
            size=blob.size,
            etag=self._etag(blob),
            last_modified=self._lake.clock.now(),
            meta=self._meta,
            checksums=checksums,
            blob_key=blob.key,
            tags=self._tags,
            owner=self._owned.owner,
            acl=self._owned.acl,
            retention=retention,
            legal_hold=legal_hold,
            encryption=self._envelope(((0, blob.size),)),
        )
        try:
            check_content_md5(self._content_md5, blob.md5)
        except BaseException:
            if blob.key:
                self._lake.blobs.delete(blob.key)
            raise
        body = self._buffered.body if self._buffered is not None else None
        return PendingCommit(info, caller, event_name, condition, body)
