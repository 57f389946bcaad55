"""Registry: model package groups, their numbered versions, and the append-only history of their stages.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_groups",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("policy", sa.JSON, nullable=True),
        sa.Column("prod_version", sa.Integer, nullable=True),
        sa.Column("next_version", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "registry_versions",
        sa.Column("group_name", sa.String(63), sa.ForeignKey("registry_groups.name"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("source_uri", sa.String(1024), nullable=False),
        sa.Column("source", sa.JSON, nullable=False),
        sa.Column("artifact_key", sa.String(1024), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_size", sa.BigInteger, nullable=False),
        sa.Column("training_data", sa.JSON, nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("model_metrics", sa.JSON, nullable=True),
        sa.Column("customer_metadata", sa.JSON, nullable=False),
        sa.Column("approval_description", sa.Text, nullable=False),
        sa.Column("gate_status", sa.String(16), nullable=False),
        sa.Column("gate_report", sa.JSON, nullable=True),
        sa.Column("promotion_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "registry_events",
        sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_name", sa.String(63), nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("from_stage", sa.String(16), nullable=True),
        sa.Column("to_stage", sa.String(16), nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=True),
    )
    op.create_index("ix_registry_events_group_at", "registry_events", ["group_name", "at"])


def downgrade() -> None:
    op.drop_index("ix_registry_events_group_at", table_name="registry_events")
    op.drop_table("registry_events")
    op.drop_table("registry_versions")
    op.drop_table("registry_groups")
