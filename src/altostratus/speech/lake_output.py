"""Where synthesis tasks write: the lake, one object per task, written whole or not at all."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from altostratus.lake.errors import NoSuchBucket
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.speech.errors import InvalidS3Bucket


class LakeOutput:
    """The AudioSink of synthesis tasks over the lake; URIs are the server's path-style object URLs."""

    def __init__(self, lake: LakeService, endpoint_url: str) -> None:
        self._lake = lake
        self._endpoint = endpoint_url.rstrip("/")

    def check_bucket(self, bucket: str) -> None:
        """InvalidS3Bucket when the bucket does not exist."""
        try:
            self._lake.get_bucket(bucket)
        except NoSuchBucket:
            raise InvalidS3Bucket(f"OutputS3BucketName={bucket!r}: the bucket does not exist") from None

    def write(self, bucket: str, key: str, chunks: Iterable[bytes], content_type: str) -> None:
        """Stream the chunks into bucket/key and commit them as one object."""
        writer = self._lake.object_writer(bucket, key, ObjectMeta(content_type))
        with writer:
            for chunk in chunks:
                writer.write(chunk)
            writer.commit()

    def uri(self, bucket: str, key: str) -> str:
        """The object's URL on this server (path style, as boto3 addresses it with endpoint_url)."""
        return f"{self._endpoint}/{quote(bucket)}/{quote(key)}"
