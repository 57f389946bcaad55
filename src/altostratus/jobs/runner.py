"""Running jobs: the handler contract, `JobRunner` for one claimed job, `WorkerPool` of threads driving it.

`JobRunner` holds everything about running one job (heartbeat, progress, outcome), so another driver
(a Dask runner) reuses it unchanged; `WorkerPool` only adds threads that claim and run in a loop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Protocol

from altostratus.core.clock import Clock
from altostratus.core.errors import AltoError, ConfigurationError, Conflict, InvalidArgument
from altostratus.core.ids import short_id
from altostratus.jobs.job import Job, JobState, LeaseLost
from altostratus.jobs.queue import JobQueue

log = logging.getLogger(__name__)


class JobContext(Protocol):
    """What a handler sees of the job it runs."""

    @property
    def job_id(self) -> str:
        """The job's id."""
        ...

    @property
    def payload(self) -> Mapping[str, Any]:
        """The payload the job was submitted with."""
        ...

    @property
    def attempt(self) -> int:
        """Which attempt this is, from 1; above 1 the job ran before and may have left partial work."""
        ...

    def report_progress(self, fraction: float, message: str | None = None) -> None:
        """Record progress (0 to 1) and optionally a message; one database write, so call it at checkpoints."""
        ...

    def is_cancel_requested(self) -> bool:
        """True once someone asked to cancel the job (or this worker lost it): stop and raise soon."""
        ...


class JobHandler(Protocol):
    """Does the work of one kind of job and returns a JSON-able result.

    A raised exception fails the attempt; it is retried with backoff unless it is a PermanentJobError
    or a client error (an AltoError with a 4xx status), which no retry would fix. Delivery is at least
    once: a handler may run again for the same job after a crash, so it should be idempotent.
    """

    def __call__(self, context: JobContext, /) -> Any:
        """Run the job; the return value becomes the job's result."""
        ...


class PermanentJobError(Exception):
    """Raised by a handler for a failure another attempt would not fix: the job fails without retry."""


class LeasedJobContext:
    """The JobContext of a job claimed by one worker under a lease."""

    def __init__(self, queue: JobQueue, job: Job, worker_id: str, lease_seconds: float) -> None:
        self._queue = queue
        self._job = job
        self._worker_id = worker_id
        self._lease_seconds = lease_seconds
        self._lost = threading.Event()

    @property
    def job_id(self) -> str:
        """The job's id."""
        return self._job.job_id

    @property
    def payload(self) -> Mapping[str, Any]:
        """The payload the job was submitted with."""
        return self._job.payload

    @property
    def attempt(self) -> int:
        """Which attempt this is, from 1."""
        return self._job.attempts

    def report_progress(self, fraction: float, message: str | None = None) -> None:
        """Record progress (0 to 1) and optionally a message, extending the lease."""
        self._renew(progress=fraction, message=message)

    def is_cancel_requested(self) -> bool:
        """True once a cancel was requested or this worker no longer holds the job."""
        if self._lost.is_set():
            return True
        job = self._queue.get(self._job.job_id)
        if job.state is not JobState.INPROGRESS or job.lease_owner != self._worker_id:
            self._lost.set()
            return True
        return job.cancel_requested

    def keep_alive(self, stop: threading.Event, interval: float) -> None:
        """Renew the lease every `interval` seconds until `stop` is set or the lease is lost."""
        while not stop.wait(interval) and not self._lost.is_set():
            try:
                self._renew()
            except Exception:
                # A database hiccup: the next beat may succeed before the lease runs out.
                log.warning("job %s: heartbeat failed", self.job_id, exc_info=True)

    def _renew(self, progress: float | None = None, message: str | None = None) -> None:
        try:
            self._queue.heartbeat(
                self.job_id,
                self._worker_id,
                lease_seconds=self._lease_seconds,
                progress=progress,
                message=message,
            )
        except LeaseLost:
            log.warning("job %s: worker %s lost its lease", self.job_id, self._worker_id)
            self._lost.set()


