"""The speech service's tables: stored lexicons and synthesis tasks.

A task's state lives in its job (the jobs table, same id); the row here keeps what Polly reports of it.
Migrations under storage/migrations create these tables; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text

from altostratus.storage.schema import UTCDateTime, metadata

lexicons = Table(
    "speech_lexicons",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("content", Text, nullable=False),
    Column("alphabet", String(16), nullable=False),
    Column("language", String(16), nullable=False),
    Column("lexemes", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
)

# `request` is the task's synthesis request as given (JSON), `output_uri` where its audio or marks go.
synthesis_tasks = Table(
    "speech_tasks",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("request", JSON, nullable=False),
    Column("output_uri", String(2048), nullable=False),
    Column("request_characters", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_speech_tasks_created", "created_at", "task_id"),
)
