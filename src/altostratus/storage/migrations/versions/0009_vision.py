"""Vision: face collections, the faces indexed into them (metadata and embedding, never the image) and users.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime, binary_ordered_string

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vision_collections",
        sa.Column("collection_id", binary_ordered_string(255), primary_key=True),
        sa.Column("arn", sa.String(512), nullable=False),
        sa.Column("face_model_version", sa.String(32), nullable=False),
        sa.Column("generation", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "vision_faces",
        sa.Column("key", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("face_id", sa.String(36), nullable=False),
        sa.Column(
            "collection_id",
            binary_ordered_string(255),
            sa.ForeignKey("vision_collections.collection_id"),
            nullable=False,
        ),
        sa.Column("image_id", sa.String(36), nullable=False),
        sa.Column("external_image_id", sa.String(255), nullable=True),
        sa.Column("box_left", sa.Float, nullable=False),
        sa.Column("box_top", sa.Float, nullable=False),
        sa.Column("box_width", sa.Float, nullable=False),
        sa.Column("box_height", sa.Float, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("user_id", sa.String(128), nullable=True),
        sa.Column("indexed_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_vision_faces_face_id", "vision_faces", ["face_id"], unique=True)
    op.create_index("ix_vision_faces_collection_key", "vision_faces", ["collection_id", "key"])
    op.create_index("ix_vision_faces_collection_user", "vision_faces", ["collection_id", "user_id"])
    op.create_table(
        "vision_users",
        sa.Column(
            "collection_id",
            binary_ordered_string(255),
            sa.ForeignKey("vision_collections.collection_id"),
            primary_key=True,
        ),
        sa.Column("user_id", binary_ordered_string(128), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("client_token", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vision_users")
    op.drop_index("ix_vision_faces_collection_user", "vision_faces")
    op.drop_index("ix_vision_faces_collection_key", "vision_faces")
    op.drop_index("ix_vision_faces_face_id", "vision_faces")
    op.drop_table("vision_faces")
    op.drop_table("vision_collections")
