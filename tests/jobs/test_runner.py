"""JobRunner and WorkerPool: handlers, progress, retries, permanent errors, cancellation, leases, threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from altostratus.core.clock import Clock, SystemClock
from altostratus.core.errors import ConfigurationError, Conflict, InvalidArgument
from altostratus.jobs import (
    JobContext,
    JobHandler,
    JobQueue,
    JobRunner,
    JobState,
    PermanentJobError,
    WorkerPool,
)
from altostratus.storage.metadata import MetadataStore

Advance = Callable[[float], None]


def runner(queue: JobQueue, clock: Clock, **handlers: JobHandler) -> JobRunner:
    return JobRunner(queue, handlers, lease_seconds=60, clock=clock)


def test_run_one_completes_the_job_with_the_handler_result(queue: JobQueue, clock: Clock) -> None:
    seen: list[tuple[str, dict[str, Any], int]] = []

    def add(context: JobContext) -> dict[str, int]:
        seen.append((context.job_id, dict(context.payload), context.attempt))
        return {"sum": context.payload["a"] + context.payload["b"]}

    job = queue.submit("add", {"a": 1, "b": 2})
    run = runner(queue, clock, add=add)

    assert run.run_one("worker") is True
    assert run.run_one("worker") is False
    done = queue.get(job.job_id)
    assert (done.state, done.result, done.progress) == (JobState.COMPLETED, {"sum": 3}, 1.0)
    assert seen == [(job.job_id, {"a": 1, "b": 2}, 1)]


def test_progress_and_messages_are_visible_while_the_handler_runs(queue: JobQueue, clock: Clock) -> None:
    observed = []

    def train(context: JobContext) -> None:
        for epoch in (1, 2):
            context.report_progress(epoch / 4, f"epoch {epoch} of 4")
            job = queue.get(context.job_id)
            observed.append((job.state, job.progress, job.message))

    job = queue.submit("train", {})
    runner(queue, clock, train=train).run_one("worker")

    assert observed == [
        (JobState.INPROGRESS, 0.25, "epoch 1 of 4"),
        (JobState.INPROGRESS, 0.5, "epoch 2 of 4"),
    ]
    done = queue.get(job.job_id)
    assert (done.state, done.progress, done.message) == (JobState.COMPLETED, 1.0, "epoch 2 of 4")


def test_a_raising_handler_is_retried_after_the_backoff(queue: JobQueue, clock: Clock, advance: Advance) -> None:
    def flaky(context: JobContext) -> str:
        if context.attempt < 3:
            raise OSError(f"network down on attempt {context.attempt}")
        return "finally"

    job = queue.submit("flaky", {})
    run = runner(queue, clock, flaky=flaky)

    run.run_one("worker")
    retrying = queue.get(job.job_id)
    assert retrying.state is JobState.PENDING
    assert retrying.message == "attempt 1 of 3 failed: OSError: network down on attempt 1; retrying in 10 s"
    assert run.run_one("worker") is False
    advance(10)
    run.run_one("worker")
    advance(20)
    run.run_one("worker")

    done = queue.get(job.job_id)
    assert (done.state, done.result, done.attempts) == (JobState.COMPLETED, "finally", 3)


def test_a_handler_that_keeps_raising_fails_with_the_error_text(
    queue: JobQueue, clock: Clock, advance: Advance
) -> None:
    def broken(context: JobContext) -> None:
        raise RuntimeError("out of memory")

    job = queue.submit("broken", {}, max_attempts=2)
    run = runner(queue, clock, broken=broken)
    run.run_one("worker")
    advance(10)
    run.run_one("worker")

    failed = queue.get(job.job_id)
    assert (failed.state, failed.message, failed.attempts) == (JobState.FAILED, "RuntimeError: out of memory", 2)


@pytest.mark.parametrize(
    "error",
    [PermanentJobError("the input file is corrupt"), InvalidArgument("learning_rate=-1; expected > 0")],
    ids=["permanent", "client-error"],
)
def test_permanent_and_client_errors_fail_without_retry(queue: JobQueue, clock: Clock, error: Exception) -> None:
    def doomed(context: JobContext) -> None:
        raise error

    job = queue.submit("doomed", {})
    runner(queue, clock, doomed=doomed).run_one("worker")

    failed = queue.get(job.job_id)
    assert (failed.state, failed.attempts) == (JobState.FAILED, 1)
    assert failed.message == f"{type(error).__name__}: {error}"


def test_a_result_that_is_not_json_fails_the_job(queue: JobQueue, clock: Clock) -> None:
    job = queue.submit("odd", {})
    runner(queue, clock, odd=lambda context: {"model": object()}).run_one("worker")

    failed = queue.get(job.job_id)
    assert (failed.state, failed.attempts) == (JobState.FAILED, 1)
    assert failed.message.startswith("result is not JSON-serializable")


def test_a_handler_sees_a_cancel_request_and_is_not_retried(queue: JobQueue, clock: Clock) -> None:
    checks = []

    def long_task(context: JobContext) -> None:
        checks.append(context.is_cancel_requested())
        queue.request_cancel(context.job_id)
        checks.append(context.is_cancel_requested())
        raise RuntimeError("stopped on request")

    job = queue.submit("long", {})
    runner(queue, clock, long=long_task).run_one("worker")

    assert checks == [False, True]
    failed = queue.get(job.job_id)
    assert (failed.state, failed.message) == (JobState.FAILED, "RuntimeError: stopped on request")
    assert failed.cancel_requested


def test_a_worker_that_lost_its_lease_stops_and_its_outcome_is_dropped(
    queue: JobQueue, clock: Clock, advance: Advance
) -> None:
    def stalled(context: JobContext) -> str:
        advance(61)  # the worker stalls past its lease and another one takes the job
        assert queue.claim("worker-2", ["stalled"], 60) is not None
        assert context.is_cancel_requested()
        return "too late"

    job = queue.submit("stalled", {})
    assert runner(queue, clock, stalled=stalled).run_one("worker-1") is True

    taken = queue.get(job.job_id)
    assert (taken.state, taken.lease_owner, taken.attempts, taken.result) == (
        JobState.INPROGRESS,
        "worker-2",
        2,
        None,
    )


def test_a_runner_refuses_a_job_of_a_kind_it_has_no_handler_for(queue: JobQueue, clock: Clock) -> None:
    queue.submit("other", {})
    job = queue.claim("worker", ["other"], 60)
    assert job is not None
    with pytest.raises(ConfigurationError, match="kind='other'"):
        runner(queue, clock, train=lambda context: None).run(job, "worker")


def test_the_heartbeat_keeps_a_job_longer_than_its_lease(store: MetadataStore) -> None:
    queue = JobQueue(store, SystemClock())
    stolen = []

    def slow(context: JobContext) -> str:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            stolen.append(queue.claim("thief", ["slow"], 1.0))
            time.sleep(0.05)
        return "done"

    job = queue.submit("slow", {})
    assert JobRunner(queue, {"slow": slow}, lease_seconds=1.0, clock=SystemClock()).run_one("worker")

    assert stolen and not any(stolen)
    done = queue.get(job.job_id)
    assert (done.state, done.attempts, done.result) == (JobState.COMPLETED, 1, "done")


def test_a_worker_pool_runs_submitted_jobs_on_its_threads(store: MetadataStore) -> None:
    queue = JobQueue(store, SystemClock())
    threads = set()

    def square(context: JobContext) -> int:
        threads.add(threading.current_thread().name)
        time.sleep(0.01)
        return int(context.payload["n"]) ** 2

    pool = WorkerPool(queue, {"square": square}, workers=3, poll_interval=0.02, clock=SystemClock())
    pool.start()
    try:
        ids = [queue.submit("square", {"n": n}).job_id for n in range(30)]
        results = [queue.wait(job_id, timeout=10).result for job_id in ids]
    finally:
        assert pool.stop(timeout=5) is True

    assert results == [n * n for n in range(30)]
    assert threads <= {"job-worker-0", "job-worker-1", "job-worker-2"}


def test_stop_lets_the_running_job_finish_and_reports_busy_workers(store: MetadataStore) -> None:
    queue = JobQueue(store, SystemClock())
    started, release = threading.Event(), threading.Event()
    workers: list[threading.Thread] = []

    def blocking(context: JobContext) -> str:
        workers.append(threading.current_thread())
        started.set()
        release.wait(5)
        return "finished"

    pool = WorkerPool(queue, {"blocking": blocking}, workers=1, poll_interval=0.02, clock=SystemClock())
    job = queue.submit("blocking", {})
    pool.start()
    assert started.wait(5)

    assert pool.stop(timeout=0.1) is False
    release.set()
    assert queue.wait(job.job_id, timeout=5).result == "finished"
    # The worker may still be handing its connection back after the commit the wait saw: let it end before the
    # store is closed, or the connection goes back to a disposed pool and is left open.
    (worker,) = workers
    worker.join(5)
    assert not worker.is_alive()


def test_starting_a_running_pool_conflicts(queue: JobQueue, clock: Clock) -> None:
    pool = WorkerPool(queue, {"noop": lambda context: None}, workers=1, clock=clock)
    pool.start()
    try:
        with pytest.raises(Conflict, match="running already"):
            pool.start()
    finally:
        assert pool.stop(timeout=5)
    pool.start()  # a stopped pool starts again
    assert pool.stop(timeout=5)


def test_a_pool_runs_one_job_synchronously_without_threads(queue: JobQueue, clock: Clock) -> None:
    job = queue.submit("noop", {})
    pool = WorkerPool(queue, {"noop": lambda context: "ran"}, clock=clock)
    assert pool.run_one("worker") is True
    assert queue.get(job.job_id).result == "ran"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"handlers": {}}, "handlers"),
        ({"workers": 0}, "workers"),
        ({"lease_seconds": 0}, "lease_seconds"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_a_pool_rejects_bad_configuration(
    unreachable_queue: JobQueue, clock: Clock, arguments: dict[str, Any], field: str
) -> None:
    given: dict[str, Any] = {"handlers": {"noop": lambda context: None}, **arguments}
    with pytest.raises(ConfigurationError, match=field):
        WorkerPool(unreachable_queue, given.pop("handlers"), clock=clock, **given)
