"""The job queue: jobs kept in the metadata store, claimed by workers under time-limited leases.

Every change a worker makes is a conditional UPDATE (`WHERE job_id = :id AND <the state it expects>`)
that touches one row or none, and none means it lost: the same code is safe on SQLite and on PostgreSQL
and no two workers ever hold the same job. Delivery is at least once: a worker that dies (or stalls past its lease)
loses the job to the next worker that claims it, so handlers must tolerate running again.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Connection, and_, bindparam, case, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from altostratus.core.clock import Clock
from altostratus.core.errors import InvalidArgument
from altostratus.core.ids import short_id
from altostratus.core.waiting import wait_for
from altostratus.jobs.doorbell import Doorbell
from altostratus.jobs.job import Job, JobIdConflict, JobNotFound, JobState, JobWaitTimeout, LeaseLost
from altostratus.jobs.tables import jobs
from altostratus.storage.metadata import MetadataStore

MAX_ID_LENGTH = 64  # job ids and kinds (String(64) columns)
MAX_WORKER_ID_LENGTH = 128  # lease_owner is String(128)
MAX_LIST_LIMIT = 1000
# Built once: building a statement costs more than running it on SQLite, and these run on every submit.
_INSERT = insert(jobs)
_FETCH = select(jobs).where(jobs.c.job_id == bindparam("job_id"))


class JobQueue:
    """Submit, inspect, claim and settle jobs kept in the metadata store."""

    def __init__(
        self,
        store: MetadataStore,
        clock: Clock,
        *,
        retry_backoff_seconds: float = 1.0,
        doorbell: Doorbell | None = None,
    ) -> None:
        _require(retry_backoff_seconds >= 0, f"retry_backoff_seconds={retry_backoff_seconds!r}; expected >= 0")
        self._store = store
        self._clock = clock
        self._backoff = retry_backoff_seconds
        # Rung by submit; this process's WorkerPools wait on it between polls.
        self.doorbell = doorbell or Doorbell()

    def submit(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        max_attempts: int = 3,
        delay_seconds: float = 0,
        job_id: str | None = None,
    ) -> Job:
        """A new PENDING job; with a `job_id` that exists already, that job (JobIdConflict if it differs)."""
        _check_name("kind", kind, MAX_ID_LENGTH)
        if job_id is not None:
            _check_name("job_id", job_id, MAX_ID_LENGTH)
        _require(max_attempts >= 1, f"max_attempts={max_attempts!r}; expected an integer >= 1")
        _require(delay_seconds >= 0, f"delay_seconds={delay_seconds!r}; expected >= 0")
        _require(isinstance(payload, Mapping), f"payload={payload!r}; expected a JSON object (a mapping)")
        now = self._clock.now()
        row: dict[str, Any] = {
            "job_id": job_id or short_id(20),
            "kind": kind,
            "payload": _as_json("payload", payload),
            "state": JobState.PENDING,
            "progress": 0.0,
            "message": "",
            "result": None,
            "attempts": 0,
            "max_attempts": max_attempts,
            "cancel_requested": False,
            "lease_owner": None,
            "lease_expires_at": None,
            "not_before": now + dt.timedelta(seconds=delay_seconds),
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._store.begin() as db:
                existing = _fetch(db, row["job_id"])
                if existing is None:
                    db.execute(_INSERT, row)
        except IntegrityError:
            # A concurrent submit of the same id committed between our read and our insert.
            existing = self.get(row["job_id"])
        if existing is None:
            if delay_seconds == 0:
                self.doorbell.ring()
            else:
                self.doorbell.ring_later(delay_seconds)
            return _to_job(row)
        if existing.kind != kind or existing.payload != row["payload"]:
            raise JobIdConflict(
                f"job_id={existing.job_id!r} exists with kind {existing.kind!r} and another payload; "
                "an id may only be submitted again with the same kind and payload"
            )
        return existing

    def get(self, job_id: str) -> Job:
        """The job with this id; JobNotFound when there is none."""
        with self._store.begin() as db:
            job = _fetch(db, job_id)
        if job is None:
            raise JobNotFound(f"job_id={job_id!r} does not exist")
        return job

    def states(self, job_ids: Collection[str]) -> dict[str, tuple[JobState, str]]:
        """The state and message of each job named that exists, by id (a service's records keyed by job id)."""
        found: dict[str, tuple[JobState, str]] = {}
        ids = list(job_ids)
        with self._store.begin() as db:
            for start in range(0, len(ids), 500):
                query = select(jobs.c.job_id, jobs.c.state, jobs.c.message).where(
                    jobs.c.job_id.in_(ids[start : start + 500])
                )
                found.update({row.job_id: (JobState(row.state), row.message) for row in db.execute(query)})
        return found

    def list(self, *, kind: str | None = None, state: JobState | None = None, limit: int = 100) -> builtins.list[Job]:
        """Jobs, newest first, optionally only those of one kind and/or in one state."""
        _require(1 <= limit <= MAX_LIST_LIMIT, f"limit={limit!r}; expected 1 to {MAX_LIST_LIMIT}")
        query = select(jobs).order_by(jobs.c.created_at.desc(), jobs.c.job_id.desc()).limit(limit)
        if kind is not None:
            query = query.where(jobs.c.kind == kind)
        if state is not None:
            query = query.where(jobs.c.state == state)
        with self._store.begin() as db:
            rows = db.execute(query).all()
        return [_to_job(row._mapping) for row in rows]

    def claim(self, worker_id: str, kinds: Collection[str], lease_seconds: float) -> Job | None:
        """Take one runnable job of these kinds for `worker_id`, leased for `lease_seconds`; None if none.

        Runnable: PENDING and due, or INPROGRESS with an expired lease (its worker was lost). An expired
        job with no attempts left, or with a cancel request, becomes FAILED instead of being taken.
        """
        _check_name("worker_id", worker_id, MAX_WORKER_ID_LENGTH)
        _require(len(kinds) > 0, "kinds=[]; expected at least one job kind")
        _require(lease_seconds > 0, f"lease_seconds={lease_seconds!r}; expected > 0")
        now = self._clock.now()
        with self._store.begin() as db:
            while (row := db.execute(_HEAD, {"kinds": sorted(kinds), "now": now}).first()) is not None:
                job = _to_job(row._mapping)
                if job.attempts >= job.max_attempts or job.cancel_requested:
                    if not _fail_abandoned(db, job, now):
                        return None
                    continue
                return _take(db, job, worker_id, now, lease_seconds)
        return None

    def heartbeat(
        self,
        job_id: str,
        worker_id: str,
        *,
        lease_seconds: float,
        progress: float | None = None,
        message: str | None = None,
    ) -> Job:
        """Extend the lease by `lease_seconds` from now and record progress; LeaseLost if it was lost."""
        _require(lease_seconds > 0, f"lease_seconds={lease_seconds!r}; expected > 0")
        now = self._clock.now()
        values: dict[str, Any] = {"lease_expires_at": now + dt.timedelta(seconds=lease_seconds), "updated_at": now}
        if progress is not None:
            _require(0.0 <= progress <= 1.0, f"progress={progress!r}; expected a fraction from 0 to 1")
            values["progress"] = float(progress)
        if message is not None:
            values["message"] = message
        return self._settle(job_id, worker_id, values)

    def complete(self, job_id: str, worker_id: str, result: Any = None) -> Job:
        """Mark the job COMPLETED with a JSON-able result; LeaseLost if the worker no longer holds it."""
        values = {
            "state": JobState.COMPLETED,
            "progress": 1.0,
            "result": _as_json("result", result),
            **_released(self._clock.now()),
        }
        return self._settle(job_id, worker_id, values)

    def fail(self, job_id: str, worker_id: str, error_message: str, *, retry: bool) -> Job:
        """Record a failed attempt: back to PENDING after a backoff when `retry` and attempts remain, else FAILED.

        The backoff before attempt n+1 is `retry_backoff_seconds * 2 ** (n - 1)`. A job whose cancel was
        requested is never retried.
        """
        job = self.get(job_id)
        delay = None
        if retry and job.attempts < job.max_attempts and not job.cancel_requested:
            delay = self._backoff * 2 ** (job.attempts - 1)
            now = self._clock.now()
            values: dict[str, Any] = {
                "state": JobState.PENDING,
                "not_before": now + dt.timedelta(seconds=delay),
                "message": (
                    f"attempt {job.attempts} of {job.max_attempts} failed: {error_message}; retrying in {delay:g} s"
                ),
                **_released(now),
            }
        else:
            values = {"state": JobState.FAILED, "message": error_message, **_released(self._clock.now())}
        # Pinning the attempt count makes the decision above stale-proof: a re-claim in between loses it.
        settled = self._settle(job_id, worker_id, values, jobs.c.attempts == job.attempts)
        if delay is not None:
            self.doorbell.ring_later(delay)  # an idle worker takes the retry when it is due, not at its next poll
        return settled

    def request_cancel(self, job_id: str) -> Job:
        """Ask for the job to stop: a PENDING job becomes FAILED now, a running one is flagged for its handler.

        A handler sees the flag through `JobContext.is_cancel_requested()`; a flagged job is not retried.
        Cancelling a finished job changes nothing.
        """
        now = self._clock.now()
        pending = jobs.c.state == JobState.PENDING
        with self._store.begin() as db:
            db.execute(
                update(jobs)
                .where(jobs.c.job_id == job_id, jobs.c.state.in_([JobState.PENDING, JobState.INPROGRESS]))
                .values(
                    cancel_requested=True,
                    state=case((pending, JobState.FAILED.value), else_=jobs.c.state),
                    message=case((pending, "cancelled before it started"), else_=jobs.c.message),
                    updated_at=now,
                )
            )
            job = _fetch(db, job_id)
        if job is None:
            raise JobNotFound(f"job_id={job_id!r} does not exist")
        return job

    def wait(self, job_id: str, timeout: float, *, poll_interval: float = 0.05) -> Job:
        """Poll until the job is COMPLETED or FAILED and return it; JobWaitTimeout after `timeout` seconds."""

        def timed_out(job: Job) -> JobWaitTimeout:
            message = f"job_id={job_id!r} still {job.state} after {timeout:g} s ({job.progress:.0%}: {job.message})"
            return JobWaitTimeout(message, job=job)

        return wait_for(
            lambda: self.get(job_id),
            lambda job: job.state.is_terminal,
            timeout=timeout,
            interval=poll_interval,
            on_timeout=timed_out,
        )

    def _settle(self, job_id: str, worker_id: str, values: Mapping[str, Any], *conditions: ColumnElement[bool]) -> Job:
        """Apply `values` if `worker_id` still holds the job's lease; the updated job, else LeaseLost."""
        held = and_(jobs.c.state == JobState.INPROGRESS, jobs.c.lease_owner == worker_id, *conditions)
        with self._store.begin() as db:
            changed = db.execute(
                update(jobs).where(jobs.c.job_id == job_id, held).values(**values).returning(*jobs.c)
            ).first()
            if changed is not None:
                return _to_job(changed._mapping)
            job = _fetch(db, job_id)
        if job is None:
            raise JobNotFound(f"job_id={job_id!r} does not exist")
        raise LeaseLost(
            f"worker_id={worker_id!r} does not hold the lease on job_id={job_id!r} "
            f"(it is {job.state}, leased to {job.lease_owner!r})"
        )


def _claimable(now: dt.datetime | BindParameter[dt.datetime]) -> ColumnElement[bool]:
    """PENDING and due, or INPROGRESS under an expired lease, with attempts left and no cancel request."""
    return and_(
        or_(
            and_(jobs.c.state == JobState.PENDING, jobs.c.not_before <= now),
            and_(jobs.c.state == JobState.INPROGRESS, jobs.c.lease_expires_at <= now),
        ),
        jobs.c.attempts < jobs.c.max_attempts,
        jobs.c.cancel_requested.is_(False),
    )


def _abandoned(now: dt.datetime | BindParameter[dt.datetime]) -> ColumnElement[bool]:
    """INPROGRESS under an expired lease, and out of attempts or asked to cancel: to be FAILED."""
    return and_(
        jobs.c.state == JobState.INPROGRESS,
        jobs.c.lease_expires_at <= now,
        or_(jobs.c.attempts >= jobs.c.max_attempts, jobs.c.cancel_requested.is_(True)),
    )


# The head of the queue for `claim`, built once (see _INSERT); parameters `kinds` and `now`. SKIP LOCKED
# (PostgreSQL; SQLite ignores it and runs one writer at a time anyway) sends racing workers to different rows
# instead of queueing them on the head of the queue. It only saves time: the conditional UPDATEs of _take and
# _fail_abandoned are what make a claim exclusive.
_NOW: BindParameter[dt.datetime] = bindparam("now")
_HEAD = (
    select(jobs)
    .where(jobs.c.kind.in_(bindparam("kinds", expanding=True)), or_(_claimable(_NOW), _abandoned(_NOW)))
    .order_by(jobs.c.not_before, jobs.c.created_at, jobs.c.job_id)
    .limit(1)
    .with_for_update(skip_locked=True)
)


def _take(db: Connection, job: Job, worker_id: str, now: dt.datetime, lease_seconds: float) -> Job | None:
    """Claim a claimable job for `worker_id`; None if another worker changed it first."""
    message = f"attempt {job.attempts + 1} of {job.max_attempts}"
    if job.state is JobState.INPROGRESS:
        message += f" (worker {job.lease_owner!r} was lost: its lease expired)"
    won = db.execute(
        update(jobs)
        .where(jobs.c.job_id == job.job_id, jobs.c.attempts == job.attempts, _claimable(now))
        .values(
            state=JobState.INPROGRESS,
            attempts=job.attempts + 1,
            progress=0.0,
            message=message,
            lease_owner=worker_id,
            lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(*jobs.c)
    ).first()
    return _to_job(won._mapping) if won is not None else None


def _fail_abandoned(db: Connection, job: Job, now: dt.datetime) -> bool:
    """FAIL a job whose worker was lost with no retry left; False if another worker changed it first."""
    reason = "cancelled" if job.cancel_requested else "failed"
    message = (
        f"{reason}: worker {job.lease_owner!r} was lost (its lease expired) "
        f"on attempt {job.attempts} of {job.max_attempts}"
    )
    done = db.execute(
        update(jobs)
        .where(jobs.c.job_id == job.job_id, jobs.c.attempts == job.attempts, _abandoned(now))
        .values(state=JobState.FAILED, message=message, **_released(now))
    )
    return done.rowcount == 1


def _released(now: dt.datetime) -> dict[str, Any]:
    return {"lease_owner": None, "lease_expires_at": None, "updated_at": now}


def _fetch(db: Connection, job_id: str) -> Job | None:
    row = db.execute(_FETCH, {"job_id": job_id}).first()
    return _to_job(row._mapping) if row is not None else None


def _to_job(row: Mapping[Any, Any]) -> Job:
    return Job(
        job_id=row["job_id"],
        kind=row["kind"],
        payload=row["payload"],
        state=JobState(row["state"]),
        progress=row["progress"],
        message=row["message"],
        result=row["result"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        cancel_requested=bool(row["cancel_requested"]),
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        not_before=row["not_before"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _as_json(field: str, value: Any) -> Any:
    """`value` as it will read back from the database (tuples become lists); InvalidArgument if not JSON."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise InvalidArgument(f"{field} is not JSON-serializable: {error}") from None


def _check_name(field: str, value: str, max_length: int) -> None:
    ok = isinstance(value, str) and 1 <= len(value) <= max_length
    _require(ok, f"{field}={value!r}; expected a string of 1 to {max_length} characters")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidArgument(message)
