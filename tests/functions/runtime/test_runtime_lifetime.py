"""Workers live exactly as long as they should: past the threads that started them, not past the server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from altostratus.functions.definitions import Outcome

from .helpers import WHO, Deploy, gone_soon, result

Invoke = Callable[..., Outcome]


def test_a_worker_outlives_the_thread_that_started_it(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(WHO)
    first: list[Outcome] = []
    thread = threading.Thread(target=lambda: first.append(invoke(spec)))
    thread.start()
    thread.join()
    again = invoke(spec)
    assert not again.cold_start and result(again) == result(first[0])


SERVER = """
import os, sys, threading, time
from pathlib import Path
from altostratus.functions.definitions import Invocation, RunSpec
from altostratus.functions.runtime import ProcessRuntime, WorkerOptions
from tests.functions.runtime.conftest import make_host
from altostratus.functions.sandbox import probe

root = Path(sys.argv[1])
runtime = ProcessRuntime(WorkerOptions(make_host(sys.argv[2], probe())))
def spec(name, code):
    (root / name).mkdir()
    (root / name / "app.py").write_text(code)
    return RunSpec(name, "$LATEST", "app.handler", root / name, None, {}, 60.0, 128)
idle = spec("idle", "def handler(e, c):\\n    return 1\\n")
busy = spec("busy", "import time\\ndef handler(e, c):\\n    print('looping', flush=True)\\n    while True: pass\\n")
runtime.run(idle, Invocation("r1", b"{}"))
(idle_pid,) = runtime.worker_pids()
threading.Thread(target=runtime.run, args=(busy, Invocation("r2", b"{}")), daemon=True).start()
while runtime.process_count() < 2:
    time.sleep(0.01)
time.sleep(0.5)  # well into the handler's loop
(busy_pid,) = set(runtime.worker_pids()) - {idle_pid}
print(idle_pid, busy_pid, flush=True)
os._exit(0)  # like a server killed: no shutdown, no cleanup
"""


def test_workers_die_with_a_server_that_is_killed(tmp_path: Path, host_kind: str) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SERVER), str(tmp_path), host_kind],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[3],
    )
    if "sandboxes cannot be made here" in finished.stderr:
        pytest.skip(finished.stderr.strip().splitlines()[-1])
    assert finished.returncode == 0, finished.stderr
    idle_pid, busy_pid = map(int, finished.stdout.split())
    assert gone_soon(idle_pid), "the frozen idle worker died with its parent"
    assert gone_soon(busy_pid), "so did the one looping in its handler"
