"""A worker process killed mid-job (SIGKILL): after its lease expires, a new worker pool finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from altostratus.core.clock import SystemClock
from altostratus.jobs import JobContext, JobQueue, JobState, WorkerPool
from altostratus.storage.metadata import MetadataStore

LEASE_SECONDS = 1.0

# The doomed server process: a worker pool whose handler reports progress, says so on stdout, and hangs.
DOOMED_WORKER = textwrap.dedent(
    """
    import sys
    import threading

    from altostratus.core.clock import SystemClock
    from altostratus.jobs import JobQueue, WorkerPool
    from altostratus.storage.metadata import MetadataStore

    def hang(context):
        context.report_progress(0.5, "halfway")
        print("running", flush=True)
        threading.Event().wait()

    queue = JobQueue(MetadataStore(sys.argv[1]), SystemClock())
    WorkerPool(queue, {"restartable": hang}, workers=1, lease_seconds=float(sys.argv[2]),
               poll_interval=0.05, clock=SystemClock()).start()
    threading.Event().wait()
    """
)


def test_a_job_whose_worker_process_was_killed_completes_after_a_restart(store: MetadataStore) -> None:
    queue = JobQueue(store, SystemClock())
    job = queue.submit("restartable", {"n": 7}, job_id="survivor")
    doomed = subprocess.Popen(
        [sys.executable, "-c", DOOMED_WORKER, store.url, str(LEASE_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert doomed.stdout is not None
        assert doomed.stdout.readline().strip() == "running"
        running = queue.get(job.job_id)
        assert (running.state, running.attempts, running.progress) == (JobState.INPROGRESS, 1, 0.5)
        assert running.lease_owner is not None and f":{doomed.pid}:" in running.lease_owner
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()
        assert doomed.stdout is not None
        doomed.stdout.close()

    def finish(context: JobContext) -> dict[str, int]:
        return {"n": int(context.payload["n"]), "attempt": context.attempt}

    with WorkerPool(
        queue, {"restartable": finish}, workers=1, lease_seconds=LEASE_SECONDS, poll_interval=0.05, clock=SystemClock()
    ):
        done = queue.wait(job.job_id, timeout=10)

    assert (done.state, done.result, done.attempts) == (JobState.COMPLETED, {"n": 7, "attempt": 2}, 2)
    assert f"worker {running.lease_owner!r} was lost" in done.message
