"""The lake's tables: buckets, objects, and multipart uploads with their parts.

Migrations under storage/migrations create them; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table

from altostratus.storage.schema import UTCDateTime, binary_ordered_string, metadata

buckets = Table(
    "buckets",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("region", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("notification_config", JSON, nullable=False, default=dict),
)

objects = Table(
    "objects",
    metadata,
    Column("bucket", String(63), ForeignKey("buckets.name"), primary_key=True),
    Column("key", binary_ordered_string(1024), primary_key=True),
    Column("blob_key", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("user_metadata", JSON, nullable=False, default=dict),
    Column("checksums", JSON, nullable=False, default=dict),
    Column("last_modified", UTCDateTime, nullable=False),
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
)
