"""The bots service's tables: bot definitions, the builds of their locales, sessions, versions and aliases.

A build's state lives in its job (the jobs table, `job_id`); the row here keeps what Lex reports of it and where
the trained NLU is. Migrations under storage/migrations create these tables; a change here needs a new migration.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, UniqueConstraint

from altostratus.storage.schema import UTCDateTime, metadata

# `definition` is the bot as its YAML document (bots/yaml_format.py), so a definition reads the same everywhere.
bots = Table(
    "bots_bots",
    metadata,
    Column("bot_id", String(10), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("definition", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

builds = Table(
    "bots_builds",
    metadata,
    Column("bot_id", String(10), primary_key=True),
    Column("locale_id", String(16), primary_key=True),
    Column("job_id", String(64), nullable=False),
    # The definition the build trained on, so a later edit does not change a built locale under its sessions.
    Column("definition", Text, nullable=False),
    Column("faults", JSON, nullable=False),
    Column("warnings", JSON, nullable=False),
    Column("model_key", String(512), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
)

sessions = Table(
    "bots_sessions",
    metadata,
    Column("bot_id", String(10), primary_key=True),
    Column("alias_id", String(10), primary_key=True),
    Column("locale_id", String(16), primary_key=True),
    Column("session_id", String(100), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("turns", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_bots_sessions_expires", "expires_at"),
)

# A version is a frozen copy of the bot: its definition and, per locale, the trained model it answers with.
versions = Table(
    "bots_versions",
    metadata,
    Column("bot_id", String(10), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("definition", Text, nullable=False),
    Column("models", JSON, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# An alias points clients at a version ("DRAFT" or a number), with the code hook function of each locale.
aliases = Table(
    "bots_aliases",
    metadata,
    Column("bot_id", String(10), primary_key=True),
    Column("alias_id", String(10), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("version", String(10), nullable=False),
    Column("locales", JSON, nullable=False),
    Column("description", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("bot_id", "name", name="uq_bots_aliases_name"),
)
