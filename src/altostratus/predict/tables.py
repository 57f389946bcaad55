"""The predict service's tables: datasources, models, evaluations, batch predictions and realtime endpoints.

Migrations under storage/migrations create them; a change here needs a new migration there.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from altostratus.storage.schema import UTCDateTime, metadata


def _predict_lifecycle() -> list[Column[Any]]:
    """The columns every predict entity has: status and message, its job, and when things happened."""
    return [
        Column("name", Text, nullable=False, default=""),
        Column("status", String(16), nullable=False),
        Column("message", Text, nullable=False, default=""),
        Column("job_id", String(64), nullable=True),
        Column("created_at", UTCDateTime, nullable=False),
        Column("updated_at", UTCDateTime, nullable=False),
        Column("started_at", UTCDateTime, nullable=True),
        Column("finished_at", UTCDateTime, nullable=True),
        Column("compute_time_ms", BigInteger, nullable=True),
    ]


predict_datasources = Table(
    "predict_datasources",
    metadata,
    Column("datasource_id", String(64), primary_key=True),
    *_predict_lifecycle(),
    Column("data_location", String(2048), nullable=False),
    Column("data_rearrangement", Text, nullable=True),
    Column("data_schema", Text, nullable=True),
    Column("schema_given", Boolean, nullable=False),
    Column("read_options", JSON, nullable=False),
    Column("compute_statistics", Boolean, nullable=False),
    Column("statistics", JSON, nullable=True),
    Column("data_size_bytes", BigInteger, nullable=True),
    Column("number_of_files", Integer, nullable=True),
    Column("rows_read", BigInteger, nullable=True),
    Column("row_count", BigInteger, nullable=True),
    Index("ix_predict_datasources_created_at", "created_at"),
)

predict_models = Table(
    "predict_models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    *_predict_lifecycle(),
    Column("model_type", String(16), nullable=False),
    Column("training_datasource_id", String(64), ForeignKey("predict_datasources.datasource_id"), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("recipe", Text, nullable=True),
    Column("recipe_used", Text, nullable=True),
    Column("learner", String(32), nullable=True),
    Column("score_threshold", Float, nullable=False),
    Column("score_threshold_updated_at", UTCDateTime, nullable=True),
    Column("artifact_key", String(255), nullable=True),
    Column("artifact_sha256", String(64), nullable=True),
    Column("size_bytes", BigInteger, nullable=True),
    Column("training_report", JSON, nullable=True),
    Index("ix_predict_models_created_at", "created_at"),
)

predict_evaluations = Table(
    "predict_evaluations",
    metadata,
    Column("evaluation_id", String(64), primary_key=True),
    *_predict_lifecycle(),
    Column("model_id", String(64), ForeignKey("predict_models.model_id"), nullable=False),
    Column("datasource_id", String(64), ForeignKey("predict_datasources.datasource_id"), nullable=False),
    Column("metrics", JSON, nullable=True),
    Index("ix_predict_evaluations_created_at", "created_at"),
)

predict_batch_predictions = Table(
    "predict_batch_predictions",
    metadata,
    Column("batch_prediction_id", String(64), primary_key=True),
    *_predict_lifecycle(),
    Column("model_id", String(64), ForeignKey("predict_models.model_id"), nullable=False),
    Column("datasource_id", String(64), ForeignKey("predict_datasources.datasource_id"), nullable=False),
    Column("output_uri", String(2048), nullable=False),
    Column("output_location", String(2048), nullable=True),
    Column("total_records", BigInteger, nullable=True),
    Column("invalid_records", BigInteger, nullable=True),
    Index("ix_predict_batch_predictions_created_at", "created_at"),
)

predict_endpoints = Table(
    "predict_endpoints",
    metadata,
    Column("model_id", String(64), ForeignKey("predict_models.model_id"), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("status", String(16), nullable=False),
    Column("peak_requests_per_second", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
