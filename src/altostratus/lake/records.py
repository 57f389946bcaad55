"""Reading and writing the lake's rows in the metadata store."""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, delete, insert, select, true, update
from sqlalchemy.exc import IntegrityError

from altostratus.core.errors import PreconditionFailed
from altostratus.lake.acl import grants_from_json, grants_to_json
from altostratus.lake.encryption import Envelope
from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.lake.notifications import rules_from_json
from altostratus.lake.object_lock import LockConfiguration, Retention
from altostratus.lake.objects import Bucket, NotificationRule, ObjectInfo, ObjectMeta, PartSummary, WriteCondition
from altostratus.lake.tables import BODY_OF_VERSION, buckets, object_bodies, objects

# The statements on every request's path are built once: building one costs more than running it on
# SQLite (about 150 us against 60 here); their values come as bound parameters.
_BUCKET = select(buckets.c.name, buckets.c.region, buckets.c.created_at).where(buckets.c.name == bindparam("bucket"))
_RULES = select(buckets.c.notification_config, buckets.c.versioning, buckets.c.object_lock).where(
    buckets.c.name == bindparam("bucket")
)
# A key's latest version (what a request without a version id reads and replaces).
_OBJECT_WHERE = (
    objects.c.bucket == bindparam("bucket"),
    objects.c.key == bindparam("key"),
    objects.c.is_latest == true(),
)
_OBJECT = select(objects).where(*_OBJECT_WHERE)
# With a small object's bytes (lake/bodies.py) in the same statement: a GET's one query.
_OBJECT_AND_BODY = (
    select(objects, object_bodies.c.data.label("inline_body"))
    .select_from(objects.outerjoin(object_bodies, BODY_OF_VERSION))
    .where(*_OBJECT_WHERE)
)
_BLOB_KEY = select(objects.c.blob_key).where(*_OBJECT_WHERE)
_ETAG = select(objects.c.etag, objects.c.delete_marker).where(*_OBJECT_WHERE)
_INSERT_OBJECT = insert(objects)
_DELETE_OBJECT = delete(objects).where(*_OBJECT_WHERE)
# The latest version replaced in place: the columns set are the parameters' (all of row_values but the key's).
_REPLACE_LATEST = update(objects).where(
    objects.c.bucket == bindparam("where_bucket"),
    objects.c.key == bindparam("where_key"),
    objects.c.is_latest == true(),
)


_last_sequence = 0
_sequence_lock = threading.Lock()


def next_sequence() -> int:
    """A number above every earlier one this process handed out (nanoseconds since the epoch, made strictly
    increasing): it orders a key's versions, newest highest."""
    global _last_sequence
    with _sequence_lock:
        _last_sequence = max(time.time_ns(), _last_sequence + 1)
        return _last_sequence


@dataclasses.dataclass(frozen=True)
class WriteState:
    """The parts of a bucket's configuration every write to it obeys."""

    rules: list[NotificationRule]
    versioning: str
    lock: LockConfiguration | None


def get_bucket(db: Connection, name: str) -> Bucket:
    """The bucket's row; NoSuchBucket when there is none."""
    found = db.execute(_BUCKET, {"bucket": name}).first()
    if found is None:
        raise NoSuchBucket(f"Bucket={name!r} does not exist", bucket=name)
    return Bucket(found.name, found.region, found.created_at)


def notification_rules(db: Connection, bucket: str) -> list[NotificationRule]:
    """The bucket's notification rules; NoSuchBucket when there is no such bucket."""
    return write_state(db, bucket).rules


def write_state(db: Connection, bucket: str) -> WriteState:
    """What a write to the bucket needs, in one query: its notification rules, versioning and object lock."""
    found = db.execute(_RULES, {"bucket": bucket}).first()
    if found is None:
        raise NoSuchBucket(f"Bucket={bucket!r} does not exist", bucket=bucket)
    return WriteState(
        rules_from_json(found.notification_config), found.versioning, LockConfiguration.from_json(found.object_lock)
    )


def get_object(db: Connection, bucket: str, key: str, *, with_body: bool = False) -> ObjectInfo:
    """The object's row; NoSuchBucket or NoSuchKey when absent. with_body: a small object's bytes too, read in
    the same statement (ObjectInfo.body; None for an object kept in a blob)."""
    row = db.execute(_OBJECT_AND_BODY if with_body else _OBJECT, {"bucket": bucket, "key": key}).first()
    if row is None:
        get_bucket(db, bucket)
        raise NoSuchKey(f"Key={key!r} does not exist in Bucket={bucket!r}", bucket=bucket, key=key)
    if row.delete_marker:
        marker = {"x-amz-delete-marker": "true", "x-amz-version-id": row.version_id}
        raise NoSuchKey(
            f"Key={key!r} in Bucket={bucket!r} is deleted: its latest version is a delete marker",
            bucket=bucket,
            key=key,
            response_headers=marker,
        )
    found = to_object(row._mapping)
    if with_body and not found.blob_key and row.inline_body is not None:
        return dataclasses.replace(found, body=bytes(row.inline_body))
    return found


