"""Bots: versions (frozen definitions with their trained models) and aliases.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bots_versions",
        sa.Column("bot_id", sa.String(10), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("models", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "bots_aliases",
        sa.Column("bot_id", sa.String(10), primary_key=True),
        sa.Column("alias_id", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.String(10), nullable=False),
        sa.Column("locales", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("bot_id", "name", name="uq_bots_aliases_name"),
    )


def downgrade() -> None:
    op.drop_table("bots_aliases")
    op.drop_table("bots_versions")
