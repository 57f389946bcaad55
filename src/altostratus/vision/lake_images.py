"""Images in the lake: Rekognition's S3Object, read through the lake's public methods."""

from __future__ import annotations

import dataclasses

from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.lake.service import LakeService
from altostratus.vision.errors import ImageTooLarge, InvalidS3Object


@dataclasses.dataclass(frozen=True)
class LakeImages:
    """The vision service's ObjectReader over the lake."""

    lake: LakeService

    def read_object(self, bucket: str, key: str, limit: int) -> bytes:
        """The object's bytes; InvalidS3Object when there is none, ImageTooLarge past `limit` (checked first)."""
        try:
            info = self.lake.head(bucket, key)
        except (NoSuchBucket, NoSuchKey) as error:
            raise InvalidS3Object(
                f"Unable to get object metadata from S3 (s3://{bucket}/{key}): {error.message}"
            ) from None
        if info.size > limit:
            raise ImageTooLarge(f"s3://{bucket}/{key} is {info.size} bytes; at most {limit} are read from the lake")
        return b"".join(self.lake.read(info))
