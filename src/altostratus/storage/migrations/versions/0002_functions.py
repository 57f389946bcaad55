"""Functions: functions, their versions and aliases, and the record of every invocation.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "functions",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("access_key_id", sa.String(128), nullable=False),
        sa.Column("last_version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "function_versions",
        sa.Column("function_name", sa.String(64), sa.ForeignKey("functions.name"), primary_key=True),
        sa.Column("version", sa.String(16), primary_key=True),
        sa.Column("runtime", sa.String(32), nullable=False),
        sa.Column("handler", sa.String(128), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False),
        sa.Column("code_size", sa.BigInteger, nullable=False),
        sa.Column("code_blob_key", sa.String(255), nullable=False),
        sa.Column("requirements_key", sa.String(64), nullable=False),
        sa.Column("timeout", sa.Integer, nullable=False),
        sa.Column("memory", sa.Integer, nullable=False),
        sa.Column("environment", sa.JSON, nullable=False),
        sa.Column("dead_letter_target", sa.Text, nullable=False),
        sa.Column("revision_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("state_reason", sa.Text, nullable=False),
        sa.Column("state_reason_code", sa.String(64), nullable=False),
        sa.Column("last_modified", UTCDateTime, nullable=False),
    )
    op.create_table(
        "function_aliases",
        sa.Column("function_name", sa.String(64), sa.ForeignKey("functions.name"), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("function_version", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("routing", sa.JSON, nullable=False),
        sa.Column("revision_id", sa.String(64), nullable=False),
    )
    op.create_table(
        "function_invocations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("function_name", sa.String(64), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("invocation_type", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("cold_start", sa.Boolean, nullable=False),
        sa.Column("memory_mb", sa.Integer, nullable=False),
        sa.Column("max_memory_mb", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_type", sa.String(128), nullable=True),
        sa.Column("log", sa.Text, nullable=False),
    )
    op.create_index("ix_function_invocations_function_started", "function_invocations", ["function_name", "started_at"])
    op.create_index("ix_function_invocations_request_id", "function_invocations", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_function_invocations_request_id", "function_invocations")
    op.drop_index("ix_function_invocations_function_started", "function_invocations")
    op.drop_table("function_invocations")
    op.drop_table("function_aliases")
    op.drop_table("function_versions")
    op.drop_table("functions")
