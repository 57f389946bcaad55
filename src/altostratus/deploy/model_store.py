"""The model store: registered artifacts kept in a lake bucket, checked by SHA-256 when written and when read.

The bucket is an ordinary lake bucket (`alto-model-store` unless told otherwise), created on first use,
so its objects can be browsed and fetched with any S3 client. Anyone who may write to the lake can also
overwrite an artifact there; the checksum the registry recorded is what makes that harmless: an artifact
whose bytes no longer hash to it is refused, never loaded.

The bucket has object lock (versioning on for good), and a production artifact carries a legal hold: while a
version serves production, its bytes cannot be deleted through any S3 client, however privileged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Iterable

from altostratus.core.caller import Caller
from altostratus.deploy.errors import InvalidValue
from altostratus.lake.errors import BucketAlreadyOwnedByYou, NoSuchBucket, NoSuchKey
from altostratus.lake.object_locks import ObjectLockConfigurationNotFound, ObjectLocks
from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.lake.versions import Versioning

MODEL_STORE_BUCKET = "alto-model-store"


def artifact_key(group: str, version: int) -> str:
    """Where the registry keeps a version's artifact in the model store."""
    return f"{group}/{version}/artifact"


class ArtifactRefused(InvalidValue):
    """A stored artifact is missing or does not hash to the checksum recorded when it was registered."""


@dataclasses.dataclass(frozen=True)
class StoredArtifact:
    """An artifact written to the model store: where, its SHA-256 (hex), its size and its ETag."""

    key: str
    sha256: str
    size: int
    etag: str


class ModelStore:
    """Artifacts under keys of one lake bucket."""

    def __init__(self, lake: LakeService, locks: ObjectLocks, bucket: str = MODEL_STORE_BUCKET) -> None:
        self._lake = lake
        self._locks = locks
        self.bucket = bucket

    def location(self, key: str) -> str:
        """The artifact's s3:// URL in the lake."""
        return f"s3://{self.bucket}/{key}"

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        caller: Caller,
        *,
        content_type: str = "application/octet-stream",
        expected_sha256: str | None = None,
    ) -> StoredArtifact:
        """Copy the bytes to `key`, then read the copy back and check it hashes to what was sent.

        With `expected_sha256`, the bytes sent must hash to it too (the copy is refused otherwise).
        """
        self._ensure_bucket()
        digest = hashlib.sha256()
        writer = self._lake.object_writer(self.bucket, key, ObjectMeta(content_type))
        with writer:
            for chunk in chunks:
                digest.update(chunk)
                writer.write(chunk)
            sha256 = digest.hexdigest()
            if expected_sha256 is not None and sha256 != expected_sha256:
                raise ArtifactRefused(
                    f"the artifact copied to {self.location(key)} hashes to {sha256}, not {expected_sha256}: refused"
                )
            info = writer.commit(caller)
        self.read(key, sha256)
        return StoredArtifact(key, sha256, info.size, info.etag)

    def read(self, key: str, sha256: str) -> bytes:
        """The artifact's bytes; ArtifactRefused if it is gone or does not hash to `sha256`."""
        try:
            info = self._lake.head(self.bucket, key)
        except (NoSuchBucket, NoSuchKey):
            raise ArtifactRefused(f"the artifact {self.location(key)} is missing from the model store") from None
        data = b"".join(self._lake.read(info))
        found = hashlib.sha256(data).hexdigest()
        if found != sha256:
            raise ArtifactRefused(
                f"the artifact {self.location(key)} hashes to {found}; the registry recorded {sha256}: refused"
            )
        return data

    def delete(self, key: str, caller: Caller) -> None:
        """Remove every version of the artifact (nothing happens if it is gone already); ObjectLocked while a
        version is held."""
        with contextlib.suppress(NoSuchBucket):
            while True:
                page = self._lake.list_versions(self.bucket, prefix=key)
                mine = [info for info, _ in page.versions if info.key == key]
                if not mine:
                    return
                for info in mine:
                    self._lake.delete_object(self.bucket, key, caller, version_id=info.version_id)

    def serve(self, production_key: str | None, group: str, retired: int | None) -> None:
        """Hold the artifact that now serves production (legal hold on its current version), and release the one
        of the group's version `retired`, which no longer does."""
        if retired is not None:
            self._hold(artifact_key(group, retired), False)
        if production_key is not None:
            self._hold(production_key, True)

    def _hold(self, key: str, on: bool) -> None:
        with contextlib.suppress(NoSuchBucket, NoSuchKey):
            self._locks.set_legal_hold(self.bucket, key, None, on)

    def _ensure_bucket(self) -> None:
        """The bucket, made with object lock; one from before object lock gets versioning and the lock now."""
        try:
            self._lake.create_bucket(self.bucket, object_lock=True)
            return
        except BucketAlreadyOwnedByYou:
            pass
        if not self._has_lock():
            self._lake.set_versioning(self.bucket, Versioning.ENABLED)
            self._locks.configure(self.bucket, None)

    def _has_lock(self) -> bool:
        try:
            self._locks.configuration(self.bucket)
        except ObjectLockConfigurationNotFound:
            return False
        return True