class JobRunner:
    """Claims one job, runs its handler with a heartbeat beside it, and records how it ended."""

    def __init__(
        self, queue: JobQueue, handlers: Mapping[str, JobHandler], *, lease_seconds: float = 60.0, clock: Clock
    ) -> None:
        if not handlers:
            raise ConfigurationError("handlers={}; expected at least one job kind with its handler")
        if lease_seconds <= 0:
            raise ConfigurationError(f"lease_seconds={lease_seconds!r}; expected > 0")
        self._queue = queue
        self._handlers = dict(handlers)
        self._lease_seconds = lease_seconds
        self._clock = clock

    def run_one(self, worker_id: str) -> bool:
        """Claim a job of a kind with a handler and run it to its outcome; False when none was runnable."""
        job = self._queue.claim(worker_id, self._handlers.keys(), self._lease_seconds)
        if job is None:
            return False
        self.run(job, worker_id)
        return True

    def run(self, job: Job, worker_id: str) -> Job | None:
        """Run a job `worker_id` has claimed; the job as settled, or None if the lease was lost meanwhile."""
        handler = self._handlers.get(job.kind)
        if handler is None:
            raise ConfigurationError(f"kind={job.kind!r} has no handler here; expected one of {sorted(self._handlers)}")
        context = LeasedJobContext(self._queue, job, worker_id, self._lease_seconds)
        started = self._clock.monotonic()
        error: Exception | None = None
        result: Any = None
        with _heartbeat(context, interval=self._lease_seconds / 3):
            try:
                result = handler(context)
            except Exception as caught:
                log.warning("job %s (%s) attempt %d raised", job.job_id, job.kind, job.attempts, exc_info=True)
                error = caught
        try:
            settled = self._settle(job, worker_id, result, error)
        except LeaseLost as lost:
            log.warning("job %s: outcome discarded: %s", job.job_id, lost)
            return None
        elapsed = self._clock.monotonic() - started
        log.info("job %s (%s) is %s after %.3f s", job.job_id, job.kind, settled.state, elapsed)
        return settled

    def _settle(self, job: Job, worker_id: str, result: Any, error: Exception | None) -> Job:
        if error is not None:
            retry = not isinstance(error, PermanentJobError) and not _is_client_error(error)
            return self._queue.fail(job.job_id, worker_id, f"{type(error).__name__}: {error}", retry=retry)
        try:
            return self._queue.complete(job.job_id, worker_id, result)
        except InvalidArgument as invalid:  # the handler returned something that is not JSON
            return self._queue.fail(job.job_id, worker_id, invalid.message, retry=False)


class WorkerPool:
    """Daemon threads that each claim and run jobs until stopped; the in-process job runner.

    Idle workers wake when this process submits a job (at once, or when a delayed job or a retry is due:
    the queue's doorbell) and otherwise poll the database every `poll_interval` seconds, for jobs other
    processes submitted and leases lost workers left. Two seconds, not less: a server has about ten
    workers, and at 0.2 s their polls took 5% of a core while idle and competed with requests.
    """

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, JobHandler],
        *,
        workers: int = 2,
        lease_seconds: float = 60.0,
        poll_interval: float = 2.0,
        clock: Clock,
    ) -> None:
        if workers < 1:
            raise ConfigurationError(f"workers={workers!r}; expected an integer >= 1")
        if poll_interval <= 0:
            raise ConfigurationError(f"poll_interval={poll_interval!r}; expected > 0")
        self._runner = JobRunner(queue, handlers, lease_seconds=lease_seconds, clock=clock)
        self._doorbell = queue.doorbell
        self._workers = workers
        self._poll_interval = poll_interval
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def run_one(self, worker_id: str) -> bool:
        """Claim and run one job in the calling thread; False when none was runnable."""
        return self._runner.run_one(worker_id)

    def start(self) -> None:
        """Start the worker threads; Conflict if they are running already."""
        if self._threads:
            raise Conflict("the worker pool is running already; stop() it first")
        # Worker ids are fresh on every start, so no two live workers ever share one (leases rely on it).
        prefix = f"{socket.gethostname()}:{os.getpid()}:{short_id(6)}"
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._work, args=(f"{prefix}-{n}", self._stopping), name=f"job-worker-{n}", daemon=True
            )
            for n in range(self._workers)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 30.0) -> bool:
        """Let each worker finish its current job, then end; False if some were still busy after `timeout`.

        A job still running when the process exits is picked up again by the next worker once its
        lease expires.
        """
        self._stopping.set()
        self._doorbell.ring(everyone=True)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stopped = not any(thread.is_alive() for thread in self._threads)
        self._threads = []
        return stopped

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _work(self, worker_id: str, stopping: threading.Event) -> None:
        while not stopping.is_set():
            rings = self._doorbell.rings
            try:
                ran = self._runner.run_one(worker_id)
            except Exception:
                # The database was unreachable, say; a job left half-settled is retried after its lease.
                log.exception("worker %s: claiming or settling a job failed", worker_id)
                ran = False
            if not ran and not stopping.is_set():
                # A job submitted in this process rings (when due); other processes' jobs wait for the poll.
                self._doorbell.wait(rings, self._poll_interval)


@contextmanager
def _heartbeat(context: LeasedJobContext, interval: float) -> Iterator[None]:
    """Keep the context's lease alive from a daemon thread while the block runs."""
    stop = threading.Event()
    thread = threading.Thread(
        target=context.keep_alive, args=(stop, interval), name=f"job-heartbeat-{context.job_id}", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _is_client_error(error: Exception) -> bool:
    return isinstance(error, AltoError) and 400 <= error.status < 500
