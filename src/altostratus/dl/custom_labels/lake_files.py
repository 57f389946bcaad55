"""What Custom Labels reads from and writes to the lake: manifests, images to detect in, training manifests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Protocol

from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService

# Custom Labels reads manifests of up to 1 GB.
MAX_MANIFEST_BYTES = 1024**3


class ManifestTooLarge(ValueError):
    """The manifest is larger than MAX_MANIFEST_BYTES."""


class LakeFiles(Protocol):
    """The lake as Custom Labels sees it."""

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object is there."""
        ...

    def has_bucket(self, bucket: str) -> bool:
        """Whether the bucket is there."""
        ...

    def lines(self, bucket: str, key: str) -> Iterator[str]:
        """The object's lines; NoSuchBucket, NoSuchKey, UnicodeDecodeError or ManifestTooLarge when unreadable."""
        ...

    def write(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        """Write the object whole."""
        ...


@dataclasses.dataclass(frozen=True)
class LakeServiceFiles:
    """LakeFiles over the lake service's public methods."""

    lake: LakeService

    def exists(self, bucket: str, key: str) -> bool:
        """Whether the object is there."""
        try:
            self.lake.head(bucket, key)
        except (NoSuchBucket, NoSuchKey):
            return False
        return True

    def has_bucket(self, bucket: str) -> bool:
        """Whether the bucket is there."""
        try:
            self.lake.get_bucket(bucket)
        except NoSuchBucket:
            return False
        return True

    def lines(self, bucket: str, key: str) -> Iterator[str]:
        """The object's lines, decoded as UTF-8, without their line ends; blank lines left out."""
        info = self.lake.head(bucket, key)
        if info.size > MAX_MANIFEST_BYTES:
            raise ManifestTooLarge(f"s3://{bucket}/{key} is {info.size} bytes; at most {MAX_MANIFEST_BYTES}")
        rest = b""
        for chunk in self.lake.read(info):
            *whole, rest = (rest + chunk).split(b"\n")
            yield from (line.decode("utf-8").strip() for line in whole if line.strip())
        if rest.strip():
            yield rest.decode("utf-8").strip()

    def write(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        """Write the object whole: it appears on commit or not at all."""
        writer = self.lake.object_writer(bucket, key, ObjectMeta(content_type))
        with writer:
            writer.write(data)
            writer.commit()
