"""Function sandboxes: each version's ephemeral storage and network (VpcConfig), each function's access policy.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("function_versions") as table:
        table.add_column(sa.Column("ephemeral_storage", sa.Integer, nullable=False, server_default="512"))
        table.add_column(sa.Column("vpc_config", sa.JSON, nullable=False, server_default="{}"))
    with op.batch_alter_table("functions") as table:
        table.add_column(sa.Column("access_policy", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("functions") as table:
        table.drop_column("access_policy")
    with op.batch_alter_table("function_versions") as table:
        table.drop_column("vpc_config")
        table.drop_column("ephemeral_storage")
