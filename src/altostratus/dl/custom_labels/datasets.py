"""Custom Labels datasets: a project's TRAIN or TEST images, from a Ground Truth manifest in the lake or a copy.

A dataset is created whole in the CreateDataset call (Custom Labels does it in the background; here the answer
comes when it is done), so DescribeDataset finds it CREATE_COMPLETE or CREATE_FAILED. Its entries are kept as
one blob of JSON lines, exactly as ListDatasetEntries gives them. A manifest that cannot be read, or with more
than a fifth of its lines in error, fails the dataset (Custom Labels' terminal errors); a line in error, such
as one naming an image that is not in the lake, is kept with its errors (non-terminal).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select

from altostratus.core.clock import Clock
from altostratus.dl.custom_labels.entries import Entry, EntryCounts, EntryFilter, checked_entry, stored_entry
from altostratus.dl.custom_labels.errors import ResourceNotReady
from altostratus.dl.custom_labels.lake_files import LakeFiles, ManifestTooLarge
from altostratus.dl.custom_labels.names import DATASET_ARN, project_of
from altostratus.dl.custom_labels.projects import Projects
from altostratus.dl.tables import datasets
from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.storage.blobs import BlobStore, concat, put_chunks
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.paging import Page
from altostratus.vision.errors import InvalidParameter, ResourceAlreadyExists, ResourceNotFound

TYPES = ("TRAIN", "TEST")
MAX_ENTRIES = 250_000  # Custom Labels' most images in a dataset
MAX_ERROR_FRACTION = 0.2  # past a fifth of the lines in error, creation fails (ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST)
CREATED = "The dataset was created from the manifest file"


class DatasetStatus(enum.StrEnum):
    """How the creation went."""

    CREATE_COMPLETE = "CREATE_COMPLETE"
    CREATE_FAILED = "CREATE_FAILED"


@dataclasses.dataclass(frozen=True)
class ManifestSource:
    """A Ground Truth manifest in the lake."""

    bucket: str
    key: str


@dataclasses.dataclass(frozen=True)
class Dataset:
    """A dataset as DescribeDataset tells it."""

    arn: str
    project: str
    dataset_type: str
    status: DatasetStatus
    status_message: str
    status_code: str  # SUCCESS, CLIENT_ERROR
    counts: EntryCounts
    created_at: dt.datetime
    updated_at: dt.datetime
    entries_key: str | None


@dataclasses.dataclass(frozen=True)
class _Outcome:
    status: DatasetStatus
    message: str
    counts: EntryCounts
    entries_key: str | None


class Datasets:
    """The datasets of every project, their entries in the blob store."""

    def __init__(self, store: MetadataStore, blobs: BlobStore, clock: Clock, projects: Projects, lake: LakeFiles):
        self._store = store
        self._blobs = blobs
        self._clock = clock
        self._projects = projects
        self._lake = lake

    def create(
        self, project_arn: str, dataset_type: str, *, manifest: ManifestSource | None = None, copy_of: str | None = None
    ) -> Dataset:
        """A TRAIN or TEST dataset of the project: from the manifest, a copy of another dataset, or empty."""
        if dataset_type not in TYPES:
            raise InvalidParameter(f"DatasetType={dataset_type!r}; expected one of {list(TYPES)}")
        if manifest is not None and copy_of is not None:
            raise InvalidParameter("DatasetSource gives both GroundTruthManifest and DatasetArn; give one of the two")
        project = self._projects.get(project_arn)
        self._refuse_taken(project.name, dataset_type)
        if manifest is not None:
            outcome = self._from_manifest(manifest)
        elif copy_of is not None:
            outcome = self._copy(copy_of)
        else:
            outcome = _Outcome(DatasetStatus.CREATE_COMPLETE, "The dataset was created empty", EntryCounts(), None)
        now = self._clock.now()
        dataset = Dataset(
            self._projects.arns.dataset(project.arn, dataset_type, now),
            project.name,
            dataset_type,
            outcome.status,
            outcome.message,
            "SUCCESS" if outcome.status is DatasetStatus.CREATE_COMPLETE else "CLIENT_ERROR",
            outcome.counts,
            now,
            now,
            outcome.entries_key,
        )
        try:
            with self._store.begin() as db:
                self._refuse_taken(project.name, dataset_type, db)
                self._projects.get_in(db, project_arn)  # not deleted while the manifest was read
                db.execute(insert(datasets).values(_row(dataset)))
        except Exception:
            if outcome.entries_key is not None:
                self._blobs.delete(outcome.entries_key)
            raise
        return dataset

    def get(self, dataset_arn: str, member: str = "DatasetArn") -> Dataset:
        """The dataset the ARN names; InvalidParameter for a malformed ARN, ResourceNotFound for an unknown one."""
        project_of(member, dataset_arn, DATASET_ARN)
        with self._store.read() as db:
            row = db.execute(select(datasets).where(datasets.c.arn == dataset_arn)).first()
        if row is None:
            raise ResourceNotFound(f"{member}={dataset_arn!r}: no such dataset")
        return _dataset(row._mapping)

    def of_project(self, project: str, dataset_type: str) -> Dataset | None:
        """The project's dataset of that type, if it has one."""
        with self._store.read() as db:
            row = db.execute(select(datasets).where(_of(project, dataset_type))).first()
        return None if row is None else _dataset(row._mapping)

    def entries(self, dataset: Dataset) -> list[Entry]:
        """All the dataset's entries; ResourceNotReady when it was not created."""
        if dataset.status is not DatasetStatus.CREATE_COMPLETE:
            raise ResourceNotReady(f"DatasetArn={dataset.arn!r} is {dataset.status}: {dataset.status_message}")
        if dataset.entries_key is None:
            return []
        text = b"".join(self._blobs.read(dataset.entries_key)).decode("utf-8")
        return [stored_entry(line) for line in text.splitlines() if line]

    def entry_page(self, dataset_arn: str, where: EntryFilter, *, offset: int, limit: int) -> Page[str]:
        """The JSON lines that pass the filter, a page at a time."""
        found = [e.text for e in self.entries(self.get(dataset_arn)) if where.matches(e)]
        return Page(found[offset : offset + limit], offset + limit if len(found) > offset + limit else None)

    def label_page(self, dataset_arn: str, *, offset: int, limit: int) -> Page[tuple[str, int]]:
        """The labels and how many entries carry each, by name, a page at a time."""
        dataset = self.get(dataset_arn)
        if dataset.status is not DatasetStatus.CREATE_COMPLETE:
            raise ResourceNotReady(f"DatasetArn={dataset_arn!r} is {dataset.status}: {dataset.status_message}")
        labels = sorted(dataset.counts.labels.items())
        return Page(labels[offset : offset + limit], offset + limit if len(labels) > offset + limit else None)

    def delete(self, dataset_arn: str) -> None:
        """Delete the dataset and its entries; versions trained from it keep their own copies."""
        dataset = self.get(dataset_arn)
        with self._store.begin() as db:
            db.execute(delete(datasets).where(datasets.c.arn == dataset_arn))
        if dataset.entries_key is not None:
            self._blobs.delete(dataset.entries_key)

    def _refuse_taken(self, project: str, dataset_type: str, db: Connection | None = None) -> None:
        query = select(datasets.c.arn).where(_of(project, dataset_type))
        if db is None:
            with self._store.read() as reader:
                taken = reader.execute(query).first()
        else:
            taken = db.execute(query).first()
        if taken is not None:
            raise ResourceAlreadyExists(f"Project {project!r} has a {dataset_type} dataset: {taken.arn}")

    def _from_manifest(self, source: ManifestSource) -> _Outcome:
        where = f"s3://{source.bucket}/{source.key}"
        counts = EntryCounts()
        lines: list[str] = []
        try:
            for line in self._lake.lines(source.bucket, source.key):
                if counts.total == MAX_ENTRIES:
                    return _failed("ERROR_MANIFEST_ROWS_EXCEEDS_MAXIMUM", f"{where} has more than {MAX_ENTRIES} lines")
                entry = checked_entry(line, self._lake.exists)
                counts.add(entry)
                lines.append(entry.text)
        except (NoSuchBucket, NoSuchKey, UnicodeDecodeError, ManifestTooLarge) as error:
            reason = getattr(error, "message", str(error))
            return _failed("ERROR_MANIFEST_INACCESSIBLE_OR_UNSUPPORTED_FORMAT", f"{where} cannot be read: {reason}")
        if counts.errors > MAX_ERROR_FRACTION * counts.total:
            return _failed(
                "ERROR_TOO_MANY_INVALID_ROWS_IN_MANIFEST",
                f"{counts.errors} of the {counts.total} lines of {where} have errors; at most a fifth may",
            )
        key = self._put(lines)
        return _Outcome(DatasetStatus.CREATE_COMPLETE, CREATED, counts, key)

    def _copy(self, dataset_arn: str) -> _Outcome:
        source = self.get(dataset_arn, "DatasetSource.DatasetArn")
        if source.status is not DatasetStatus.CREATE_COMPLETE:
            raise InvalidParameter(f"DatasetSource.DatasetArn={dataset_arn!r} is {source.status}; it cannot be copied")
        key = None
        if source.entries_key is not None:
            key = _new_key()
            concat(self._blobs, key, [source.entries_key])
        return _Outcome(DatasetStatus.CREATE_COMPLETE, f"The dataset was copied from {dataset_arn}", source.counts, key)

    def _put(self, lines: Iterable[str]) -> str:
        key = _new_key()
        put_chunks(self._blobs, key, ((line + "\n").encode() for line in lines))
        return key


def _failed(code: str, message: str) -> _Outcome:
    return _Outcome(DatasetStatus.CREATE_FAILED, f"{code}: {message}", EntryCounts(), None)


def _new_key() -> str:
    return f"dl/custom-labels/datasets/{uuid.uuid4().hex}.manifest"


def _of(project: str, dataset_type: str) -> Any:
    return and_(datasets.c.project == project, datasets.c.dataset_type == dataset_type)


def _row(dataset: Dataset) -> dict[str, Any]:
    return {
        "arn": dataset.arn,
        "project": dataset.project,
        "dataset_type": dataset.dataset_type,
        "status": dataset.status,
        "status_message": dataset.status_message,
        "status_code": dataset.status_code,
        "entries_key": dataset.entries_key,
        "stats": dataset.counts.as_json(),
        "created_at": dataset.created_at,
        "updated_at": dataset.updated_at,
    }


def _dataset(row: Any) -> Dataset:
    return Dataset(
        row["arn"],
        row["project"],
        row["dataset_type"],
        DatasetStatus(row["status"]),
        row["status_message"],
        row["status_code"],
        EntryCounts.from_json(row["stats"]),
        row["created_at"],
        row["updated_at"],
        row["entries_key"],
    )
