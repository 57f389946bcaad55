"""Foundation: access keys, buckets, objects, multipart uploads and parts, jobs.

Revision ID: 0001
Revises:
"""

from alembic import op

from altostratus.storage import schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = [schema.access_keys, schema.buckets, schema.objects, schema.uploads, schema.parts, schema.jobs]


def upgrade() -> None:
    bind = op.get_bind()
    for table in TABLES:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(TABLES):
        table.drop(bind)
