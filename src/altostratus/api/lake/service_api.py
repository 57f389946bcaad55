"""The S3 API over the lake: one class whose methods are S3's operations."""

from __future__ import annotations

from altostratus.api.lake.acl import AclOperations
from altostratus.api.lake.attributes import AttributeOperations
from altostratus.api.lake.buckets import BucketOperations
from altostratus.api.lake.cors import CorsOperations
from altostratus.api.lake.encryption import EncryptionOperations
from altostratus.api.lake.lifecycle import LifecycleOperations
from altostratus.api.lake.multipart import MultipartOperations
from altostratus.api.lake.object_lock import ObjectLockOperations
from altostratus.api.lake.objects import ObjectOperations
from altostratus.api.lake.policy import PolicyOperations
from altostratus.api.lake.post_object import PostObjectOperations
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.small_commits import CommitBatcher
from altostratus.api.lake.tagging import TaggingOperations
from altostratus.api.lake.versioning import VersioningOperations


class S3Api(
    BucketOperations,
    ObjectOperations,
    MultipartOperations,
    VersioningOperations,
    TaggingOperations,
    AttributeOperations,
    ObjectLockOperations,
    AclOperations,
    PolicyOperations,
    LifecycleOperations,
    EncryptionOperations,
    CorsOperations,
    PostObjectOperations,
):
    """S3's operations on the lake, each a method named as boto3 names it, taking the call and returning a Reply."""

    def __init__(self, services: S3Services) -> None:
        self._s3 = services
        self._small_commits = CommitBatcher(services.lake)
