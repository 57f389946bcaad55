"""The metadata tables (SQLAlchemy Core); Alembic migrations under migrations/ create them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}; expected a timezone-aware one")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def binary_ordered_string(length: int) -> String:
    """A string compared byte by byte, as S3 orders keys (PostgreSQL needs the "C" collation for that)."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


metadata = MetaData()

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    Column("secret_access_key", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
)

buckets = Table(
    "buckets",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("region", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("notification_config", JSON, nullable=False, default=dict),
)

objects = Table(
    "objects",
    metadata,
    Column("bucket", String(63), ForeignKey("buckets.name"), primary_key=True),
    Column("key", binary_ordered_string(1024), primary_key=True),
    Column("blob_key", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("user_metadata", JSON, nullable=False, default=dict),
    Column("checksums", JSON, nullable=False, default=dict),
    Column("last_modified", UTCDateTime, nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", String(128), primary_key=True),
    Column("bucket", String(63), ForeignKey("buckets.name"), nullable=False),
    Column("key", binary_ordered_string(1024), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("headers", JSON, nullable=False, default=dict),
    Column("user_metadata", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_uploads_bucket_key", "bucket", "key"),
)

parts = Table(
    "parts",
    metadata,
    Column("upload_id", String(128), ForeignKey("uploads.upload_id"), primary_key=True),
    Column("part_number", Integer, primary_key=True),
    Column("blob_key", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("last_modified", UTCDateTime, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("message", Text, nullable=False, default=""),
    Column("result", JSON, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=3),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("not_before", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_jobs_state_not_before", "state", "not_before"),
    Index("ix_jobs_kind", "kind"),
)

functions = Table(
    "functions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("access_key_id", String(128), nullable=False),
    Column("last_version", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    # An IAM-style policy document that widens (or narrows) what the function's own key may reach.
    Column("access_policy", JSON, nullable=True),
)

function_versions = Table(
    "function_versions",
    metadata,
    Column("function_name", String(64), ForeignKey("functions.name"), primary_key=True),
    Column("version", String(16), primary_key=True),
    Column("runtime", String(32), nullable=False),
    Column("handler", String(128), nullable=False),
    Column("role", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("code_sha256", String(64), nullable=False),
    Column("code_size", BigInteger, nullable=False),
    Column("code_blob_key", String(255), nullable=False),
    Column("requirements_key", String(64), nullable=False),
    Column("timeout", Integer, nullable=False),
    Column("memory", Integer, nullable=False),
    Column("environment", JSON, nullable=False),
    Column("dead_letter_target", Text, nullable=False),
    Column("revision_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("state_reason", Text, nullable=False),
    Column("state_reason_code", String(64), nullable=False),
    Column("last_modified", UTCDateTime, nullable=False),
    Column("ephemeral_storage", Integer, nullable=False, server_default="512"),
    Column("vpc_config", JSON, nullable=False, server_default="{}"),
)

function_aliases = Table(
    "function_aliases",
    metadata,
    Column("function_name", String(64), ForeignKey("functions.name"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("function_version", String(16), nullable=False),
    Column("description", Text, nullable=False),
    Column("routing", JSON, nullable=False),
    Column("revision_id", String(64), nullable=False),
)

function_invocations = Table(
    "function_invocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
    Column("function_name", String(64), nullable=False),
    Column("version", String(16), nullable=False),
    Column("invocation_type", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("cold_start", Boolean, nullable=False),
    Column("memory_mb", Integer, nullable=False),
    Column("max_memory_mb", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("error_type", String(128), nullable=True),
    Column("log", Text, nullable=False),
    Index("ix_function_invocations_function_started", "function_name", "started_at"),
    Index("ix_function_invocations_request_id", "request_id"),
)


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

routes = Table(
    "routes",
    metadata,
    Column("method", String(8), primary_key=True),
    # The path with parameter names left out: one route per method and shape, so matching is never ambiguous.
    Column("shape", String(1024), primary_key=True),
    Column("path", String(1024), nullable=False),
    Column("function_name", String(64), nullable=False),
    Column("qualifier", String(128), nullable=True),
    Column("public", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

route_api_keys = Table(
    "route_api_keys",
    metadata,
    Column("key_id", String(16), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("value_sha256", String(64), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("rate_per_second", Float, nullable=True),
    Column("burst", Integer, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_route_api_keys_value_sha256", "value_sha256", unique=True),
)

registry_groups = Table(
    "registry_groups",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("description", Text, nullable=False, default=""),
    # The promotion gate's policy (deploy/gates.py), None: every promotion passes.
    Column("policy", JSON, nullable=True),
    # The one production version: changed only by compare-and-set, so racing promotions leave exactly one.
    Column("prod_version", Integer, nullable=True),
    Column("next_version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
)

registry_versions = Table(
    "registry_versions",
    metadata,
    Column("group_name", String(63), ForeignKey("registry_groups.name"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("description", Text, nullable=False, default=""),
    Column("stage", String(16), nullable=False),
    Column("source_uri", String(1024), nullable=False),
    Column("source", JSON, nullable=False),
    Column("artifact_key", String(1024), nullable=False),
    Column("artifact_sha256", String(64), nullable=False),
    Column("artifact_size", BigInteger, nullable=False),
    Column("training_data", JSON, nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("model_metrics", JSON, nullable=True),
    Column("customer_metadata", JSON, nullable=False),
    Column("approval_description", Text, nullable=False, default=""),
    Column("gate_status", String(16), nullable=False),
    Column("gate_report", JSON, nullable=True),
    Column("promotion_id", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(128), nullable=False),
)

# Append-only: every registration, stage change, refused promotion, rollback and policy change.
registry_events = Table(
    "registry_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("group_name", String(63), nullable=False),
    Column("version", Integer, nullable=True),
    Column("event", String(32), nullable=False),
    Column("from_stage", String(16), nullable=True),
    Column("to_stage", String(16), nullable=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("details", JSON, nullable=True),
    Index("ix_registry_events_group_at", "group_name", "at"),
)

# ---- deploy: hosted models, endpoint configs, endpoints, experiment statistics ----------------------------

hosted_models = Table(
    "hosted_models",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("arn", String(256), nullable=False),
    Column("package_arn", String(256), nullable=False),
    Column("containers", JSON, nullable=False),
    Column("primary_container", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

endpoint_configs = Table(
    "endpoint_configs",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("arn", String(256), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# One row per variant, so the database itself refuses to delete a model a config still names.
endpoint_config_variants = Table(
    "endpoint_config_variants",
    metadata,
    Column("config_name", String(63), ForeignKey("endpoint_configs.name"), primary_key=True),
    Column("variant_name", String(63), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("model_name", String(63), ForeignKey("hosted_models.name"), nullable=False),
    Column("shadow", Boolean, nullable=False),
    Column("weight", Float, nullable=False),
    Column("instance_count", Integer, nullable=False),
    Column("instance_type", String(64), nullable=True),
    Index("ix_endpoint_config_variants_model", "model_name"),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("arn", String(256), nullable=False),
    # Not a foreign key: an endpoint keeps running after its config is deleted, as in SageMaker.
    Column("config_name", String(63), nullable=False),
    Column("pending_config", String(63), nullable=True),
    Column("status", String(16), nullable=False),
    Column("failure_reason", Text, nullable=False, default=""),
    # Bumped by every change of the variants or weights: servers compare it to refresh their routes.
    Column("version", Integer, nullable=False),
    Column("job_id", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

endpoint_variants = Table(
    "endpoint_variants",
    metadata,
    Column("endpoint_name", String(63), ForeignKey("endpoints.name"), primary_key=True),
    Column("variant_name", String(63), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("model_name", String(63), ForeignKey("hosted_models.name"), nullable=False),
    Column("package_arn", String(256), nullable=False),
    Column("shadow", Boolean, nullable=False),
    Column("current_weight", Float, nullable=False),
    Column("desired_weight", Float, nullable=False),
    Column("instance_count", Integer, nullable=False),
    Column("instance_type", String(64), nullable=True),
    Index("ix_endpoint_variants_model", "model_name"),
)

# Per variant and minute, summed over every server process (deploy/tallies.py holds the parts' shapes).
endpoint_stats = Table(
    "endpoint_stats",
    metadata,
    Column("endpoint_name", String(63), primary_key=True),
    Column("variant_name", String(63), primary_key=True),
    Column("minute", UTCDateTime, primary_key=True),
    Column("shadow", Boolean, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("latency_ms_total", Float, nullable=False),
    Column("parts", JSON, nullable=False),
)

# Every answered record: which variant predicted what, joined to outcomes by inference id.
endpoint_inferences = Table(
    "endpoint_inferences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_name", String(63), nullable=False),
    Column("inference_id", String(80), nullable=False),
    Column("variant_name", String(63), nullable=False),
    Column("shadow", Boolean, nullable=False),
    Column("label", String(256), nullable=True),
    Column("value", Float, nullable=True),
    Column("error", Boolean, nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_endpoint_inferences_endpoint_inference", "endpoint_name", "inference_id"),
)

endpoint_outcomes = Table(
    "endpoint_outcomes",
    metadata,
    Column("endpoint_name", String(63), primary_key=True),
    Column("inference_id", String(80), primary_key=True),
    Column("label", String(256), nullable=False),
    Column("value", Float, nullable=True),
    Column("source", String(1100), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Outcome files read from the lake: a file is read again only when its ETag changes.
endpoint_outcome_files = Table(
    "endpoint_outcome_files",
    metadata,
    Column("bucket", String(63), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("etag", String(80), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("problem", Text, nullable=False, default=""),
    Column("at", UTCDateTime, nullable=False),
)

endpoint_canaries = Table(
    "endpoint_canaries",
    metadata,
    Column("endpoint_name", String(63), primary_key=True),
    Column("rules", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    # The challenger's share of the champion's and challenger's weight, in points of 100.
    Column("share", Float, nullable=False),
    Column("steps", Integer, nullable=False),
    Column("step_started_at", UTCDateTime, nullable=False),
    Column("baseline_requests", BigInteger, nullable=False),
    Column("baseline_errors", BigInteger, nullable=False),
    Column("message", Text, nullable=False, default=""),
    # Compare-and-set guard: of several server processes, one takes each step.
    Column("revision", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Append-only: every change of an endpoint's variants or weights, by a caller or by a canary rule, and why.
endpoint_audit = Table(
    "endpoint_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint_name", String(63), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("details", JSON, nullable=True),
    Index("ix_endpoint_audit_endpoint_at", "endpoint_name", "at"),
)

# ---- pipelines ------------------------------------------------------------------------------------

# A pipeline file as last run, by name; on_new_data pipelines start again when data lands under their prefix.
pipelines = Table(
    "pipelines",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("document", JSON, nullable=False),
    Column("bucket", String(63), nullable=False),
    Column("prefix", String(1024), nullable=False),
    Column("on_new_data", Boolean, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

pipeline_runs = Table(
    "pipeline_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("pipeline", String(63), nullable=False),
    Column("document", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("trigger", Text, nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_pipeline_runs_pipeline_created", "pipeline", "created_at"),
)

# One row per step of a run: its state, how many times it was started, and what it used and made (lineage).
pipeline_steps = Table(
    "pipeline_steps",
    metadata,
    Column("run_id", String(64), ForeignKey("pipeline_runs.run_id"), primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lineage", JSON, nullable=False),
    Column("message", Text, nullable=False, default=""),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
)

# Append-only: what each step did, line by line.
pipeline_logs = Table(
    "pipeline_logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("step", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("message", Text, nullable=False),
    Index("ix_pipeline_logs_run", "run_id", "id"),
)
