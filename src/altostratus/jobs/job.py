"""What a job is: its states, its record and the errors about it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

from altostratus.core.errors import AltoError, Conflict, NotFound


class JobState(enum.StrEnum):
    """Where a job is in its life: PENDING -> INPROGRESS -> COMPLETED | FAILED."""

    PENDING = "PENDING"
    INPROGRESS = "INPROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def is_terminal(self) -> bool:
        """True for COMPLETED and FAILED: the job will never change state again."""
        return self in (JobState.COMPLETED, JobState.FAILED)


@dataclasses.dataclass(frozen=True)
class Job:
    """One job as stored: a snapshot, read again with `JobQueue.get` to see later changes."""

    job_id: str
    kind: str
    payload: Mapping[str, Any]
    state: JobState
    progress: float
    message: str
    result: Any
    attempts: int
    max_attempts: int
    cancel_requested: bool
    lease_owner: str | None
    lease_expires_at: dt.datetime | None
    not_before: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime


class JobNotFound(NotFound):
    """The job does not exist."""


class JobIdConflict(Conflict):
    """A job with this id exists with a different kind or payload."""

    code = "IdempotentParameterMismatchException"


class LeaseLost(Conflict):
    """The worker no longer holds the job's lease: it expired and the job went to another worker or ended."""


class JobWaitTimeout(AltoError, TimeoutError):
    """The job did not reach COMPLETED or FAILED in time."""

    code = "RequestTimeout"
    status = 408
