"""The doorbell: a job submitted in this process wakes an idle worker at once; polling covers other processes."""

from __future__ import annotations

import threading
import time

from altostratus.core.clock import SystemClock
from altostratus.jobs import Doorbell, JobContext, JobQueue, WorkerPool
from altostratus.storage.metadata import MetadataStore

LONG_POLL = 30.0


def test_a_ring_after_the_count_was_read_is_never_missed() -> None:
    bell = Doorbell()
    seen = bell.rings
    bell.ring()

    started = time.monotonic()
    assert bell.wait(seen, timeout=5) is True
    assert time.monotonic() - started < 1
    assert bell.wait(bell.rings, timeout=0.05) is False


def test_one_ring_wakes_one_waiter_and_everyone_wakes_all() -> None:
    bell = Doorbell()
    seen = bell.rings
    woken: list[str] = []
    waiters = [
        threading.Thread(target=lambda n=n: bell.wait(seen, timeout=5) and woken.append(f"w{n}")) for n in range(3)
    ]
    for thread in waiters:
        thread.start()
    time.sleep(0.2)  # all three are waiting

    bell.ring()
    time.sleep(0.2)
    assert len(woken) == 1
    bell.ring(everyone=True)
    for thread in waiters:
        thread.join(5)
    assert len(woken) == 3


def test_an_idle_pool_runs_a_job_submitted_in_process_without_waiting_for_its_poll(store: MetadataStore) -> None:
    queue = JobQueue(store, SystemClock())
    ran = threading.Event()

    def note(context: JobContext) -> None:
        ran.set()

    with WorkerPool(queue, {"note": note}, workers=2, poll_interval=LONG_POLL, clock=SystemClock()):
        time.sleep(0.3)  # both workers found nothing and sleep for LONG_POLL now
        submitted = time.monotonic()
        queue.submit("note", {})
        assert ran.wait(5)
        assert time.monotonic() - submitted < 2
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 2  # stop() rings every worker awake too


def test_a_job_from_another_process_is_found_by_the_poll(store: MetadataStore) -> None:
    queue = JobQueue(store, SystemClock())
    elsewhere = JobQueue(store, SystemClock())  # its own doorbell, as in another process
    ran = threading.Event()

    def note(context: JobContext) -> None:
        ran.set()

    with WorkerPool(queue, {"note": note}, workers=1, poll_interval=0.3, clock=SystemClock()):
        time.sleep(0.2)
        elsewhere.submit("note", {})
        assert ran.wait(5)


def test_a_delayed_job_and_a_retry_wake_an_idle_pool_when_due_not_at_its_poll(store: MetadataStore) -> None:
    queue = JobQueue(store, SystemClock(), retry_backoff_seconds=0.3)
    attempts: list[float] = []
    done = threading.Event()

    def flaky(context: JobContext) -> str:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        done.set()
        return "ok"

    with WorkerPool(queue, {"flaky": flaky}, workers=1, poll_interval=LONG_POLL, clock=SystemClock()):
        time.sleep(0.2)  # the worker found nothing and sleeps for LONG_POLL now
        submitted = time.monotonic()
        job = queue.submit("flaky", {}, delay_seconds=0.3)
        assert done.wait(5)
    first, second = attempts
    assert 0.25 < first - submitted < 2  # ran when due, not before, not at the next poll
    assert 0.25 < second - first < 2  # the retry after its 0.3 s backoff likewise
    assert queue.get(job.job_id).result == "ok"


def test_a_later_ring_rings_once_after_its_delay() -> None:
    bell = Doorbell()
    seen = bell.rings
    bell.ring_later(0.2)
    assert bell.wait(seen, timeout=0.05) is False
    started = time.monotonic()
    assert bell.wait(seen, timeout=5) is True
    assert time.monotonic() - started < 1
