"""Data locations in the lake: `s3://bucket/key` is one object, `s3://bucket/prefix/` every object under it.

This is how the server resolves Amazon ML's DataLocationS3 and OutputUri. It uses only the LakeService's
public methods (list, head, read, object_writer), so what a datasource reads is exactly what S3 clients
see, and what a batch prediction writes appears whole, as one commit, with the lake's notifications.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from types import TracebackType

from altostratus.core.caller import Caller
from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.lake.objects import ObjectInfo, ObjectMeta
from altostratus.lake.service import LakeService, ObjectWriter
from altostratus.predict.datasources import CsvSource
from altostratus.predict.errors import InvalidInput
from altostratus.storage.blobs import BlobInfo

SCHEME = "s3://"
LIST_PAGE = 1000
WRITER = Caller("alto-predict")
CONTENT_TYPES = {".gz": "application/gzip", ".manifest": "application/json", ".csv": "text/csv"}


def parse_location(location: str) -> tuple[str, str]:
    """(bucket, key or prefix) of `s3://bucket[/key]`; InvalidInput for anything else."""
    if not isinstance(location, str) or not location.startswith(SCHEME):
        raise InvalidInput(f"location {location!r} is not in the lake; expected s3://bucket/key or s3://bucket/prefix/")
    bucket, _, key = location[len(SCHEME) :].partition("/")
    if not bucket:
        raise InvalidInput(f"location {location!r} names no bucket; expected s3://bucket/key or s3://bucket/prefix/")
    return bucket, key


@dataclasses.dataclass(frozen=True)
class LakeObject:
    """One object of the lake, as a CSV source."""

    lake: LakeService
    info: ObjectInfo

    @property
    def name(self) -> str:
        """The object's s3:// URL."""
        return f"{SCHEME}{self.info.bucket}/{self.info.key}"

    @property
    def size(self) -> int | None:
        """The object's size in bytes."""
        return self.info.size

    def open(self) -> Iterator[bytes]:
        """The object's bytes, as the blob store streams them."""
        return self.lake.read(self.info)


@dataclasses.dataclass(frozen=True)
class LakeLocations:
    """The predict service's DataLocations over the lake."""

    lake: LakeService

    def sources(self, location: str) -> Sequence[CsvSource]:
        """The object at `location`; or, when no object has that key, every object under it as a folder."""
        bucket, key = parse_location(location)
        try:
            if key and not key.endswith("/"):
                try:
                    return [LakeObject(self.lake, self.lake.head(bucket, key))]
                except NoSuchKey:
                    key += "/"
            found = list(self._objects(bucket, key))
        except NoSuchBucket:
            raise InvalidInput(f"location {location!r}: bucket {bucket!r} does not exist") from None
        if not found:
            raise InvalidInput(f"location {location!r} holds no object; expected a CSV object or a prefix of some")
        return found

    def writer(self, location: str) -> LakeWriter:
        """A writer that creates the object at `location` when committed."""
        bucket, key = parse_location(location)
        if not key or key.endswith("/"):
            raise InvalidInput(f"location {location!r} names no object; expected s3://bucket/key")
        suffix = key[key.rfind(".") :] if "." in key else ""
        meta = ObjectMeta(CONTENT_TYPES.get(suffix, "binary/octet-stream"))
        try:
            return LakeWriter(location, self.lake.object_writer(bucket, key, meta))
        except NoSuchBucket:
            raise InvalidInput(f"output location {location!r}: bucket {bucket!r} does not exist") from None

    def _objects(self, bucket: str, prefix: str) -> Iterator[LakeObject]:
        after = ""
        while True:
            page = self.lake.list_objects(bucket, prefix=prefix, after=after, max_keys=LIST_PAGE)
            # Keys ending in "/" are folder markers that consoles create, not data.
            yield from (LakeObject(self.lake, info) for info in page.objects if not info.key.endswith("/"))
            if not page.is_truncated:
                return
            after = page.next_marker


class LakeWriter:
    """A BlobWriter onto one lake object: bytes stream into the lake, the object appears on commit."""

    def __init__(self, location: str, writer: ObjectWriter) -> None:
        self._location = location
        self._writer = writer
        self._done = False

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        self._writer.write(chunk)

    def commit(self) -> BlobInfo:
        """Make the object visible, whole."""
        info = self._writer.commit(WRITER)
        self._done = True
        return BlobInfo(self._location, info.size, info.etag.strip('"'))

    def abort(self) -> None:
        """Throw the bytes away (nothing after a commit)."""
        if not self._done:
            self._done = True
            self._writer.abort()

    def __enter__(self) -> LakeWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.abort()
