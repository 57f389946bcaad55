"""Workers live exactly as long as they should: past the threads that started them, not past the server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

from altostratus.functions.model import Outcome

from .helpers import Deploy, gone_soon, result

Invoke = Callable[..., Outcome]

PID = "import os\ndef handler(event, context):\n    return os.getpid()\n"


def test_a_worker_outlives_the_thread_that_started_it(deploy: Deploy, invoke: Invoke) -> None:
    spec = deploy(PID)
    first: list[Outcome] = []
    thread = threading.Thread(target=lambda: first.append(invoke(spec)))
    thread.start()
    thread.join()
    again = invoke(spec)
    assert not again.cold_start and result(again) == result(first[0])


SERVER = """
import os, sys, threading, time, uuid
from pathlib import Path
from altostratus.functions.model import Invocation, RunSpec
from altostratus.functions.runtime import ProcessRuntime

root = Path(sys.argv[1])
runtime = ProcessRuntime()
def spec(name, code):
    (root / name).mkdir()
    (root / name / "app.py").write_text(code)
    return RunSpec(name, "$LATEST", "app.handler", root / name, None, {}, 60.0, 128)
idle = spec("idle", "import os\\ndef handler(e, c):\\n    return os.getpid()\\n")
loop = "import os\\ndef handler(e, c):\\n    open('busy.pid', 'w').write(str(os.getpid()))\\n    while True: pass\\n"
busy = spec("busy", loop)
print(runtime.run(idle, Invocation("r1", b"{}")).payload.decode(), flush=True)
threading.Thread(target=runtime.run, args=(busy, Invocation("r2", b"{}")), daemon=True).start()
while not (root / "busy" / "busy.pid").exists():
    time.sleep(0.01)
print((root / "busy" / "busy.pid").read_text(), flush=True)
os._exit(0)  # like a server killed: no shutdown, no cleanup
"""


def test_workers_die_with_a_server_that_is_killed(tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SERVER), str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    idle_pid, busy_pid = map(int, finished.stdout.split())
    assert gone_soon(idle_pid), "the frozen idle worker died with its parent"
    assert gone_soon(busy_pid), "so did the one looping in its handler"
