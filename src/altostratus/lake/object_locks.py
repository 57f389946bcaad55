"""Object lock on the lake: a bucket's lock configuration, and each version's retention and legal hold."""

from __future__ import annotations

from sqlalchemy import Connection, true, update

from altostratus.lake import records, version_records
from altostratus.lake.errors import NoSuchKey, NoSuchVersion
from altostratus.lake.object_lock import (
    DefaultRetention,
    InvalidBucketState,
    LockConfiguration,
    NoSuchObjectLockConfiguration,
    ObjectLockNotEnabled,
    Retention,
    check_retention_change,
)
from altostratus.lake.objects import ObjectInfo
from altostratus.lake.service import LakeService
from altostratus.lake.tables import buckets, objects
from altostratus.lake.versions import Versioning, check_version_id


class ObjectLockConfigurationNotFound(NoSuchObjectLockConfiguration):
    """Object Lock configuration does not exist for this bucket."""

    code = "ObjectLockConfigurationNotFoundError"


class ObjectLocks:
    """Set and read object lock: per bucket (enabled, default retention) and per object version."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def configure(self, bucket: str, default: DefaultRetention | None) -> None:
        """Turn object lock on (a versioning-enabled bucket may have it added), with this default retention."""
        with self._lake.store.begin() as db:
            state = records.write_state(db, bucket)
            if state.lock is None and state.versioning != Versioning.ENABLED:
                raise InvalidBucketState(
                    f"Bucket={bucket!r}: versioning must be Enabled before object lock can be turned on"
                )
            config = LockConfiguration(default).to_json()
            db.execute(update(buckets).where(buckets.c.name == bucket).values(object_lock=config))

    def configuration(self, bucket: str) -> LockConfiguration:
        """The bucket's lock; ObjectLockConfigurationNotFound for a bucket without one."""
        with self._lake.store.read() as db:
            lock = records.write_state(db, bucket).lock
        if lock is None:
            raise ObjectLockConfigurationNotFound("Object Lock configuration does not exist for this bucket")
        return lock

    def set_retention(
        self, bucket: str, key: str, version_id: str | None, wanted: Retention | None, *, bypass_governance: bool
    ) -> None:
        """Give the version this retention (None: none), if object lock lets its current one change so."""
        with self._lake.store.begin() as db:
            info = self._version(db, bucket, key, version_id)
            check_retention_change(info.retention, wanted, bypass_governance, self._lake.clock.now())
            self._update(db, info, retention=wanted.to_json() if wanted else None)

    def retention(self, bucket: str, key: str, version_id: str | None) -> Retention:
        """The version's retention; NoSuchObjectLockConfiguration when it has none."""
        with self._lake.store.read() as db:
            info = self._version(db, bucket, key, version_id)
        if info.retention is None:
            raise NoSuchObjectLockConfiguration("The specified object does not have a ObjectLock configuration")
        return info.retention

    def set_legal_hold(self, bucket: str, key: str, version_id: str | None, on: bool) -> None:
        """Put the legal hold on the version, or take it off."""
        with self._lake.store.begin() as db:
            self._update(db, self._version(db, bucket, key, version_id), legal_hold=on)

    def legal_hold(self, bucket: str, key: str, version_id: str | None) -> bool:
        """Whether the version has a legal hold."""
        with self._lake.store.read() as db:
            return self._version(db, bucket, key, version_id).legal_hold

    def _version(self, db: Connection, bucket: str, key: str, version_id: str | None) -> ObjectInfo:
        if records.write_state(db, bucket).lock is None:
            raise ObjectLockNotEnabled("Bucket is missing Object Lock Configuration")
        if version_id is None:
            return records.get_object(db, bucket, key)
        found = version_records.get_version(db, bucket, key, check_version_id(version_id))
        if found is None:
            raise NoSuchVersion(f"VersionId={version_id!r} is not a version of Key={key!r}", bucket=bucket, key=key)
        if found.delete_marker:
            raise NoSuchKey(f"VersionId={version_id!r} of Key={key!r} is a delete marker", bucket=bucket, key=key)
        return found

    def _update(self, db: Connection, info: ObjectInfo, **values: object) -> None:
        version_records.lock_key(db, info.bucket, info.key)
        where = (
            objects.c.bucket == info.bucket,
            objects.c.key == info.key,
            objects.c.version_id == info.version_id,
            objects.c.delete_marker != true(),
        )
        db.execute(update(objects).where(*where).values(**values))


__all__ = ["ObjectLockConfigurationNotFound", "ObjectLocks"]
