"""Reading and writing the lake's rows in the metadata store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.lake.model import Bucket, ObjectInfo, ObjectMeta
from altostratus.storage.schema import buckets, objects


def get_bucket(db: Connection, name: str) -> Bucket:
    """The bucket's row; NoSuchBucket when there is none."""
    row = db.execute(select(buckets.c.name, buckets.c.region, buckets.c.created_at).where(buckets.c.name == name))
    found = row.first()
    if found is None:
        raise NoSuchBucket(f"Bucket={name!r} does not exist", bucket=name)
    return Bucket(found.name, found.region, found.created_at)


def get_object(db: Connection, bucket: str, key: str) -> ObjectInfo:
    """The object's row; NoSuchBucket or NoSuchKey when absent."""
    row = db.execute(select(objects).where(objects.c.bucket == bucket, objects.c.key == key)).first()
    if row is None:
        get_bucket(db, bucket)
        raise NoSuchKey(f"Key={key!r} does not exist in Bucket={bucket!r}", bucket=bucket, key=key)
    return to_object(row._mapping)


def upsert_object(db: Connection, info: ObjectInfo) -> str | None:
    """Store info as the object's row; returns the blob key of the object it replaced, if any."""
    query = select(objects.c.blob_key).where(objects.c.bucket == info.bucket, objects.c.key == info.key)
    if db.dialect.name == "postgresql":
        query = query.with_for_update()
    old = db.execute(query).scalar()
    values = _row(info)
    if old is None:
        db.execute(insert(objects).values(**values))
    else:
        db.execute(update(objects).where(objects.c.bucket == info.bucket, objects.c.key == info.key).values(**values))
    return old


def delete_object_row(db: Connection, bucket: str, key: str) -> str | None:
    """Remove the object's row; returns its blob key, or None if there was no such object."""
    old = db.execute(select(objects.c.blob_key).where(objects.c.bucket == bucket, objects.c.key == key)).scalar()
    if old is not None:
        db.execute(delete(objects).where(objects.c.bucket == bucket, objects.c.key == key))
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
    )


def _row(info: ObjectInfo) -> dict[str, Any]:
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
    }
