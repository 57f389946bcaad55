"""Endpoints: hosted models, endpoint configs and their variants, endpoints, experiment statistics, canaries.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hosted_models",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("package_arn", sa.String(256), nullable=False),
        sa.Column("containers", sa.JSON, nullable=False),
        sa.Column("primary_container", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "endpoint_configs",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "endpoint_config_variants",
        sa.Column("config_name", sa.String(63), sa.ForeignKey("endpoint_configs.name"), primary_key=True),
        sa.Column("variant_name", sa.String(63), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("model_name", sa.String(63), sa.ForeignKey("hosted_models.name"), nullable=False),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("instance_count", sa.Integer, nullable=False),
        sa.Column("instance_type", sa.String(64), nullable=True),
    )
    op.create_index("ix_endpoint_config_variants_model", "endpoint_config_variants", ["model_name"])
    op.create_table(
        "endpoints",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("arn", sa.String(256), nullable=False),
        sa.Column("config_name", sa.String(63), nullable=False),
        sa.Column("pending_config", sa.String(63), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "endpoint_variants",
        sa.Column("endpoint_name", sa.String(63), sa.ForeignKey("endpoints.name"), primary_key=True),
        sa.Column("variant_name", sa.String(63), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("model_name", sa.String(63), sa.ForeignKey("hosted_models.name"), nullable=False),
        sa.Column("package_arn", sa.String(256), nullable=False),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("current_weight", sa.Float, nullable=False),
        sa.Column("desired_weight", sa.Float, nullable=False),
        sa.Column("instance_count", sa.Integer, nullable=False),
        sa.Column("instance_type", sa.String(64), nullable=True),
    )
    op.create_index("ix_endpoint_variants_model", "endpoint_variants", ["model_name"])
    op.create_table(
        "endpoint_stats",
        sa.Column("endpoint_name", sa.String(63), primary_key=True),
        sa.Column("variant_name", sa.String(63), primary_key=True),
        sa.Column("minute", UTCDateTime, primary_key=True),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("latency_ms_total", sa.Float, nullable=False),
        sa.Column("parts", sa.JSON, nullable=False),
    )
    op.create_table(
        "endpoint_inferences",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_name", sa.String(63), nullable=False),
        sa.Column("inference_id", sa.String(80), nullable=False),
        sa.Column("variant_name", sa.String(63), nullable=False),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("label", sa.String(256), nullable=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("error", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_endpoint_inferences_endpoint_inference", "endpoint_inferences", ["endpoint_name", "inference_id"]
    )
    op.create_table(
        "endpoint_outcomes",
        sa.Column("endpoint_name", sa.String(63), primary_key=True),
        sa.Column("inference_id", sa.String(80), primary_key=True),
        sa.Column("label", sa.String(256), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("source", sa.String(1100), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "endpoint_outcome_files",
        sa.Column("bucket", sa.String(63), primary_key=True),
        sa.Column("key", sa.String(1024), primary_key=True),
        sa.Column("etag", sa.String(80), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("problem", sa.Text, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "endpoint_canaries",
        sa.Column("endpoint_name", sa.String(63), primary_key=True),
        sa.Column("rules", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("steps", sa.Integer, nullable=False),
        sa.Column("step_started_at", UTCDateTime, nullable=False),
        sa.Column("baseline_requests", sa.BigInteger, nullable=False),
        sa.Column("baseline_errors", sa.BigInteger, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "endpoint_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("endpoint_name", sa.String(63), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=True),
    )
    op.create_index("ix_endpoint_audit_endpoint_at", "endpoint_audit", ["endpoint_name", "at"])


def downgrade() -> None:
    op.drop_index("ix_endpoint_audit_endpoint_at", table_name="endpoint_audit")
    op.drop_table("endpoint_audit")
    op.drop_table("endpoint_canaries")
    op.drop_table("endpoint_outcome_files")
    op.drop_table("endpoint_outcomes")
    op.drop_index("ix_endpoint_inferences_endpoint_inference", table_name="endpoint_inferences")
    op.drop_table("endpoint_inferences")
    op.drop_table("endpoint_stats")
    op.drop_index("ix_endpoint_variants_model", table_name="endpoint_variants")
    op.drop_table("endpoint_variants")
    op.drop_table("endpoints")
    op.drop_index("ix_endpoint_config_variants_model", table_name="endpoint_config_variants")
    op.drop_table("endpoint_config_variants")
    op.drop_table("endpoint_configs")
    op.drop_table("hosted_models")
