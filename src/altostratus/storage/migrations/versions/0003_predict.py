"""Predict: datasources, models, evaluations, batch predictions and realtime endpoints.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from altostratus.storage.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _lifecycle() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=True),
        sa.Column("finished_at", UTCDateTime, nullable=True),
        sa.Column("compute_time_ms", sa.BigInteger, nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "predict_datasources",
        sa.Column("datasource_id", sa.String(64), primary_key=True),
        *_lifecycle(),
        sa.Column("data_location", sa.String(2048), nullable=False),
        sa.Column("data_rearrangement", sa.Text, nullable=True),
        sa.Column("data_schema", sa.Text, nullable=True),
        sa.Column("schema_given", sa.Boolean, nullable=False),
        sa.Column("read_options", sa.JSON, nullable=False),
        sa.Column("compute_statistics", sa.Boolean, nullable=False),
        sa.Column("statistics", sa.JSON, nullable=True),
        sa.Column("data_size_bytes", sa.BigInteger, nullable=True),
        sa.Column("number_of_files", sa.Integer, nullable=True),
        sa.Column("rows_read", sa.BigInteger, nullable=True),
        sa.Column("row_count", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_predict_datasources_created_at", "predict_datasources", ["created_at"])
    op.create_table(
        "predict_models",
        sa.Column("model_id", sa.String(64), primary_key=True),
        *_lifecycle(),
        sa.Column("model_type", sa.String(16), nullable=False),
        sa.Column(
            "training_datasource_id",
            sa.String(64),
            sa.ForeignKey("predict_datasources.datasource_id"),
            nullable=False,
        ),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("recipe", sa.Text, nullable=True),
        sa.Column("recipe_used", sa.Text, nullable=True),
        sa.Column("learner", sa.String(32), nullable=True),
        sa.Column("score_threshold", sa.Float, nullable=False),
        sa.Column("score_threshold_updated_at", UTCDateTime, nullable=True),
        sa.Column("artifact_key", sa.String(255), nullable=True),
        sa.Column("artifact_sha256", sa.String(64), nullable=True),
        sa.Column("size_bytes", sa.BigInteger, nullable=True),
        sa.Column("training_report", sa.JSON, nullable=True),
    )
    op.create_index("ix_predict_models_created_at", "predict_models", ["created_at"])
    op.create_table(
        "predict_evaluations",
        sa.Column("evaluation_id", sa.String(64), primary_key=True),
        *_lifecycle(),
        sa.Column("model_id", sa.String(64), sa.ForeignKey("predict_models.model_id"), nullable=False),
        sa.Column("datasource_id", sa.String(64), sa.ForeignKey("predict_datasources.datasource_id"), nullable=False),
        sa.Column("metrics", sa.JSON, nullable=True),
    )
    op.create_index("ix_predict_evaluations_created_at", "predict_evaluations", ["created_at"])
    op.create_table(
        "predict_batch_predictions",
        sa.Column("batch_prediction_id", sa.String(64), primary_key=True),
        *_lifecycle(),
        sa.Column("model_id", sa.String(64), sa.ForeignKey("predict_models.model_id"), nullable=False),
        sa.Column("datasource_id", sa.String(64), sa.ForeignKey("predict_datasources.datasource_id"), nullable=False),
        sa.Column("output_uri", sa.String(2048), nullable=False),
        sa.Column("output_location", sa.String(2048), nullable=True),
        sa.Column("total_records", sa.BigInteger, nullable=True),
        sa.Column("invalid_records", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_predict_batch_predictions_created_at", "predict_batch_predictions", ["created_at"])
    op.create_table(
        "predict_endpoints",
        sa.Column("model_id", sa.String(64), sa.ForeignKey("predict_models.model_id"), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("peak_requests_per_second", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("predict_endpoints")
    op.drop_index("ix_predict_batch_predictions_created_at", "predict_batch_predictions")
    op.drop_table("predict_batch_predictions")
    op.drop_index("ix_predict_evaluations_created_at", "predict_evaluations")
    op.drop_table("predict_evaluations")
    op.drop_index("ix_predict_models_created_at", "predict_models")
    op.drop_table("predict_models")
    op.drop_index("ix_predict_datasources_created_at", "predict_datasources")
    op.drop_table("predict_datasources")
