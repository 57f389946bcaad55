"""JobQueue: submission, the state machine, leases, retries with backoff, cancellation, waiting."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest

from altostratus.core.clock import Clock
from altostratus.core.errors import InvalidArgument
from altostratus.jobs import (
    JobIdConflict,
    JobNotFound,
    JobQueue,
    JobState,
    JobWaitTimeout,
    LeaseLost,
)

LEASE = 60.0
Advance = Callable[[float], None]


def seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


@pytest.mark.parametrize(
    ("state", "terminal"),
    [(JobState.PENDING, False), (JobState.INPROGRESS, False), (JobState.COMPLETED, True), (JobState.FAILED, True)],
)
def test_only_completed_and_failed_are_terminal(state: JobState, terminal: bool) -> None:
    assert state.is_terminal is terminal


def test_submit_creates_a_pending_job(queue: JobQueue, clock: Clock) -> None:
    job = queue.submit("train", {"epochs": 3, "layers": (8, 4)})

    assert job.state is JobState.PENDING
    assert (job.progress, job.message, job.result, job.attempts, job.max_attempts) == (0.0, "", None, 0, 3)
    assert job.payload == {"epochs": 3, "layers": [8, 4]}
    assert job.not_before == job.created_at == job.updated_at == clock.now()
    assert job.lease_owner is None and job.lease_expires_at is None and not job.cancel_requested
    assert queue.get(job.job_id) == job


def test_submit_gives_each_job_a_new_id(queue: JobQueue) -> None:
    ids = {queue.submit("train", {}).job_id for _ in range(20)}
    assert len(ids) == 20


def test_get_of_an_unknown_job_raises_job_not_found(queue: JobQueue) -> None:
    with pytest.raises(JobNotFound, match="'nope'") as info:
        queue.get("nope")
    assert (info.value.code, info.value.status) == ("ResourceNotFoundException", 404)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kind": ""}, "kind"),
        ({"kind": "k" * 65}, "kind"),
        ({"job_id": ""}, "job_id"),
        ({"job_id": "j" * 65}, "job_id"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"delay_seconds": -1}, "delay_seconds"),
        ({"payload": [1, 2]}, "payload"),
        ({"payload": {"when": dt.date(2030, 1, 1)}}, "payload"),
        ({"payload": {"loss": float("nan")}}, "payload"),
    ],
)
def test_submit_rejects_bad_arguments(unreachable_queue: JobQueue, arguments: dict[str, Any], field: str) -> None:
    given: dict[str, Any] = {"kind": "train", "payload": {}, **arguments}
    with pytest.raises(InvalidArgument, match=field):
        unreachable_queue.submit(given.pop("kind"), given.pop("payload"), **given)


def test_submitting_an_existing_id_again_returns_the_existing_job(queue: JobQueue, advance: Advance) -> None:
    first = queue.submit("train", {"layers": (8, 4)}, job_id="model-1")
    queue.claim("worker", ["train"], LEASE)
    advance(5)

    again = queue.submit("train", {"layers": [8, 4]}, job_id="model-1")

    assert again.job_id == first.job_id
    assert again.state is JobState.INPROGRESS
    assert [job.job_id for job in queue.list()] == ["model-1"]


@pytest.mark.parametrize(("kind", "payload"), [("train", {"layers": [8]}), ("predict", {"layers": [8, 4]})])
def test_submitting_an_existing_id_with_another_request_conflicts(
    queue: JobQueue, kind: str, payload: dict[str, Any]
) -> None:
    queue.submit("train", {"layers": [8, 4]}, job_id="model-1")
    with pytest.raises(JobIdConflict, match="model-1") as info:
        queue.submit(kind, payload, job_id="model-1")
    assert (info.value.code, info.value.status) == ("IdempotentParameterMismatchException", 409)


def test_list_filters_by_kind_and_state_newest_first(queue: JobQueue, advance: Advance) -> None:
    oldest = queue.submit("train", {}).job_id
    advance(1)
    middle = queue.submit("predict", {}).job_id
    advance(1)
    newest = queue.submit("train", {}).job_id
    queue.claim("worker", ["train"], LEASE)

    assert [job.job_id for job in queue.list()] == [newest, middle, oldest]
    assert [job.job_id for job in queue.list(kind="train")] == [newest, oldest]
    assert [job.job_id for job in queue.list(state=JobState.INPROGRESS)] == [oldest]
    assert [job.job_id for job in queue.list(kind="predict", state=JobState.INPROGRESS)] == []
    assert [job.job_id for job in queue.list(limit=1)] == [newest]
    with pytest.raises(InvalidArgument, match="limit=0"):
        queue.list(limit=0)


def test_a_job_goes_from_pending_through_inprogress_to_completed(queue: JobQueue, clock: Clock) -> None:
    job = queue.submit("train", {})

    claimed = queue.claim("worker-1", ["train"], LEASE)
    assert claimed is not None and claimed.job_id == job.job_id
    assert claimed.state is JobState.INPROGRESS
    assert (claimed.attempts, claimed.message) == (1, "attempt 1 of 3")
    assert (claimed.lease_owner, claimed.lease_expires_at) == ("worker-1", clock.now() + seconds(LEASE))
    assert queue.claim("worker-2", ["train"], LEASE) is None

    done = queue.complete(job.job_id, "worker-1", {"accuracy": 0.9})
    assert done.state is JobState.COMPLETED
    assert (done.progress, done.result, done.attempts) == (1.0, {"accuracy": 0.9}, 1)
    assert done.lease_owner is None and done.lease_expires_at is None
    assert queue.get(job.job_id) == done


def test_a_finished_job_cannot_be_settled_again(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    queue.claim("worker", ["train"], LEASE)
    queue.complete(job.job_id, "worker", "first")

    with pytest.raises(LeaseLost, match="COMPLETED") as info:
        queue.complete(job.job_id, "worker", "second")
    assert (info.value.code, info.value.status) == ("ConflictException", 409)
    with pytest.raises(LeaseLost):
        queue.fail(job.job_id, "worker", "late", retry=True)
    with pytest.raises(LeaseLost):
        queue.heartbeat(job.job_id, "worker", lease_seconds=LEASE)
    assert queue.get(job.job_id).result == "first"


def test_settling_or_cancelling_an_unknown_job_raises_job_not_found(queue: JobQueue) -> None:
    with pytest.raises(JobNotFound):
        queue.request_cancel("nope")
    with pytest.raises(JobNotFound):
        queue.complete("nope", "worker", None)
    with pytest.raises(JobNotFound):
        queue.heartbeat("nope", "worker", lease_seconds=LEASE)
    with pytest.raises(JobNotFound):
        queue.fail("nope", "worker", "boom", retry=True)


def test_a_result_that_is_not_json_is_rejected(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    queue.claim("worker", ["train"], LEASE)
    with pytest.raises(InvalidArgument, match="result"):
        queue.complete(job.job_id, "worker", {"model": object()})
    assert queue.get(job.job_id).state is JobState.INPROGRESS


def test_claim_takes_only_due_jobs_of_the_given_kinds(queue: JobQueue, advance: Advance) -> None:
    queue.submit("predict", {})
    later = queue.submit("train", {}, delay_seconds=30)

    assert queue.claim("worker", ["train"], LEASE) is None
    advance(29.9)
    assert queue.claim("worker", ["train"], LEASE) is None
    advance(0.1)
    claimed = queue.claim("worker", ["train", "other"], LEASE)
    assert claimed is not None and claimed.job_id == later.job_id


def test_claim_takes_the_job_due_first(queue: JobQueue, advance: Advance) -> None:
    second = queue.submit("train", {}, delay_seconds=5)
    first = queue.submit("train", {})
    advance(5)
    claimed = [queue.claim("worker", ["train"], LEASE) for _ in range(3)]
    assert [job.job_id if job else None for job in claimed] == [first.job_id, second.job_id, None]


@pytest.mark.parametrize(
    ("worker_id", "kinds", "lease_seconds", "field"),
    [("", ["train"], LEASE, "worker_id"), ("w", [], LEASE, "kinds"), ("w", ["train"], 0, "lease_seconds")],
)
def test_claim_rejects_bad_arguments(
    unreachable_queue: JobQueue, worker_id: str, kinds: list[str], lease_seconds: float, field: str
) -> None:
    with pytest.raises(InvalidArgument, match=field):
        unreachable_queue.claim(worker_id, kinds, lease_seconds)


def test_heartbeat_records_progress_and_extends_the_lease(queue: JobQueue, clock: Clock, advance: Advance) -> None:
    start = clock.now()
    job = queue.submit("train", {})
    queue.claim("worker-1", ["train"], LEASE)
    advance(50)

    beat = queue.heartbeat(job.job_id, "worker-1", lease_seconds=LEASE, progress=0.25, message="epoch 1 of 4")
    assert (beat.progress, beat.message) == (0.25, "epoch 1 of 4")
    assert beat.lease_expires_at == start + seconds(110)

    advance(30)  # past the first lease, inside the renewed one
    assert queue.claim("worker-2", ["train"], LEASE) is None
    beat = queue.heartbeat(job.job_id, "worker-1", lease_seconds=LEASE, progress=0.5)
    assert (beat.progress, beat.message) == (0.5, "epoch 1 of 4")


@pytest.mark.parametrize("progress", [-0.1, 1.5])
def test_heartbeat_rejects_progress_outside_zero_to_one(unreachable_queue: JobQueue, progress: float) -> None:
    with pytest.raises(InvalidArgument, match="progress"):
        unreachable_queue.heartbeat("job", "worker", lease_seconds=LEASE, progress=progress)


def test_only_the_lease_owner_may_heartbeat_or_settle(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    queue.claim("worker-1", ["train"], LEASE)
    with pytest.raises(LeaseLost, match="worker-1"):
        queue.heartbeat(job.job_id, "worker-2", lease_seconds=LEASE)
    with pytest.raises(LeaseLost):
        queue.complete(job.job_id, "worker-2", None)
    with pytest.raises(LeaseLost):
        queue.fail(job.job_id, "worker-2", "boom", retry=False)
    assert queue.get(job.job_id).lease_owner == "worker-1"


def test_failed_attempts_are_retried_with_exponential_backoff(queue: JobQueue, clock: Clock, advance: Advance) -> None:
    job = queue.submit("train", {}, max_attempts=4)
    now = clock.now()
    for attempt, backoff in [(1, 10.0), (2, 20.0), (3, 40.0)]:
        claimed = queue.claim("worker", ["train"], LEASE)
        assert claimed is not None and claimed.attempts == attempt
        failed = queue.fail(job.job_id, "worker", "disk full", retry=True)
        assert failed.state is JobState.PENDING
        assert failed.not_before == now + seconds(backoff)
        assert failed.message == f"attempt {attempt} of 4 failed: disk full; retrying in {backoff:g} s"
        assert failed.lease_owner is None
        advance(backoff - 0.5)
        assert queue.claim("worker", ["train"], LEASE) is None
        advance(0.5)
        now += seconds(backoff)

    assert queue.claim("worker", ["train"], LEASE) is not None
    failed = queue.fail(job.job_id, "worker", "disk full", retry=True)
    assert (failed.state, failed.message, failed.attempts) == (JobState.FAILED, "disk full", 4)
    advance(10_000)
    assert queue.claim("worker", ["train"], LEASE) is None


def test_fail_without_retry_ends_the_job_at_once(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    queue.claim("worker", ["train"], LEASE)
    failed = queue.fail(job.job_id, "worker", "bad input", retry=False)
    assert (failed.state, failed.message, failed.attempts) == (JobState.FAILED, "bad input", 1)


def test_cancelling_a_pending_job_fails_it_at_once(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    cancelled = queue.request_cancel(job.job_id)
    assert cancelled.state is JobState.FAILED and cancelled.cancel_requested
    assert cancelled.message == "cancelled before it started"
    assert queue.claim("worker", ["train"], LEASE) is None


def test_cancelling_a_running_job_flags_it_and_stops_retries(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    queue.claim("worker", ["train"], LEASE)

    flagged = queue.request_cancel(job.job_id)
    assert flagged.state is JobState.INPROGRESS and flagged.cancel_requested

    failed = queue.fail(job.job_id, "worker", "stopped on request", retry=True)
    assert (failed.state, failed.message) == (JobState.FAILED, "stopped on request")


def test_cancelling_a_finished_job_changes_nothing(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    queue.claim("worker", ["train"], LEASE)
    done = queue.complete(job.job_id, "worker", 1)
    assert queue.request_cancel(job.job_id) == done


def test_a_job_whose_worker_died_goes_to_another_worker_after_the_lease(queue: JobQueue, advance: Advance) -> None:
    job = queue.submit("train", {})
    queue.claim("dead-worker", ["train"], LEASE)  # and never heard from again

    advance(LEASE - 1)
    assert queue.claim("worker-2", ["train"], LEASE) is None
    advance(1)
    taken = queue.claim("worker-2", ["train"], LEASE)

    assert taken is not None and taken.job_id == job.job_id
    assert (taken.attempts, taken.lease_owner) == (2, "worker-2")
    assert taken.message == "attempt 2 of 3 (worker 'dead-worker' was lost: its lease expired)"
    with pytest.raises(LeaseLost):
        queue.complete(job.job_id, "dead-worker", "stale")
    assert queue.complete(job.job_id, "worker-2", "fresh").result == "fresh"


def test_a_worker_lost_on_the_last_attempt_fails_the_job(queue: JobQueue, advance: Advance) -> None:
    job = queue.submit("train", {}, max_attempts=1)
    queue.claim("dead-worker", ["train"], LEASE)
    advance(LEASE)

    assert queue.claim("worker-2", ["train"], LEASE) is None
    failed = queue.get(job.job_id)
    assert failed.state is JobState.FAILED
    assert failed.message == "failed: worker 'dead-worker' was lost (its lease expired) on attempt 1 of 1"
    assert failed.lease_owner is None


def test_a_lost_worker_of_a_cancelled_job_fails_it(queue: JobQueue, advance: Advance) -> None:
    job = queue.submit("train", {})
    queue.claim("dead-worker", ["train"], LEASE)
    queue.request_cancel(job.job_id)
    advance(LEASE)

    assert queue.claim("worker-2", ["train"], LEASE) is None
    assert queue.get(job.job_id).message.startswith("cancelled: worker 'dead-worker' was lost")


def test_wait_returns_the_job_once_it_finishes(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    queue.claim("worker", ["train"], LEASE)
    finisher = threading.Timer(0.2, queue.complete, args=(job.job_id, "worker", "done"))
    finisher.start()
    try:
        finished = queue.wait(job.job_id, timeout=5)
    finally:
        finisher.join()
    assert (finished.state, finished.result) == (JobState.COMPLETED, "done")


def test_wait_gives_up_after_the_timeout(queue: JobQueue) -> None:
    job = queue.submit("train", {})
    with pytest.raises(JobWaitTimeout, match="still PENDING") as info:
        queue.wait(job.job_id, timeout=0.1)
    assert isinstance(info.value, TimeoutError)
    assert info.value.details["job"].job_id == job.job_id
