"""Sandboxes made by a server that runs as a plain user: a user namespace of their own, nested ones refused.

The suite runs as root, so this starts the runtime as `nobody` with the system's Python, on a function folder
nobody can read. It checks what a root server's sandboxes are checked for in tests/api/test_hostile_functions.py:
no capabilities, no new user namespace, only its own processes, nothing left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

SRC = Path(__file__).parents[3] / "src"
SYSTEM_PYTHON = Path("/usr/bin/python3")
HANDLER = """
import ctypes, os, subprocess, time
def writable(path):
    try:
        open(path, "w").close()
        return True
    except OSError:
        return False
def handler(event, context):
    if event.get("hog"):
        # A daemon (reparented to the sandbox's init, not the worker's child) that holds far more than 128 MB.
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                block = bytearray(400 * 1024 * 1024)
                block[::4096] = b"x" * len(block[::4096])
                time.sleep(30)
            os._exit(0)
        time.sleep(5)
        return "survived"
    libc = ctypes.CDLL(None, use_errno=True)
    refused = libc.unshare(0x10000000) != 0 and ctypes.get_errno() == 1
    status = dict(line.split(":\\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\\t" in line)
    subprocess.Popen(["sleep", event["marker"]], start_new_session=True)
    return {"uid": os.getuid(), "user_namespace_refused": refused, "caps": status["CapEff"].strip(),
            "no_new_privs": status["NoNewPrivs"].strip(), "seccomp": status["Seccomp"].strip(),
            "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), "root": sorted(os.listdir("/")),
            "writable": [p for p in ("/dev/x", "/dev/shm/x", "/x", "/var/task/x", "/tmp/x") if writable(p)]}
"""
RUNNER = """
import json, os, sys, time, uuid
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from altostratus.functions.definitions import Invocation, RunSpec
from altostratus.functions.runtime import ProcessRuntime, WorkerOptions
from altostratus.functions.runtime.process import WORKER_PROGRAM
from altostratus.functions.sandbox import probe
from altostratus.functions.sandbox.bubblewrap import BubblewrapHost
from altostratus.functions.sandbox.layout import RuntimeLayer
from altostratus.functions.sandbox.seccomp import compile_filter

support = probe()
assert support.ok and not support.as_root, support
layer = RuntimeLayer(Path(sys.executable).resolve(), Path(sys.base_prefix), Path(WORKER_PROGRAM), ())
host = BubblewrapHost(support.tools, layer, support.cgroups, uids=None, channels=None, seccomp=compile_filter())
spec = RunSpec("fn", "$LATEST", "app.handler", Path(sys.argv[2]), None, {}, 10, 128)
def marked(marker):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() in open(f"/proc/{pid}/cmdline", "rb").read() and int(pid) != os.getpid():
                found.append(pid)
        except OSError:
            pass
    return found

with ProcessRuntime(WorkerOptions(host)) as runtime:
    marker = f"778.{uuid.uuid4().int % 10**9}"  # made here: no command line above this one holds it
    outcome = runtime.run(spec, Invocation(str(uuid.uuid4()), json.dumps({"marker": marker}).encode()))
    seen = json.loads(outcome.payload)
    time.sleep(0.2)
    seen["left_behind"] = marked(marker)  # while the runtime, and the warm worker, still run
    hog = runtime.run(spec, Invocation(str(uuid.uuid4()), b'{"hog": true}'))
    seen["hog"] = json.loads(hog.payload)
    print(json.dumps(seen))
"""


def as_nobody(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["runuser", "-u", "nobody", "--", *command], capture_output=True, text=True, timeout=120)


@pytest.fixture
def nobody_can_run_the_runtime(tmp_path: Path) -> Path:
    """A function folder nobody may read; skips, saying why, where this machine cannot run the check."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser to start a runtime as nobody")
    if not SYSTEM_PYTHON.exists():
        pytest.skip(f"needs the system's Python at {SYSTEM_PYTHON}")
    if as_nobody("test", "-r", str(SRC / "altostratus" / "functions" / "runtime" / "worker_main.py")).returncode:
        pytest.skip(f"nobody cannot read this checkout ({SRC}); clone it where other users can read it")
    folder = Path(tempfile_dir(tmp_path))
    (folder / "app.py").write_text(textwrap.dedent(HANDLER))
    return folder


def tempfile_dir(tmp_path: Path) -> Path:
    # pytest's tmp_path is under a 0700 folder of root's; nobody needs a folder of its own it can read.
    folder = Path("/tmp") / f"alto-nobody-{tmp_path.name}-{os.getpid()}"
    folder.mkdir(mode=0o755)
    return folder


def test_a_user_servers_sandbox_has_no_privileges_and_leaves_nothing(nobody_can_run_the_runtime: Path) -> None:
    folder = nobody_can_run_the_runtime
    try:
        done = as_nobody(str(SYSTEM_PYTHON), "-c", textwrap.dedent(RUNNER), str(SRC), str(folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["uid"] == 993, "an unprivileged uid of the sandbox's own user namespace"
    assert seen["user_namespace_refused"], "no nested user namespace"
    assert (seen["caps"], seen["no_new_privs"], seen["seccomp"]) == ("0000000000000000", "1", "2")
    assert seen["pids"][:2] == [1, 2] and len(seen["pids"]) <= 3, "its init, the worker and its own child"
    assert "work" not in seen["root"] and "root" not in seen["root"]
    assert seen["writable"] == ["/tmp/x"], "its /tmp only: not /dev, /dev/shm or the root"
    assert seen["left_behind"] == [], "the child was killed when the handler returned"
    assert seen["hog"]["errorType"] == "Runtime.OutOfMemory", "a daemon's memory counts, without a memory cgroup"
