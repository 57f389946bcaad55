"""Deploy's tables: the model registry (groups, versions, history) and hosting (models, endpoint configs,
endpoints, experiment statistics, canaries, audit trail).

Migrations under storage/migrations create them; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from altostratus.storage.schema import UTCDateTime, metadata

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
