"""Helpers for the runtime tests: reading outcomes and looking at processes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Protocol

from altostratus.functions.definitions import Outcome, RunSpec


class Deploy(Protocol):
    def __call__(
        self,
        code: str,
        *,
        handler: str = "app.handler",
        files: dict[str, str] | None = None,
        environment: dict[str, str] | None = None,
        timeout: float = 3.0,
        memory_mb: int = 128,
        deps_dir: Path | None = None,
        name: str | None = None,
        ephemeral_mb: int = 512,
    ) -> RunSpec: ...


# Module-level code that names the worker process it runs in: inside a sandbox every worker's pid is 2.
WORKER = "import uuid as _uuid\nWORKER = _uuid.uuid4().hex\n"
# A handler that answers which worker ran it.
WHO = WORKER + "def handler(event, context):\n    return WORKER\n"


def marked_processes(marker: str) -> list[int]:
    """The pids of live processes whose command line holds marker (a handler's children are found this way)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in command and process_exists(int(entry)):
            found.append(int(entry))
    return found


def all_gone_soon(marker: str, within: float = 2.0) -> bool:
    """Whether every process marked so ends within a moment."""
    deadline = time.monotonic() + within
    while marked_processes(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def result(outcome: Outcome) -> Any:
    """The decoded response payload of an outcome that must have succeeded."""
    assert outcome.function_error is None, outcome.payload.decode(errors="replace")
    return json.loads(outcome.payload)


def error(outcome: Outcome) -> dict[str, Any]:
    """The decoded error document of an outcome that must have failed."""
    assert outcome.function_error == "Unhandled", outcome.payload[:500]
    document: dict[str, Any] = json.loads(outcome.payload)
    return document


def zombie_children() -> list[int]:
    """Child processes of this test process that exited and were never reaped."""
    zombies = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and state == "Z":
            zombies.append(int(entry))
    return zombies


def gone_soon(pid: int, within: float = 2.0) -> bool:
    """Whether the process ends within a moment (SIGKILL takes effect asynchronously)."""
    deadline = time.monotonic() + within
    while process_exists(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def process_exists(pid: int) -> bool:
    """Whether a process with this id runs (a zombie does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
