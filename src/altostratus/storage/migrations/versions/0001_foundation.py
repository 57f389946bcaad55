"""Foundation: access keys, buckets, objects, multipart uploads and parts, jobs.

The tables are spelled out here rather than taken from schema.py, so that later edits to the schema
never change what this migration did; only the column types are shared.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime, binary_ordered_string

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_keys",
        sa.Column("access_key_id", sa.String(128), primary_key=True),
        sa.Column("secret_access_key", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "buckets",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("region", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("notification_config", sa.JSON, nullable=False),
    )
    op.create_table(
        "objects",
        sa.Column("bucket", sa.String(63), sa.ForeignKey("buckets.name"), primary_key=True),
        sa.Column("key", binary_ordered_string(1024), primary_key=True),
        sa.Column("blob_key", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("user_metadata", sa.JSON, nullable=False),
        sa.Column("checksums", sa.JSON, nullable=False),
        sa.Column("last_modified", UTCDateTime, nullable=False),
    )
    op.create_table(
        "uploads",
        sa.Column("upload_id", sa.String(128), primary_key=True),
        sa.Column("bucket", sa.String(63), sa.ForeignKey("buckets.name"), nullable=False),
        sa.Column("key", binary_ordered_string(1024), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("user_metadata", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_uploads_bucket_key", "uploads", ["bucket", "key"])
    op.create_table(
        "parts",
        sa.Column("upload_id", sa.String(128), sa.ForeignKey("uploads.upload_id"), primary_key=True),
        sa.Column("part_number", sa.Integer, primary_key=True),
        sa.Column("blob_key", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("last_modified", UTCDateTime, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime, nullable=True),
        sa.Column("not_before", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_jobs_state_not_before", "jobs", ["state", "not_before"])
    op.create_index("ix_jobs_kind", "jobs", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_jobs_kind", "jobs")
    op.drop_index("ix_jobs_state_not_before", "jobs")
    op.drop_table("jobs")
    op.drop_table("parts")
    op.drop_index("ix_uploads_bucket_key", "uploads")
    op.drop_table("uploads")
    op.drop_table("objects")
    op.drop_table("buckets")
    op.drop_table("access_keys")
