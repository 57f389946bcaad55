"""Bots: bot definitions, locale builds and conversation sessions.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bots_bots",
        sa.Column("bot_id", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "bots_builds",
        sa.Column("bot_id", sa.String(10), primary_key=True),
        sa.Column("locale_id", sa.String(16), primary_key=True),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
        sa.Column("faults", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("model_key", sa.String(512), nullable=True),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "bots_sessions",
        sa.Column("bot_id", sa.String(10), primary_key=True),
        sa.Column("alias_id", sa.String(10), primary_key=True),
        sa.Column("locale_id", sa.String(16), primary_key=True),
        sa.Column("session_id", sa.String(100), primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_bots_sessions_expires", "bots_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_bots_sessions_expires", "bots_sessions")
    op.drop_table("bots_sessions")
    op.drop_table("bots_builds")
    op.drop_table("bots_bots")
