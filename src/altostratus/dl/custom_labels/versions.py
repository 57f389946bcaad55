"""Custom Labels project versions: a model trained from a project's datasets, then started, stopped, deleted.

CreateProjectVersion writes the training and test manifests under OutputConfig in the lake (training_data.py)
and starts an experiment on them (altostratus.dl.experiments); its evaluation summary is written there too. The
version's status follows the experiment's, read when the version is described: TRAINING_IN_PROGRESS ->
TRAINING_COMPLETED | TRAINING_FAILED. Starting and stopping are hosting.py's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update

from altostratus.core.clock import Clock
from altostratus.core.errors import NotFound
from altostratus.dl.custom_labels.datasets import Datasets
from altostratus.dl.custom_labels.lake_files import LakeFiles
from altostratus.dl.custom_labels.names import VERSION_ARN, checked_name, project_of
from altostratus.dl.custom_labels.projects import Projects
from altostratus.dl.custom_labels.training import Training, training_outcome, training_progress
from altostratus.dl.custom_labels.training_data import write_training_data
from altostratus.dl.experiment_store import DEFAULT_FAMILIES, ExperimentSpec, ExperimentStatus
from altostratus.dl.tables import project_versions
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.paging import Page
from altostratus.vision.errors import InvalidParameter, ResourceInUse, ResourceNotFound

MAX_PAGE = 100
MAX_NAMES = 10  # DescribeProjectVersions' VersionNames
TRAINING = "The model is being trained."
COMPLETED = "The model is ready to run."
MAX_EXPERIMENT_NAME = 255
MAX_NAMED_SKIPS = 5


class VersionStatus(enum.StrEnum):
    """A version's life: training, then hosting."""

    TRAINING_IN_PROGRESS = "TRAINING_IN_PROGRESS"
    TRAINING_COMPLETED = "TRAINING_COMPLETED"
    TRAINING_FAILED = "TRAINING_FAILED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    DELETING = "DELETING"


# A version that trains or is hosted cannot be deleted.
BUSY = frozenset(
    {VersionStatus.TRAINING_IN_PROGRESS, VersionStatus.STARTING, VersionStatus.RUNNING, VersionStatus.STOPPING}
)


