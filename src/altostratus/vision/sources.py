"""Where an image comes from: the request's bytes (5 MB at most) or an object in the lake (15 MB at most)."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from altostratus.vision.errors import ImageTooLarge, InvalidParameter
from altostratus.vision.images import MAX_BYTES, MAX_S3_BYTES, Picture, decode


class ObjectReader(Protocol):
    """Reads one object of the lake, refusing it past `limit` bytes before reading it."""

    def read_object(self, bucket: str, key: str, limit: int) -> bytes:
        """The object's bytes; InvalidS3Object when it cannot be read, ImageTooLarge past the limit."""
        ...


@dataclasses.dataclass(frozen=True)
class ImageSource:
    """An image as a request names it: its bytes, or the bucket and key of an object in the lake."""

    data: bytes | None = None
    bucket: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if (self.data is None) == (self.bucket is None):
            raise InvalidParameter("An image is given either as Bytes or as S3Object, one of the two")
        if self.bucket is not None and not self.key:
            raise InvalidParameter("S3Object needs both Bucket and Name")

    def load(self, objects: ObjectReader) -> Picture:
        """The decoded picture."""
        if self.data is not None:
            return decode(self.data, limit=MAX_BYTES)
        assert self.bucket is not None and self.key is not None
        data = objects.read_object(self.bucket, self.key, MAX_S3_BYTES)
        if len(data) > MAX_S3_BYTES:
            raise ImageTooLarge(f"s3://{self.bucket}/{self.key} is {len(data)} bytes; at most {MAX_S3_BYTES} are read")
        return decode(data, limit=MAX_S3_BYTES)
