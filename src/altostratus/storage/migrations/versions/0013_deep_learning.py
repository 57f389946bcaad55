"""Deep learning: experiments, and Custom Labels' projects, datasets and project versions.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dl_experiments",
        sa.Column("experiment_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_dl_experiments_created", "dl_experiments", ["created_at", "experiment_id"])
    op.create_table(
        "dl_projects",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("arn", sa.String(2048), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "dl_datasets",
        sa.Column("arn", sa.String(2048), primary_key=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("dataset_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_message", sa.Text, nullable=False),
        sa.Column("status_code", sa.String(64), nullable=False),
        sa.Column("entries_key", sa.String(1024), nullable=True),
        sa.Column("stats", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_dl_datasets_project", "dl_datasets", ["project", "dataset_type"])
    op.create_table(
        "dl_project_versions",
        sa.Column("arn", sa.String(2048), primary_key=True),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("version_name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_message", sa.Text, nullable=False),
        sa.Column("experiment_id", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_dl_project_versions_project", "dl_project_versions", ["project", "created_at"])


def downgrade() -> None:
    op.drop_table("dl_project_versions")
    op.drop_table("dl_datasets")
    op.drop_table("dl_projects")
    op.drop_table("dl_experiments")
