"""The lake's depth: users, object versions, and the state of tags, ACLs, policies, locks, lifecycle and more.

`objects` is rebuilt with version_id in its primary key (every existing object becomes its key's latest "null"
version); the other tables gain columns.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime, binary_ordered_string

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_OLD_OBJECT_COLUMNS = (
    "bucket, key, blob_key, size, etag, content_type, headers, user_metadata, checksums, last_modified"
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_name", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(32), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    with op.batch_alter_table("access_keys") as batch:
        batch.add_column(sa.Column("user_name", sa.String(64), nullable=True))
        batch.create_foreign_key("fk_access_keys_user", "users", ["user_name"], ["user_name"])
    with op.batch_alter_table("buckets") as batch:
        batch.add_column(sa.Column("owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("versioning", sa.String(16), nullable=False, server_default=""))
        for name in ("object_lock", "tags", "acl"):
            batch.add_column(sa.Column(name, sa.JSON, nullable=True))
        batch.add_column(sa.Column("policy", sa.Text, nullable=True))
        batch.add_column(sa.Column("public_access_block", sa.JSON, nullable=True))
        batch.add_column(sa.Column("ownership", sa.String(32), nullable=True))
        for name in ("cors", "lifecycle", "encryption"):
            batch.add_column(sa.Column(name, sa.JSON, nullable=True))
    with op.batch_alter_table("buckets") as batch:
        batch.alter_column("versioning", server_default=None)
    _rebuild_objects()
    with op.batch_alter_table("uploads") as batch:
        batch.add_column(sa.Column("tags", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("checksum_algorithm", sa.String(16), nullable=True))
        batch.add_column(sa.Column("checksum_type", sa.String(16), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(64), nullable=True))
        batch.add_column(sa.Column("acl", sa.JSON, nullable=True))
        batch.add_column(sa.Column("encryption", sa.JSON, nullable=True))
    with op.batch_alter_table("uploads") as batch:
        batch.alter_column("tags", server_default=None)
    with op.batch_alter_table("parts") as batch:
        batch.add_column(sa.Column("checksums", sa.JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("parts") as batch:
        batch.alter_column("checksums", server_default=None)


def _rebuild_objects() -> None:
    op.create_table(
        "objects_versioned",
        sa.Column("bucket", sa.String(63), sa.ForeignKey("buckets.name"), primary_key=True),
        sa.Column("key", binary_ordered_string(1024), primary_key=True),
        sa.Column("version_id", sa.String(64), primary_key=True),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("is_latest", sa.Boolean, nullable=False),
        sa.Column("delete_marker", sa.Boolean, nullable=False),
        sa.Column("blob_key", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("user_metadata", sa.JSON, nullable=False),
        sa.Column("checksums", sa.JSON, nullable=False),
        sa.Column("last_modified", UTCDateTime, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("parts", sa.JSON, nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("acl", sa.JSON, nullable=True),
        sa.Column("retention", sa.JSON, nullable=True),
        sa.Column("legal_hold", sa.Boolean, nullable=False),
        sa.Column("encryption", sa.JSON, nullable=True),
        sa.Column("upload_id", sa.String(128), nullable=True),
    )
    op.execute(
        f"INSERT INTO objects_versioned ({_OLD_OBJECT_COLUMNS}, version_id, sequence, is_latest, delete_marker, "
        f"tags, legal_hold) SELECT {_OLD_OBJECT_COLUMNS}, 'null', 0, TRUE, FALSE, '{{}}', FALSE FROM objects"
    )
    op.drop_table("objects")
    op.rename_table("objects_versioned", "objects")
    op.create_index(
        "ix_objects_latest",
        "objects",
        ["bucket", "key"],
        unique=True,
        sqlite_where=sa.text("is_latest = 1"),
        postgresql_where=sa.text("is_latest = true"),
    )


def downgrade() -> None:
    """Back to one object per key: the latest versions stay, older versions and delete markers go."""
    op.create_table(
        "objects_unversioned",
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
    op.execute(
        f"INSERT INTO objects_unversioned ({_OLD_OBJECT_COLUMNS}) SELECT {_OLD_OBJECT_COLUMNS} FROM objects "
        "WHERE is_latest AND NOT delete_marker"
    )
    op.drop_index("ix_objects_latest", "objects")
    op.drop_table("objects")
    op.rename_table("objects_unversioned", "objects")
    with op.batch_alter_table("parts") as batch:
        batch.drop_column("checksums")
    with op.batch_alter_table("uploads") as batch:
        for name in ("encryption", "acl", "owner", "checksum_type", "checksum_algorithm", "tags"):
            batch.drop_column(name)
    with op.batch_alter_table("buckets") as batch:
        for name in (
            "encryption",
            "lifecycle",
            "cors",
            "ownership",
            "public_access_block",
            "policy",
            "acl",
            "tags",
            "object_lock",
            "versioning",
            "owner",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("access_keys") as batch:
        batch.drop_constraint("fk_access_keys_user", type_="foreignkey")
        batch.drop_column("user_name")
    op.drop_table("users")
