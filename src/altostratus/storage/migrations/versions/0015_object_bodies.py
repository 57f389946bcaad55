"""Small objects' bytes in the metadata store: the table object_bodies, one row per small object version.

A downgrade would lose those bytes, so it refuses while any are stored.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import binary_ordered_string

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_bodies",
        sa.Column("bucket", sa.String(63), primary_key=True),
        sa.Column("key", binary_ordered_string(1024), primary_key=True),
        sa.Column("version_id", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.ForeignKeyConstraint(
            ["bucket", "key", "version_id"],
            ["objects.bucket", "objects.key", "objects.version_id"],
            name="fk_object_bodies_object",
            ondelete="CASCADE",
            onupdate="CASCADE",
        ),
    )


def downgrade() -> None:
    stored = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM object_bodies")).scalar()
    if stored:
        raise RuntimeError(
            f"{stored} small objects keep their bytes in object_bodies, which this downgrade would drop: "
            "copy them out of the lake (or delete them) first"
        )
    op.drop_table("object_bodies")
