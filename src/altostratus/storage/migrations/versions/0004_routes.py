"""Routes: HTTP routes under /api/ to functions, and the API keys that call them.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routes",
        sa.Column("method", sa.String(8), primary_key=True),
        sa.Column("shape", sa.String(1024), primary_key=True),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("function_name", sa.String(64), nullable=False),
        sa.Column("qualifier", sa.String(128), nullable=True),
        sa.Column("public", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "route_api_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("value_sha256", sa.String(64), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("rate_per_second", sa.Float, nullable=True),
        sa.Column("burst", sa.Integer, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_route_api_keys_value_sha256", "route_api_keys", ["value_sha256"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_route_api_keys_value_sha256", table_name="route_api_keys")
    op.drop_table("route_api_keys")
    op.drop_table("routes")
