"""Speech: stored pronunciation lexicons and speech synthesis tasks.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speech_lexicons",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("alphabet", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("lexemes", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("modified_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "speech_tasks",
        sa.Column("task_id", sa.String(64), primary_key=True),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("output_uri", sa.String(2048), nullable=False),
        sa.Column("request_characters", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_speech_tasks_created", "speech_tasks", ["created_at", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_speech_tasks_created", "speech_tasks")
    op.drop_table("speech_tasks")
    op.drop_table("speech_lexicons")
