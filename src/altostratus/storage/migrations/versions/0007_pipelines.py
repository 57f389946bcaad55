"""Pipelines: pipeline files, their runs, each run's steps (state, attempts, lineage) and logs.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipelines",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("bucket", sa.String(63), nullable=False),
        sa.Column("prefix", sa.String(1024), nullable=False),
        sa.Column("on_new_data", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("pipeline", sa.String(63), nullable=False),
        sa.Column("document", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_pipeline_runs_pipeline_created", "pipeline_runs", ["pipeline", "created_at"])
    op.create_table(
        "pipeline_steps",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("pipeline_runs.run_id"), primary_key=True),
        sa.Column("step", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lineage", sa.JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
    )
    op.create_table(
        "pipeline_logs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_pipeline_logs_run", "pipeline_logs", ["run_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_pipeline_logs_run", "pipeline_logs")
    op.drop_table("pipeline_logs")
    op.drop_table("pipeline_steps")
    op.drop_index("ix_pipeline_runs_pipeline_created", "pipeline_runs")
    op.drop_table("pipeline_runs")
    op.drop_table("pipelines")
