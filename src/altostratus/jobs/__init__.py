"""Jobs: long or deferred work kept in the metadata store and run by leased workers (at least once)."""

from altostratus.jobs.doorbell import Doorbell
from altostratus.jobs.job import Job, JobIdConflict, JobNotFound, JobState, JobWaitTimeout, LeaseLost
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import (
    JobContext,
    JobHandler,
    JobRunner,
    LeasedJobContext,
    PermanentJobError,
    WorkerPool,
)

__all__ = [
    "Doorbell",
    "Job",
    "JobContext",
    "JobHandler",
    "JobIdConflict",
    "JobNotFound",
    "JobQueue",
    "JobRunner",
    "JobState",
    "JobWaitTimeout",
    "LeaseLost",
    "LeasedJobContext",
    "PermanentJobError",
    "WorkerPool",
]
