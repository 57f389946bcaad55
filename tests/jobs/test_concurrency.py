"""Racing workers and submitters: every job is claimed exactly once, every id makes one job."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from altostratus.jobs import Job, JobQueue, JobState

WORKERS = 4
JOBS = 200


def run_racing(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Run target(0..count-1) on as many threads released together; their results, or raise the first error."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = target(index)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_racing_workers_claim_each_job_exactly_once(queue: JobQueue) -> None:
    submitted = {queue.submit("work", {"n": n}).job_id for n in range(JOBS)}

    def drain(index: int) -> list[Job]:
        taken = []
        while (job := queue.claim(f"worker-{index}", ["work"], 60)) is not None:
            taken.append(job)
        return taken

    per_worker: list[list[Job]] = run_racing(WORKERS, drain)

    claimed = [job.job_id for taken in per_worker for job in taken]
    assert len(claimed) == len(submitted) and set(claimed) == submitted
    assert sum(1 for taken in per_worker if taken) > 1, "the workers did not actually race"
    for index, taken in enumerate(per_worker):
        assert {(job.lease_owner, job.attempts) for job in taken} <= {(f"worker-{index}", 1)}
    assert len(queue.list(state=JobState.INPROGRESS, limit=1000)) == len(submitted)


def test_racing_submits_of_one_id_make_one_job(queue: JobQueue) -> None:
    jobs = run_racing(8, lambda index: queue.submit("work", {"n": 1}, job_id="once"))

    assert {job.job_id for job in jobs} == {"once"}
    assert [job.job_id for job in queue.list()] == ["once"]