def put_object_row(db: Connection, info: ObjectInfo, condition: WriteCondition | None) -> str | None:
    """Store info as the object's row if the condition holds; returns the blob key of the object it replaced.

    If-None-Match inserts, never updates: on PostgreSQL (read committed) a key another writer created after
    the check would otherwise be overwritten; the insert fails on the primary key instead (IntegrityError).
    If-Match reads the current row FOR UPDATE, so a racing writer waits and then sees the new ETag.
    """
    if condition is None:
        return upsert_object(db, info)
    check_write_condition(db, info.bucket, info.key, condition)
    if condition.if_none_match:
        db.execute(_INSERT_OBJECT, row_values(info))
        return None
    return upsert_object(db, info)


def check_write_condition(db: Connection, bucket: str, key: str, condition: WriteCondition) -> None:
    """PreconditionFailed (or NoSuchKey for If-Match on an absent key) unless the key's current object allows it."""
    query = _ETAG.with_for_update() if db.dialect.name == "postgresql" else _ETAG
    found = db.execute(query, {"bucket": bucket, "key": key}).first()
    current = None if found is None or found.delete_marker else found.etag  # a delete marker hides the key
    if condition.if_none_match and current is not None:
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold: If-None-Match")
    if condition.if_match is not None:
        if current is None:
            raise NoSuchKey(f"Key={key!r} does not exist in Bucket={bucket!r}", bucket=bucket, key=key)
        wanted = condition.if_match.strip()
        if wanted != "*" and wanted.strip('"') != current.strip('"'):
            raise PreconditionFailed("At least one of the pre-conditions you specified did not hold: If-Match")


def upsert_object(db: Connection, info: ObjectInfo) -> str | None:
    """Store info as the object's row; returns the blob key of the object it replaced, if any."""
    query = _BLOB_KEY.with_for_update() if db.dialect.name == "postgresql" else _BLOB_KEY
    where = {"bucket": info.bucket, "key": info.key}
    old = db.execute(query, where).scalar()
    values = row_values(info)
    if old is None:
        if db.dialect.name != "postgresql":
            db.execute(_INSERT_OBJECT, values)  # SQLite: the transaction holds the write lock since BEGIN
            return None
        try:
            # On PostgreSQL another writer may create the key after the read above: the insert then fails
            # alone (a savepoint), and this write replaces that object, as the later of two PUTs does.
            with db.begin_nested():
                db.execute(_INSERT_OBJECT, values)
            return None
        except IntegrityError:
            old = db.execute(query, where).scalar()
    del values["bucket"], values["key"]
    db.execute(_REPLACE_LATEST, {**values, "where_bucket": info.bucket, "where_key": info.key})
    return old


def delete_object_row(db: Connection, bucket: str, key: str) -> str | None:
    """Remove the object's row; returns its blob key, or None if there was no such object."""
    where = {"bucket": bucket, "key": key}
    old = db.execute(_BLOB_KEY, where).scalar()
    if old is not None:
        db.execute(_DELETE_OBJECT, where)
    return old


def to_object(m: RowMapping) -> ObjectInfo:
    """An ObjectInfo from a row of the objects table."""
    return ObjectInfo(
        bucket=m["bucket"],
        key=m["key"],
        size=m["size"],
        etag=m["etag"],
        last_modified=m["last_modified"],
        meta=ObjectMeta(m["content_type"], dict(m["headers"]), dict(m["user_metadata"])),
        checksums=dict(m["checksums"]),
        blob_key=m["blob_key"],
        version_id=m["version_id"],
        tags=dict(m["tags"]),
        parts=tuple(PartSummary(p["size"], dict(p.get("checksums", {}))) for p in m["parts"] or ()),
        delete_marker=m["delete_marker"],
        retention=Retention.from_json(m["retention"]),
        legal_hold=m["legal_hold"],
        owner=m["owner"],
        acl=grants_from_json(m["acl"]),
        encryption=Envelope.from_json(m["encryption"]),
        upload_id=m["upload_id"],
    )


def row_values(info: ObjectInfo) -> dict[str, Any]:
    """The objects-table row for info, as its latest version."""
    return {
        "bucket": info.bucket,
        "key": info.key,
        "blob_key": info.blob_key,
        "size": info.size,
        "etag": info.etag,
        "content_type": info.meta.content_type,
        "headers": dict(info.meta.headers),
        "user_metadata": dict(info.meta.user_metadata),
        "checksums": dict(info.checksums),
        "last_modified": info.last_modified,
        "version_id": info.version_id,
        "sequence": next_sequence(),
        "is_latest": True,
        "delete_marker": info.delete_marker,
        "tags": dict(info.tags),
        "parts": [{"size": p.size, "checksums": dict(p.checksums)} for p in info.parts] or None,
        "retention": info.retention.to_json() if info.retention else None,
        "legal_hold": info.legal_hold,
        "owner": info.owner,
        "acl": grants_to_json(info.acl),
        "encryption": info.encryption.to_json() if info.encryption else None,
        "upload_id": info.upload_id,
    }
