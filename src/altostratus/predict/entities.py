"""What the predict service keeps: datasources, models, evaluations, batch predictions and endpoints, and
where each is in its life."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any


class Status(enum.StrEnum):
    """Where an entity is in its life, as Amazon ML names it."""

    PENDING = "PENDING"
    INPROGRESS = "INPROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    DELETED = "DELETED"


@dataclasses.dataclass(frozen=True)
class Lifecycle:
    """What every entity has: name, status, message, its job, and when things happened."""

    name: str
    status: Status
    message: str
    job_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    compute_time_ms: int | None


@dataclasses.dataclass(frozen=True)
class DataSource(Lifecycle):
    """CSV data in the lake with its schema, split and statistics."""

    datasource_id: str
    data_location: str
    data_rearrangement: str | None
    data_schema: str | None
    schema_given: bool
    read_options: Mapping[str, Any]
    compute_statistics: bool
    statistics: Mapping[str, Any] | None
    data_size_bytes: int | None
    number_of_files: int | None
    rows_read: int | None
    row_count: int | None


@dataclasses.dataclass(frozen=True)
class Model(Lifecycle):
    """A model trained on a datasource, and its artifact once trained."""

    model_id: str
    model_type: str
    training_datasource_id: str
    parameters: Mapping[str, str]
    recipe: str | None
    recipe_used: str | None
    learner: str | None
    score_threshold: float
    score_threshold_updated_at: dt.datetime | None
    artifact_key: str | None
    artifact_sha256: str | None
    size_bytes: int | None
    training_report: Mapping[str, Any] | None
    endpoint: Endpoint | None = None


@dataclasses.dataclass(frozen=True)
class Evaluation(Lifecycle):
    """A model scored on a datasource: the metric, its baseline and details."""

    evaluation_id: str
    model_id: str
    datasource_id: str
    metrics: Mapping[str, Any] | None


@dataclasses.dataclass(frozen=True)
class BatchPrediction(Lifecycle):
    """A model's predictions for every row of a datasource, written as CSV under an output location."""

    batch_prediction_id: str
    model_id: str
    datasource_id: str
    output_uri: str
    output_location: str | None
    total_records: int | None
    invalid_records: int | None


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """A model's realtime endpoint: where to send records, and whether it is READY."""

    model_id: str
    url: str
    status: str
    peak_requests_per_second: int
    created_at: dt.datetime
    updated_at: dt.datetime
