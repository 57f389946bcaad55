"""A bucket's default encryption: what objects written to it without encryption headers are sealed with.

Only buckets configured so encrypt by default. S3 has encrypted every new object since January 2023 and answers
AES256 for every bucket; this server does not encrypt what no one asked it to (objects written before encryption
existed are stored as they came, and small writes stay as fast as they were), so it answers a bucket without a
configuration as S3 did before: ServerSideEncryptionConfigurationNotFoundError, never a rule it does not apply.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, select, update

from altostratus.core.errors import InvalidArgument, NotFound
from altostratus.lake.encryption import SSE_S3, EncryptionKind, EncryptionRequest
from altostratus.lake.errors import NoSuchBucket
from altostratus.lake.tables import buckets

if TYPE_CHECKING:  # the service reads default_encryption, so this module may not import it at run time
    from altostratus.lake.service import LakeService

_DEFAULT = select(buckets.c.encryption).where(buckets.c.name == bindparam("bucket"))


class ServerSideEncryptionConfigurationNotFound(NotFound):
    """The server side encryption configuration was not found."""

    code = "ServerSideEncryptionConfigurationNotFoundError"


@dataclasses.dataclass(frozen=True)
class EncryptionRule:
    """The one rule of a bucket's encryption configuration: SSE-S3 (AES256), without S3 bucket keys."""

    algorithm: str = EncryptionKind.SSE_S3.value
    bucket_key_enabled: bool = False

    def __post_init__(self) -> None:
        if self.algorithm != EncryptionKind.SSE_S3.value:
            raise InvalidArgument(f"SSEAlgorithm={self.algorithm!r}; expected 'AES256'")
        if self.bucket_key_enabled:
            raise InvalidArgument(
                "BucketKeyEnabled=true: S3 bucket keys reduce calls to AWS KMS, and this server has no key "
                "management service (SSE-KMS); send BucketKeyEnabled=false or leave it out"
            )


def default_encryption(db: Connection, bucket: str) -> EncryptionRequest | None:
    """What the bucket seals new objects with when a write names no encryption; NoSuchBucket if there is none."""
    found = db.execute(_DEFAULT, {"bucket": bucket}).first()
    if found is None:
        raise NoSuchBucket(f"Bucket={bucket!r} does not exist", bucket=bucket)
    return SSE_S3 if found.encryption else None


class BucketEncryption:
    """Set, read and remove buckets' default encryption."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def configure(self, bucket: str, rule: EncryptionRule) -> None:
        """Seal the bucket's new objects by this rule when their writes name no encryption."""
        with self._lake.store.begin() as db:
            default_encryption(db, bucket)
            config = {"algorithm": rule.algorithm, "bucket_key_enabled": rule.bucket_key_enabled}
            db.execute(update(buckets).where(buckets.c.name == bucket).values(encryption=config))
        self._lake.bucket_changed(bucket)

    def configuration(self, bucket: str) -> EncryptionRule:
        """The bucket's rule; ServerSideEncryptionConfigurationNotFound if it has none."""
        with self._lake.store.read() as db:
            if default_encryption(db, bucket) is None:
                raise ServerSideEncryptionConfigurationNotFound(
                    f"The server side encryption configuration was not found: Bucket={bucket!r} has none"
                )
            return EncryptionRule()

    def remove(self, bucket: str) -> None:
        """Objects written later are stored as they come, unless their writes ask for encryption."""
        with self._lake.store.begin() as db:
            default_encryption(db, bucket)
            db.execute(update(buckets).where(buckets.c.name == bucket).values(encryption=None))
        self._lake.bucket_changed(bucket)


__all__ = ["BucketEncryption", "EncryptionRule", "ServerSideEncryptionConfigurationNotFound", "default_encryption"]
