"""The deep-learning layer's tables: experiments, and Rekognition Custom Labels' projects, datasets and versions.

An experiment's state lives in its row (`record`, JSON: each family's progress and results, the best family,
the evaluation, the skipped images, the artifacts' blob keys); its job (the jobs table, `job_id`) runs it.
Migrations under storage/migrations create these tables; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table, Text

from altostratus.storage.schema import UTCDateTime, metadata

experiments = Table(
    "dl_experiments",
    metadata,
    Column("experiment_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("job_id", String(64), nullable=False),
    Column("record", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_dl_experiments_created", "created_at", "experiment_id"),
)

# Custom Labels: a project holds datasets (TRAIN, TEST) and versions (a trained model each).
projects = Table(
    "dl_projects",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("arn", String(2048), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# `entries_key` is the blob holding the dataset's manifest (JSON lines, as ListDatasetEntries gives them).
datasets = Table(
    "dl_datasets",
    metadata,
    Column("arn", String(2048), primary_key=True),
    Column("project", String(255), nullable=False),
    Column("dataset_type", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("status_message", Text, nullable=False),
    Column("status_code", String(64), nullable=False),
    Column("entries_key", String(1024), nullable=True),
    Column("stats", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_dl_datasets_project", "project", "dataset_type"),
)

# `experiment_id` names the experiment that trains the version; `details` keeps what DescribeProjectVersions says.
project_versions = Table(
    "dl_project_versions",
    metadata,
    Column("arn", String(2048), primary_key=True),
    Column("project", String(255), nullable=False),
    Column("version_name", String(255), nullable=False),
    Column("status", String(32), nullable=False),
    Column("status_message", Text, nullable=False),
    Column("experiment_id", String(64), nullable=True),
    Column("details", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_dl_project_versions_project", "project", "created_at"),
)
