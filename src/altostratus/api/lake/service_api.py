"""The S3 API over the lake: one class whose methods are S3's operations."""

from __future__ import annotations

from altostratus.api.lake.buckets import BucketOperations
from altostratus.api.lake.multipart import MultipartOperations
from altostratus.api.lake.objects import ObjectOperations
from altostratus.api.lake.services import S3Services


class S3Api(BucketOperations, ObjectOperations, MultipartOperations):
    """S3's operations on the lake, each a method named as boto3 names it, taking the call and returning a Reply."""

    def __init__(self, services: S3Services) -> None:
        self._s3 = services