@dataclasses.dataclass(frozen=True)
class Version:
    """A project version as DescribeProjectVersions tells it; `details` holds what training and hosting noted."""

    arn: str
    project: str
    version_name: str
    status: VersionStatus
    status_message: str
    experiment_id: str | None
    details: Mapping[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class OutputLocation:
    """OutputConfig: where in the lake the version's manifests and evaluation go."""

    bucket: str
    prefix: str = ""


class Versions:
    """The versions of every project, each trained by an experiment."""

    def __init__(
        self,
        store: MetadataStore,
        clock: Clock,
        projects: Projects,
        datasets: Datasets,
        lake: LakeFiles,
        training: Training,
        *,
        families: Sequence[str] = DEFAULT_FAMILIES,
        seed: int = 0,
    ) -> None:
        self._store = store
        self._clock = clock
        self._projects = projects
        self._datasets = datasets
        self._lake = lake
        self._training = training
        self._families = tuple(families)
        self._seed = seed

    def create(
        self,
        project_arn: str,
        version_name: str,
        output: OutputLocation,
        *,
        split_test_off: bool = False,
        description: str | None = None,
    ) -> Version:
        """A version training on the project's datasets; ResourceInUse when its name is taken in the project."""
        checked_name("VersionName", version_name)
        project = self._projects.get(project_arn)
        self._refuse_taken(project.name, version_name)
        if not self._lake.has_bucket(output.bucket):
            raise InvalidParameter(f"OutputConfig.S3Bucket={output.bucket!r}: no such bucket in the lake")
        root = f"{output.prefix}{project.name}/{version_name}/"
        data = write_training_data(
            self._datasets, self._lake, project.name, output.bucket, root, split_test_off, self._seed
        )
        spec = ExperimentSpec(
            name=f"custom-labels/{project.name}/{version_name}"[:MAX_EXPERIMENT_NAME],
            train=f"s3://{output.bucket}/{data.train_key}",
            test=f"s3://{output.bucket}/{data.test_key}" if data.test_images else None,
            families=self._families,
            seed=self._seed,
            output=f"s3://{output.bucket}/{root}evaluation/",
        )
        experiment = self._training.start(spec)
        now = self._clock.now()
        details = {
            "output": dataclasses.asdict(output),
            "manifests": {"train": data.train_key, "test": data.test_key},
            "auto_create": data.auto_create,
            "description": description,
        }
        version = Version(
            self._projects.arns.version(project.arn, version_name, now),
            project.name,
            version_name,
            VersionStatus.TRAINING_IN_PROGRESS,
            TRAINING,
            experiment.experiment_id,
            details,
            now,
            now,
        )
        try:
            with self._store.begin() as db:
                self._refuse_taken(project.name, version_name, db)
                db.execute(insert(project_versions).values(_row(version)))
        except Exception:
            self._training.delete(experiment.experiment_id)
            raise
        return version

    def get(self, version_arn: str) -> Version:
        """The version the ARN names, its training status brought up to date."""
        project_of("ProjectVersionArn", version_arn, VERSION_ARN)
        with self._store.read() as db:
            row = db.execute(select(project_versions).where(project_versions.c.arn == version_arn)).first()
        if row is None:
            raise ResourceNotFound(f"ProjectVersionArn={version_arn!r}: no such model version")
        return self._caught_up(_version(row._mapping))

    def page(
        self, project_arn: str, *, names: Collection[str] | None, offset: int, limit: int = MAX_PAGE
    ) -> Page[Version]:
        """The project's versions, newest first; only the named ones when `names` is given."""
        project = self._projects.get(project_arn)
        query = select(project_versions).where(project_versions.c.project == project.name)
        if names is not None:
            if not 1 <= len(names) <= MAX_NAMES:
                raise InvalidParameter(f"VersionNames holds {len(names)} names; expected 1 to {MAX_NAMES}")
            query = query.where(project_versions.c.version_name.in_([checked_name("VersionNames", n) for n in names]))
        query = query.order_by(project_versions.c.created_at.desc(), project_versions.c.version_name)
        with self._store.read() as db:
            rows = db.execute(query.offset(offset).limit(limit + 1)).all()
        items = [self._caught_up(_version(row._mapping)) for row in rows[:limit]]
        return Page(items, offset + limit if len(rows) > limit else None)

    def move(
        self, version: Version, to: VersionStatus, message: str, *, when: Collection[VersionStatus], **details: Any
    ) -> Version | None:
        """Move the version to `to` if it is still in one of the `when` states; the version moved, or None."""
        changed = {**version.details, **details}
        now = self._clock.now()
        with self._store.begin() as db:
            moved = db.execute(
                update(project_versions)
                .where(project_versions.c.arn == version.arn, project_versions.c.status.in_([str(s) for s in when]))
                .values(status=str(to), status_message=message, details=changed, updated_at=now)
            ).rowcount
        return (
            dataclasses.replace(version, status=to, status_message=message, details=changed, updated_at=now)
            if moved
            else None
        )

    def in_states(self, states: Collection[VersionStatus]) -> list[Version]:
        """Every version in one of the states (a start settles what a stop left half-way)."""
        query = select(project_versions).where(project_versions.c.status.in_([str(s) for s in states]))
        with self._store.read() as db:
            return [_version(row._mapping) for row in db.execute(query)]

    def delete(self, version_arn: str) -> VersionStatus:
        """Delete the version and its experiment; ResourceInUse while it trains or is hosted."""
        version = self.get(version_arn)
        if version.status in BUSY:
            raise ResourceInUse(f"ProjectVersionArn={version_arn!r} is {version.status}; stop it before deleting it")
        with self._store.begin() as db:
            deleted = db.execute(
                delete(project_versions).where(
                    project_versions.c.arn == version_arn, project_versions.c.status.not_in([str(s) for s in BUSY])
                )
            ).rowcount
        if not deleted:
            raise ResourceInUse(f"ProjectVersionArn={version_arn!r} was started meanwhile; stop it before deleting it")
        if version.experiment_id is not None:
            self._training.delete(version.experiment_id)
        return VersionStatus.DELETING

    def _refuse_taken(self, project: str, version_name: str, db: Any = None) -> None:
        query = select(project_versions.c.arn).where(
            project_versions.c.project == project, project_versions.c.version_name == version_name
        )
        if db is None:
            with self._store.read() as reader:
                taken = reader.execute(query).first()
        else:
            taken = db.execute(query).first()
        if taken is not None:
            raise ResourceInUse(f"VersionName={version_name!r}: project {project!r} has a version of that name")

    def _caught_up(self, version: Version) -> Version:
        """The version with its experiment's outcome once training has ended, or its progress while it trains."""
        if version.status is not VersionStatus.TRAINING_IN_PROGRESS or version.experiment_id is None:
            return version
        when = {VersionStatus.TRAINING_IN_PROGRESS}
        try:
            experiment = self._training.get(version.experiment_id)
        except NotFound:  # deleted beside Custom Labels (`alto dl`): the version can never finish training
            gone = f"The training experiment {version.experiment_id} was deleted"
            return self.move(version, VersionStatus.TRAINING_FAILED, gone, when=when) or self.get(version.arn)
        if not experiment.status.is_terminal:
            return dataclasses.replace(version, status_message=training_progress(experiment, TRAINING))
        if experiment.status is ExperimentStatus.COMPLETED:
            message = COMPLETED + _skipped_note(experiment.skipped)
            moved = self.move(
                version, VersionStatus.TRAINING_COMPLETED, message, when=when, **training_outcome(experiment)
            )
        else:
            message = experiment.message or f"The training was {str(experiment.status).lower()}"
            moved = self.move(
                version, VersionStatus.TRAINING_FAILED, message, when=when, **training_outcome(experiment)
            )
        return moved or self.get(version.arn)


def _skipped_note(skipped: list[list[str]]) -> str:
    """The images training left out, as the status message tells them (the first few named)."""
    if not skipped:
        return ""
    named = "; ".join(f"{key}: {reason}" for key, reason in skipped[:MAX_NAMED_SKIPS])
    more = f"; and {len(skipped) - MAX_NAMED_SKIPS} more" if len(skipped) > MAX_NAMED_SKIPS else ""
    return f" {len(skipped)} images could not be read and were left out ({named}{more})."


def _row(version: Version) -> dict[str, Any]:
    return {
        "arn": version.arn,
        "project": version.project,
        "version_name": version.version_name,
        "status": str(version.status),
        "status_message": version.status_message,
        "experiment_id": version.experiment_id,
        "details": dict(version.details),
        "created_at": version.created_at,
        "updated_at": version.updated_at,
    }


def _version(row: Any) -> Version:
    return Version(
        row["arn"],
        row["project"],
        row["version_name"],
        VersionStatus(row["status"]),
        row["status_message"],
        row["experiment_id"],
        row["details"],
        row["created_at"],
        row["updated_at"],
    )
