"""Handlers that break limits or die: the worker is killed and reaped, the caller gets Lambda's error."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable
from textwrap import dedent

from altostratus.functions.definitions import Outcome
from altostratus.functions.runtime import ProcessRuntime

from .helpers import WHO, WORKER, Deploy, all_gone_soon, error, process_exists, result

Invoke = Callable[..., Outcome]


def test_a_handler_past_its_timeout_is_killed_with_its_children(
    runtime: ProcessRuntime, deploy: Deploy, invoke: Invoke
) -> None:
    marker = f"60.{uuid.uuid4().int % 10**9}"
    spec = deploy(
        WORKER
        + dedent(
            f"""
            import subprocess
            def handler(event, context):
                if event.get("quick"):
                    return WORKER
                subprocess.Popen(["sleep", {marker!r}])
                print("looping")
                while True:
                    pass
            """
        ),
        timeout=1.0,
    )
    before = result(invoke(spec, {"quick": True}))
    (worker_pid,) = runtime.worker_pids()
    started = time.monotonic()
    outcome = invoke(spec)
    elapsed = time.monotonic() - started
    document = error(outcome)
    assert document["errorType"] == "Sandbox.Timedout"
    assert document["errorMessage"] == f"RequestId: {_request_id(outcome)} Error: Task timed out after 1.00 seconds"
    assert 1.0 <= elapsed < 2.0
    assert "looping\n" in outcome.log and "Task timed out after 1.00 seconds\nEND RequestId" in outcome.log
    assert "Status: timeout" in outcome.log.splitlines()[-1]
    assert not process_exists(worker_pid), "the timed-out worker is gone"
    assert all_gone_soon(marker), "the handler's subprocess went with it"
    after = invoke(spec, {"quick": True})
    assert after.cold_start and result(after) != before


def test_a_memory_hog_is_killed_at_its_limit(runtime: ProcessRuntime, deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(
        WORKER
        + dedent(
            """
            hoard = []
            def handler(event, context):
                if event.get("quick"):
                    return WORKER
                while True:
                    hoard.append(bytearray(8 * 1024 * 1024))
            """
        ),
        memory_mb=128,
        timeout=20.0,
    )
    first = result(invoke(spec, {"quick": True}))
    (worker_pid,) = runtime.worker_pids()
    started = time.monotonic()
    outcome = invoke(spec)
    document = error(outcome)
    assert document["errorType"] == "Runtime.OutOfMemory"
    assert document["errorMessage"].endswith("Error: Runtime exited with error: signal: killed")
    assert time.monotonic() - started < 5
    assert 128 <= outcome.max_memory_mb < 1024, "killed soon after crossing the limit, long before the machine is"
    assert "Status: error\tError Type: Runtime.OutOfMemory" in outcome.log
    assert not process_exists(worker_pid)
    after = invoke(spec, {"quick": True})
    assert after.cold_start and result(after) != first


def test_a_burst_past_the_limit_that_returns_in_time_is_still_out_of_memory(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("def handler(e, c):\n    block = bytearray(300 * 1024 * 1024)\n    return len(block)\n")
    assert error(invoke(spec))["errorType"] == "Runtime.OutOfMemory"


def test_printing_100_mb_keeps_a_bounded_log(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(
        """
        import sys
        def handler(event, context):
            print("first line")
            line = "x" * 1023
            for _ in range(100 * 1024):
                sys.stdout.write(line + "\\n")
            print("last line")
            return "done"
        """,
        timeout=30.0,
    )
    outcome = invoke(spec)
    assert result(outcome) == "done"
    assert len(outcome.log) < 2 * 1024 * 1024 + 4096
    output = outcome.log.split("\n", 1)[1]
    assert output.startswith("first line\nxxx")
    assert "bytes of output omitted: a log keeps the first and last 1048576 bytes" in outcome.log
    assert outcome.log.splitlines()[-3] == "last line"
    assert not invoke(spec, {}).cold_start


def test_a_worker_that_exits_is_an_exit_error_and_is_replaced(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(
        WORKER
        + dedent(
            """
            import os
            def handler(event, context):
                if event.get("exit"):
                    print("leaving")
                    os._exit(3)
                return WORKER
            """
        )
    )
    first = result(invoke(spec))
    outcome = invoke(spec, {"exit": True})
    assert error(outcome)["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    assert error(outcome)["errorType"] == "Runtime.ExitError"
    assert "leaving\n" in outcome.log
    second = invoke(spec)
    assert second.cold_start and result(second) != first


def test_a_segfault_is_an_exit_error_with_the_signal(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy("import ctypes\ndef handler(e, c):\n    ctypes.string_at(0)\n")
    document = error(invoke(spec))
    assert document["errorType"] == "Runtime.ExitError"
    assert document["errorMessage"].endswith("Error: Runtime exited with error: signal: segmentation fault")


def test_sys_exit_in_a_handler_ends_the_worker(deploy: Deploy, invoke: Invoke) -> None:
    document = error(invoke(deploy("import sys\ndef handler(e, c):\n    sys.exit(2)\n")))
    assert document["errorMessage"].endswith("exit status 2")


def test_an_idle_worker_killed_from_outside_is_replaced(
    runtime: ProcessRuntime, deploy: Deploy, invoke: Invoke
) -> None:
    spec = deploy(WHO)
    first = result(invoke(spec))
    (worker_pid,) = runtime.worker_pids()
    os.kill(worker_pid, signal.SIGKILL)
    time.sleep(0.05)
    outcome = invoke(spec)
    assert outcome.cold_start and result(outcome) != first
    assert runtime.process_count() == 1


def _request_id(outcome: Outcome) -> str:
    return outcome.log.split("START RequestId: ", 1)[1].split()[0]
