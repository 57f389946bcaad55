"""The pipelines' tables: pipeline files as last run, runs, their steps and logs.

Migrations under storage/migrations create them; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from altostratus.storage.schema import UTCDateTime, metadata

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
