"""The functions service's tables: functions, their versions, aliases and invocations, and HTTP routes
with their API keys.

Migrations under storage/migrations create them; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from altostratus.storage.schema import UTCDateTime, metadata

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
