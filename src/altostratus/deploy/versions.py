"""What the model registry keeps: model groups, their numbered versions, and where a version's gate is."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.deploy.stages import Stage


class GateStatus(enum.StrEnum):
    """Where a version's latest promotion gate is (SageMaker's DetailedModelPackageStatus)."""

    NOT_STARTED = "NotStarted"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"


@dataclasses.dataclass(frozen=True)
class ModelGroup:
    """A model package group: the versions of one model, its gate policy and its production version."""

    name: str
    description: str
    policy: Mapping[str, Any] | None
    prod_version: int | None
    next_version: int
    created_at: dt.datetime
    created_by: str


@dataclasses.dataclass(frozen=True)
class ModelVersion:
    """One registered version: its artifact in the model store, where it came from, and its stage.

    `source` says what was registered (`{"kind": "ml-model", "model_id": ...}`, `{"kind": "dl-experiment",
    "experiment_id": ..., "family": ...}` or `{"kind": "lake", "bucket": ..., "key": ..., "etag": ...}`);
    `training_data` the data it was trained on (lake keys and ETags); `metrics` a list of metric sets
    (`{"source", "datasource_id", "records", "values"}`).
    """

    group_name: str
    version: int
    description: str
    stage: Stage
    source_uri: str
    source: Mapping[str, Any]
    artifact_key: str
    artifact_sha256: str
    artifact_size: int
    training_data: Mapping[str, Any]
    parameters: Mapping[str, Any]
    metrics: Sequence[Mapping[str, Any]]
    model_metrics: Mapping[str, Any] | None
    customer_metadata: Mapping[str, str]
    approval_description: str
    gate_status: GateStatus
    gate_report: Mapping[str, Any] | None
    promotion_id: str | None
    created_at: dt.datetime
    created_by: str
    updated_at: dt.datetime
    updated_by: str
