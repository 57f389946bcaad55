"""Experiments as stored: the spec, the status, and the record a training job keeps up to date epoch by epoch."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update

from altostratus.core.clock import Clock
from altostratus.core.errors import Conflict, NotFound
from altostratus.dl.tables import experiments
from altostratus.storage.metadata import MetadataStore

DEFAULT_FAMILIES = ("nearest", "linear", "cnn", "transfer")


class ExperimentStatus(enum.StrEnum):
    """PENDING -> TRAINING -> COMPLETED | FAILED | STOPPED."""

    PENDING = "PENDING"
    TRAINING = "TRAINING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    STOPPED = "STOPPED"

    @property
    def is_terminal(self) -> bool:
        """True once the experiment will never train again."""
        return self in (ExperimentStatus.COMPLETED, ExperimentStatus.FAILED, ExperimentStatus.STOPPED)


class ExperimentNotFound(NotFound):
    """No experiment has this id."""


class ExperimentNotReady(Conflict):
    """The experiment has not completed: it has no trained model yet."""

    code = "ResourceNotReadyException"


@dataclasses.dataclass(frozen=True)
class ExperimentSpec:
    """What to train: datasets by source (see dl/datasets.py), the families and their parameters, the seed.

    `test` None splits a test set off the training source; `output` (s3://bucket/prefix/) receives the
    evaluation summary and the report, as Custom Labels' OutputConfig does.
    """

    name: str
    train: str
    test: str | None = None
    families: tuple[str, ...] = DEFAULT_FAMILIES
    params: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)
    seed: int = 0
    output: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The spec as a JSON object."""
        return {
            "name": self.name,
            "train": self.train,
            "test": self.test,
            "families": list(self.families),
            "params": {family: dict(values) for family, values in self.params.items()},
            "seed": self.seed,
            "output": self.output,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExperimentSpec:
        """The spec `to_json` wrote."""
        return cls(
            name=str(data["name"]),
            train=str(data["train"]),
            test=None if data.get("test") is None else str(data["test"]),
            families=tuple(str(name) for name in data["families"]),
            params={str(family): dict(values) for family, values in dict(data.get("params") or {}).items()},
            seed=int(data.get("seed", 0)),
            output=None if data.get("output") is None else str(data["output"]),
        )


@dataclasses.dataclass(frozen=True)
class Experiment:
    """One experiment as stored; `record` holds each family's progress and results (see experiments.py)."""

    experiment_id: str
    spec: ExperimentSpec
    status: ExperimentStatus
    message: str
    job_id: str
    record: Mapping[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def name(self) -> str:
        """The experiment's name, as its spec gives it."""
        return self.spec.name

    @property
    def families(self) -> list[dict[str, Any]]:
        """Each family's progress and results, in the spec's order."""
        found = self.record.get("families", {})
        return [dict(found.get(name, {"family": name, "status": "PENDING"})) for name in self.spec.families]

    @property
    def best_family(self) -> str | None:
        """The family chosen by validation accuracy, once every family has trained."""
        return self.record.get("best_family")

    @property
    def evaluation(self) -> dict[str, Any] | None:
        """The best family's evaluation on the test images (accuracy, macro F1, per class)."""
        return self.record.get("evaluation")

    @property
    def summary_url(self) -> str | None:
        """Where in the lake the evaluation summary was written (with an output location)."""
        return self.record.get("summary_url")

    @property
    def skipped(self) -> list[list[str]]:
        """[key, reason] of each image that could not be read or decoded."""
        return list(self.record.get("skipped", []))

    @property
    def train_images(self) -> int:
        """How many images trained the models (the validation images not counted)."""
        return int(self.record.get("train_images", 0))

    @property
    def test_images(self) -> int:
        """How many images the models were evaluated on."""
        return int(self.record.get("test_images", 0))

    @property
    def seconds(self) -> float:
        """The training time so far, all families together."""
        return float(sum(family.get("seconds", 0.0) for family in self.record.get("families", {}).values()))

    def to_json(self) -> dict[str, Any]:
        """What the API and the CLI show of the experiment."""
        return {
            "ExperimentId": self.experiment_id,
            "Name": self.name,
            "Status": str(self.status),
            "Message": self.message,
            "Spec": self.spec.to_json(),
            "Families": self.families,
            "BestFamily": self.best_family,
            "Evaluation": self.evaluation,
            "SummaryUrl": self.summary_url,
            "TrainImages": self.train_images,
            "TestImages": self.test_images,
            "Skipped": self.skipped,
            "CreatedAt": self.created_at.isoformat(),
            "UpdatedAt": self.updated_at.isoformat(),
        }


class ExperimentStore:
    """Experiments by id in the metadata store."""

    def __init__(self, store: MetadataStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def add(self, experiment_id: str, spec: ExperimentSpec, job_id: str) -> Experiment:
        """A new PENDING experiment."""
        now = self._clock.now()
        row = {
            "experiment_id": experiment_id,
            "name": spec.name,
            "spec": spec.to_json(),
            "status": str(ExperimentStatus.PENDING),
            "message": "",
            "job_id": job_id,
            "record": {},
            "created_at": now,
            "updated_at": now,
        }
        with self._store.begin() as db:
            db.execute(insert(experiments).values(**row))
        return _experiment(row)

    def get(self, experiment_id: str) -> Experiment:
        """The experiment; ExperimentNotFound when there is none."""
        with self._store.begin() as db:
            row = db.execute(select(experiments).where(experiments.c.experiment_id == experiment_id)).first()
        if row is None:
            raise ExperimentNotFound(f"Experiment {experiment_id!r} does not exist")
        return _experiment(row._mapping)

    def list(self, limit: int = 1000) -> list[Experiment]:
        """The experiments, newest first."""
        query = select(experiments).order_by(experiments.c.created_at.desc(), experiments.c.experiment_id)
        with self._store.begin() as db:
            rows = db.execute(query.limit(limit)).all()
        return [_experiment(row._mapping) for row in rows]

    def update(
        self,
        experiment_id: str,
        *,
        status: ExperimentStatus | None = None,
        message: str | None = None,
        record: Mapping[str, Any] | None = None,
    ) -> Experiment:
        """Change the status, message or record (replaced whole); ExperimentNotFound when it is gone."""
        values: dict[str, Any] = {"updated_at": self._clock.now()}
        if status is not None:
            values["status"] = str(status)
        if message is not None:
            values["message"] = message
        if record is not None:
            values["record"] = dict(record)
        with self._store.begin() as db:
            found = db.execute(
                update(experiments).where(experiments.c.experiment_id == experiment_id).values(**values)
            ).rowcount
        if not found:
            raise ExperimentNotFound(f"Experiment {experiment_id!r} does not exist")
        return self.get(experiment_id)

    def delete(self, experiment_id: str) -> None:
        """Forget the experiment (its blobs are the service's to delete)."""
        with self._store.begin() as db:
            db.execute(delete(experiments).where(experiments.c.experiment_id == experiment_id))


def _experiment(row: Mapping[Any, Any]) -> Experiment:
    return Experiment(
        experiment_id=row["experiment_id"],
        spec=ExperimentSpec.from_json(row["spec"]),
        status=ExperimentStatus(row["status"]),
        message=row["message"],
        job_id=row["job_id"],
        record=dict(row["record"] or {}),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
