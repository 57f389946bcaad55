"""The lake's tables: buckets, object versions, and multipart uploads with their parts.

Migrations under storage/migrations create them; a change here needs a new migration there.

Every version of an object is a row of `objects`, keyed by (bucket, key, version_id); an unversioned bucket's
objects are its "null" versions. Exactly one row per key is the latest (a partial unique index keeps it so),
and a delete marker is a row with no bytes. `sequence` orders a key's versions, newest highest.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    and_,
    true,
)

from altostratus.lake.objects import NULL_VERSION
from altostratus.storage.schema import UTCDateTime, binary_ordered_string, metadata

buckets = Table(
    "buckets",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("region", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("notification_config", JSON, nullable=False, default=dict),
    # The user who created it (None: a bucket from before users, owned by the account's administrators).
    Column("owner", String(64), nullable=True),
    # "" (never versioned), "Enabled" or "Suspended".
    Column("versioning", String(16), nullable=False, default=""),
    Column("object_lock", JSON, nullable=True),
    Column("tags", JSON, nullable=True),
    Column("acl", JSON, nullable=True),
    Column("policy", Text, nullable=True),
    Column("public_access_block", JSON, nullable=True),
    Column("ownership", String(32), nullable=True),
    Column("cors", JSON, nullable=True),
    Column("lifecycle", JSON, nullable=True),
    Column("encryption", JSON, nullable=True),
)

objects = Table(
    "objects",
    metadata,
    Column("bucket", String(63), ForeignKey("buckets.name"), primary_key=True),
    Column("key", binary_ordered_string(1024), primary_key=True),
    Column("version_id", String(64), primary_key=True, default=NULL_VERSION),
    Column("sequence", BigInteger, nullable=False),
    Column("is_latest", Boolean, nullable=False, default=True),
    Column("delete_marker", Boolean, nullable=False, default=False),
    Column("blob_key", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("user_metadata", JSON, nullable=False, default=dict),
    Column("checksums", JSON, nullable=False, default=dict),
    Column("last_modified", UTCDateTime, nullable=False),
    Column("tags", JSON, nullable=False, default=dict),
    # A multipart object's parts: [{"size": n, "checksums": {...}}, ...]; None for an object written whole.
    Column("parts", JSON, nullable=True),
    Column("owner", String(64), nullable=True),
    Column("acl", JSON, nullable=True),
    Column("retention", JSON, nullable=True),
    Column("legal_hold", Boolean, nullable=False, default=False),
    Column("encryption", JSON, nullable=True),
    # The multipart upload that made this version (a repeated CompleteMultipartUpload answers with it).
    Column("upload_id", String(128), nullable=True),
)
# The latest version of each key: GET, HEAD and listings read through it.
Index(
    "ix_objects_latest",
    objects.c.bucket,
    objects.c.key,
    unique=True,
    sqlite_where=objects.c.is_latest == true(),
    postgresql_where=objects.c.is_latest == true(),
)

# The bytes of a small object version, kept beside its row (its blob_key is then ""): one transaction and one
# fsync store a small PUT whole, where a file costs a create, a rename and two fsyncs more. The row's removal takes
# them with it (ON DELETE CASCADE), whatever removes it.
object_bodies = Table(
    "object_bodies",
    metadata,
    Column("bucket", String(63), primary_key=True),
    Column("key", binary_ordered_string(1024), primary_key=True),
    Column("version_id", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    ForeignKeyConstraint(
        ["bucket", "key", "version_id"],
        ["objects.bucket", "objects.key", "objects.version_id"],
        name="fk_object_bodies_object",
        ondelete="CASCADE",
        onupdate="CASCADE",
    ),
)

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", String(128), primary_key=True),
    Column("bucket", String(63), ForeignKey("buckets.name"), nullable=False),
    Column("key", binary_ordered_string(1024), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("user_metadata", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("tags", JSON, nullable=False, default=dict),
    Column("checksum_algorithm", String(16), nullable=True),
    Column("checksum_type", String(16), nullable=True),
    Column("owner", String(64), nullable=True),
    Column("acl", JSON, nullable=True),
    Column("encryption", JSON, nullable=True),
    Index("ix_uploads_bucket_key", "bucket", "key"),
)

parts = Table(
    "parts",
    metadata,
    Column("upload_id", String(128), ForeignKey("uploads.upload_id"), primary_key=True),
    Column("part_number", Integer, primary_key=True),
    Column("blob_key", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("last_modified", UTCDateTime, nullable=False),
    Column("checksums", JSON, nullable=False, default=dict),
)

# An object version's row and its bytes beside it: the join both a GET's read and a stale reader's check use.
BODY_OF_VERSION = and_(
    object_bodies.c.bucket == objects.c.bucket,
    object_bodies.c.key == objects.c.key,
    object_bodies.c.version_id == objects.c.version_id,
)
