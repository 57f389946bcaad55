"""Writing and removing object versions in the metadata store, as the bucket's versioning state says.

Every function runs inside the caller's transaction; the blobs they return are no longer referenced once it
commits, and are the caller's to delete then.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import Connection, delete, false, insert, select, text, true, update
from sqlalchemy.exc import IntegrityError

from altostratus.core.clock import Clock
from altostratus.lake import records
from altostratus.lake.object_lock import check_removable
from altostratus.lake.objects import NULL_VERSION, ObjectInfo, ObjectMeta, WriteCondition
from altostratus.lake.tables import objects
from altostratus.lake.versions import Versioning, new_version_id

# How often a write retries after another writer made a different version the key's latest first (PostgreSQL:
# the unique index on latest rows refuses the second of two concurrent writes, which then demotes the winner).
_RACE_RETRIES = 5


@dataclasses.dataclass(frozen=True)
class Removal:
    """What a delete did: the version it removed or the delete marker it added, and the blobs now unused."""

    version_id: str | None  # None: an unversioned bucket's delete (S3 names no version)
    delete_marker: bool
    removed: ObjectInfo | None  # the version removed, if one was
    unused_blobs: list[str]


def write(
    db: Connection, info: ObjectInfo, versioning: Versioning, condition: WriteCondition | None
) -> tuple[ObjectInfo, list[str]]:
    """Make info the key's latest version; returns it (with its version id) and the blobs no longer used."""
    if versioning is Versioning.UNVERSIONED:
        old = records.put_object_row(db, info, condition)
        return info, [old] if old and old != info.blob_key else []  # "": its bytes went with the row (bodies.py)
    lock_key(db, info.bucket, info.key)
    if condition is not None:
        records.check_write_condition(db, info.bucket, info.key, condition)
    if versioning is Versioning.ENABLED:
        info = dataclasses.replace(info, version_id=new_version_id())
        _insert_latest(db, info)
        return info, []
    info = dataclasses.replace(info, version_id=NULL_VERSION)
    unused = _drop_null_version(db, info.bucket, info.key)
    _insert_latest(db, info)
    return info, unused


def remove(
    db: Connection,
    bucket: str,
    key: str,
    version_id: str | None,
    versioning: Versioning,
    clock: Clock,
    bypass_governance: bool = False,
) -> Removal:
    """Delete as S3 does: a version by id (ObjectLocked if object lock keeps it); else the object (unversioned)
    or a new delete marker (versioned)."""
    if versioning is Versioning.UNVERSIONED and version_id is None:
        current = _latest(db, bucket, key)
        old = records.delete_object_row(db, bucket, key)
        return Removal(None, False, current, [old] if old else [])
    lock_key(db, bucket, key)
    if version_id is not None:
        return _remove_version(db, bucket, key, version_id, bypass_governance, clock)
    unused = _drop_null_version(db, bucket, key) if versioning is Versioning.SUSPENDED else []
    marker = ObjectInfo(
        bucket=bucket,
        key=key,
        size=0,
        etag="",
        last_modified=clock.now(),
        meta=ObjectMeta(content_type=""),
        checksums={},
        blob_key="",
        version_id=new_version_id() if versioning is Versioning.ENABLED else NULL_VERSION,
        delete_marker=True,
    )
    _insert_latest(db, marker)
    return Removal(marker.version_id, True, None, unused)


def lock_key(db: Connection, bucket: str, key: str) -> None:
    """Hold the key until the transaction ends, so that changes to its versions happen one after another.

    SQLite has one writer at a time already. On PostgreSQL two transactions that each read which version is the
    latest and then change it would otherwise both act on what they read (read committed): a transaction-scoped
    advisory lock on the key's hash orders them.
    """
    if db.dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": f"{bucket}/{key}"})


def get_version(db: Connection, bucket: str, key: str, version_id: str) -> ObjectInfo | None:
    """The version with this id, delete markers included; None if the key has no such version."""
    row = db.execute(
        select(objects).where(objects.c.bucket == bucket, objects.c.key == key, objects.c.version_id == version_id)
    ).first()
    return None if row is None else records.to_object(row._mapping)


def _latest(db: Connection, bucket: str, key: str) -> ObjectInfo | None:
    row = db.execute(
        select(objects).where(objects.c.bucket == bucket, objects.c.key == key, objects.c.is_latest == true())
    ).first()
    return None if row is None else records.to_object(row._mapping)


def _insert_latest(db: Connection, info: ObjectInfo) -> None:
    values = records.row_values(info)
    for attempt in range(_RACE_RETRIES):
        _demote(db, info.bucket, info.key)
        try:
            with db.begin_nested():
                db.execute(insert(objects), values)
            return
        except IntegrityError:
            if attempt == _RACE_RETRIES - 1:
                raise


def _demote(db: Connection, bucket: str, key: str) -> None:
    db.execute(
        update(objects)
        .where(objects.c.bucket == bucket, objects.c.key == key, objects.c.is_latest == true())
        .values(is_latest=False)
    )


def _drop_null_version(db: Connection, bucket: str, key: str) -> list[str]:
    where = (objects.c.bucket == bucket, objects.c.key == key, objects.c.version_id == NULL_VERSION)
    blob = db.execute(select(objects.c.blob_key).where(*where)).scalar()
    if blob is None:
        return []
    db.execute(delete(objects).where(*where))
    return [blob] if blob else []


def _remove_version(
    db: Connection, bucket: str, key: str, version_id: str, bypass_governance: bool, clock: Clock
) -> Removal:
    found = get_version(db, bucket, key, version_id)
    if found is None:
        return Removal(version_id, False, None, [])
    check_removable(found.retention, found.legal_hold, bypass_governance, clock.now())
    where = (objects.c.bucket == bucket, objects.c.key == key, objects.c.version_id == version_id)
    was_latest = db.execute(select(objects.c.is_latest).where(*where)).scalar()
    db.execute(delete(objects).where(*where))
    if was_latest:
        _promote_newest(db, bucket, key)
    return Removal(version_id, found.delete_marker, found, [found.blob_key] if found.blob_key else [])


def _promote_newest(db: Connection, bucket: str, key: str) -> None:
    newest = db.execute(
        select(objects.c.version_id)
        .where(objects.c.bucket == bucket, objects.c.key == key, objects.c.is_latest == false())
        .order_by(objects.c.sequence.desc())
        .limit(1)
    ).scalar()
    if newest is not None:
        db.execute(
            update(objects)
            .where(objects.c.bucket == bucket, objects.c.key == key, objects.c.version_id == newest)
            .values(is_latest=True)
        )
