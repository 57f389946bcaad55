"""Custom Labels projects: a name that holds a TRAIN and a TEST dataset and the versions trained from them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from altostratus.core.clock import Clock
from altostratus.dl.custom_labels.names import PROJECT_ARN, Arns, checked_name, project_of
from altostratus.dl.tables import datasets, project_versions, projects
from altostratus.storage.blobs import BlobStore
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.paging import Page
from altostratus.vision.errors import InvalidParameter, ResourceInUse, ResourceNotFound

MAX_PAGE = 100
MAX_NAMES = 10  # DescribeProjects' ProjectNames


class ProjectStatus(enum.StrEnum):
    """Where a project is in its life (it is created whole, at once)."""

    CREATED = "CREATED"
    DELETING = "DELETING"


@dataclasses.dataclass(frozen=True)
class DatasetSummary:
    """A dataset as its project's description lists it."""

    arn: str
    dataset_type: str
    status: str
    status_message: str
    status_code: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Project:
    """A project and the datasets it holds."""

    name: str
    arn: str
    status: ProjectStatus
    created_at: dt.datetime
    datasets: tuple[DatasetSummary, ...] = ()


class Projects:
    """The projects of one region and account, on the metadata store."""

    def __init__(self, store: MetadataStore, blobs: BlobStore, clock: Clock, arns: Arns) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock
        self.arns = arns

    def create(self, name: str) -> Project:
        """A new, empty project; ResourceInUse when the name is taken (as Rekognition answers)."""
        checked_name("ProjectName", name)
        now = self._clock.now()
        project = Project(name, self.arns.project(name, now), ProjectStatus.CREATED, now)
        with self._store.begin() as db:
            if db.execute(select(projects.c.name).where(projects.c.name == name)).first() is not None:
                raise ResourceInUse(f"ProjectName={name!r}: a project of that name exists")
            db.execute(insert(projects).values(name=name, arn=project.arn, status=project.status, created_at=now))
        return project

    def get(self, project_arn: str, member: str = "ProjectArn") -> Project:
        """The project the ARN names; InvalidParameter for a malformed ARN, ResourceNotFound for an unknown one."""
        with self._store.read() as db:
            return self.get_in(db, project_arn, member)

    def get_in(self, db: Connection, project_arn: str, member: str = "ProjectArn") -> Project:
        """The project the ARN names, read on `db`."""
        name = project_of(member, project_arn, PROJECT_ARN)
        row = db.execute(select(projects).where(projects.c.name == name, projects.c.arn == project_arn)).first()
        if row is None:
            raise ResourceNotFound(f"{member}={project_arn!r}: no such project")
        return _project(row._mapping, _summaries(db, [name]).get(name, ()))

    def page(self, *, names: Collection[str] | None, offset: int, limit: int = MAX_PAGE) -> Page[Project]:
        """Projects, newest first, with their datasets; only the named ones when `names` is given."""
        if names is not None and not 1 <= len(names) <= MAX_NAMES:
            raise InvalidParameter(f"ProjectNames holds {len(names)} names; expected 1 to {MAX_NAMES}")
        query = select(projects).order_by(projects.c.created_at.desc(), projects.c.name)
        if names is not None:
            query = query.where(projects.c.name.in_([checked_name("ProjectNames", n) for n in names]))
        with self._store.read() as db:
            rows = db.execute(query.offset(offset).limit(limit + 1)).all()
            found = _summaries(db, [row.name for row in rows[:limit]])
        items = [_project(row._mapping, found.get(row.name, ())) for row in rows[:limit]]
        return Page(items, offset + limit if len(rows) > limit else None)

    def delete(self, project_arn: str) -> ProjectStatus:
        """Delete the project and its datasets; ResourceInUse while it has versions (delete those first)."""
        with self._store.begin() as db:
            project = self.get_in(db, project_arn)
            count = select(func.count()).where(project_versions.c.project == project.name)
            versions = db.execute(count).scalar_one()
            if versions:
                raise ResourceInUse(f"ProjectArn={project_arn!r} has {versions} model versions; delete those first")
            keys = db.execute(select(datasets.c.entries_key).where(datasets.c.project == project.name)).scalars()
            blob_keys = [key for key in keys if key]
            db.execute(delete(datasets).where(datasets.c.project == project.name))
            db.execute(delete(projects).where(projects.c.name == project.name))
        for key in blob_keys:  # after the commit: a crash here leaves an unreferenced blob, never a lost manifest
            self._blobs.delete(key)
        return ProjectStatus.DELETING


def _project(row: Any, found: tuple[DatasetSummary, ...]) -> Project:
    return Project(row["name"], row["arn"], ProjectStatus(row["status"]), row["created_at"], found)


def _summaries(db: Connection, names: list[str]) -> dict[str, tuple[DatasetSummary, ...]]:
    if not names:
        return {}
    rows = db.execute(select(datasets).where(datasets.c.project.in_(names)).order_by(datasets.c.dataset_type.desc()))
    found: dict[str, list[DatasetSummary]] = {}
    for row in rows:
        summary = DatasetSummary(
            row.arn, row.dataset_type, row.status, row.status_message, row.status_code, row.created_at
        )
        found.setdefault(row.project, []).append(summary)
    return {name: tuple(items) for name, items in found.items()}
