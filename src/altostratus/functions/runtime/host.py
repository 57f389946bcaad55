"""Where worker processes run: the WorkerHost seam, and the unsandboxed host (the runtime before sandboxes).

`WorkerProcess` speaks its pipe protocol with any worker; a host decides how the worker is started (a plain
child process, or one sandbox per worker: functions/sandbox/), what paths it sees, and how its whole tree is
watched, frozen and ended. `UnsandboxedHost` runs workers as the server's own user in the server's namespaces:
only for `alto serve --insecure-functions-unsandboxed`, and as the benchmark's baseline.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from altostratus.functions.definitions import RunSpec
from altostratus.functions.runtime.spawner import SPAWNER

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclasses.dataclass(frozen=True)
class WorkerView:
    """How a worker sees its world: interpreter, program, folders and the API forwarder it should start."""

    python: str
    program: str
    sys_path: list[str]
    task_root: str
    runtime_dir: str
    parent_pid: int
    api: Mapping[str, Any] | None = None
    # Whether the worker reaps its exited children before each invocation (the host kills them after the last).
    reaps_children: bool = False


class RunningWorker(Protocol):
    """A started worker and everything it started."""

    @property
    def pid(self) -> int:
        """The worker program's process id, as this host sees it."""
        ...

    @property
    def returncode(self) -> int | None:
        """The exit code once reaped (negative: the signal that ended it)."""
        ...

    def has_exited(self) -> bool:
        """Whether it ended, without reaping it."""
        ...

    def wait(self) -> int:
        """Reap it; its exit code."""
        ...

    def kill(self) -> None:
        """SIGKILL the worker and every process it started."""
        ...

    def end_strays(self) -> bool:
        """SIGKILL every process but the worker itself; False when some could not be ended."""
        ...

    def freeze(self) -> None:
        """Stop every process until thaw."""
        ...

    def thaw(self) -> None:
        """Let frozen processes run again."""
        ...

    def resident_kb(self) -> int:
        """The memory the function holds, as its limit counts it."""
        ...

    def out_of_memory(self) -> bool:
        """Whether the kernel killed one of its processes for memory since it started."""
        ...

    def release(self) -> None:
        """Free what the worker held (after wait)."""
        ...


class WorkerHost(Protocol):
    """Starts workers for function versions."""

    def view(self, spec: RunSpec) -> WorkerView:
        """How this spec's worker will see its paths."""
        ...

    def start(
        self, spec: RunSpec, command: Sequence[str], env: Mapping[str, str], pass_fds: Sequence[int], log_fd: int
    ) -> RunningWorker:
        """Start the worker program (command: program and its arguments, after the interpreter)."""
        ...

    def close(self) -> None:
        """Release what the host holds for all workers."""
        ...


class UnsandboxedHost:
    """Workers as plain child processes in a process group of their own: no isolation from the host."""

    def __init__(self, python: str, worker_program: str) -> None:
        self._python, self._program = python, worker_program

    def view(self, spec: RunSpec) -> WorkerView:
        """The host's own paths."""
        return WorkerView(
            python=self._python,
            program=self._program,
            sys_path=[str(spec.code_dir)] + ([str(spec.deps_dir)] if spec.deps_dir else []),
            task_root=str(spec.code_dir),
            runtime_dir=str(Path(self._program).parent),
            parent_pid=os.getpid(),
        )

    def start(
        self, spec: RunSpec, command: Sequence[str], env: Mapping[str, str], pass_fds: Sequence[int], log_fd: int
    ) -> RunningWorker:
        """A child process whose group a kill takes whole."""
        process = SPAWNER.call(
            lambda: subprocess.Popen(
                [self._python, "-I", *command],
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                pass_fds=tuple(pass_fds),
                cwd=spec.code_dir,
                env=dict(env),
                start_new_session=True,  # its own process group, so a kill takes the handler's children too
            )
        )
        return GroupWorker(process)

    def close(self) -> None:
        """Nothing is held."""


class GroupWorker:
    """A worker watched as its process group (children that call setsid escape it)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    @property
    def pid(self) -> int:
        """The worker's process id (also its process group id)."""
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once reaped."""
        return self._process.returncode

    def has_exited(self) -> bool:
        """Whether the worker ended (not reaped)."""
        return exited_unreaped(self._process)

    def wait(self) -> int:
        """Reap the worker."""
        return self._process.wait()

    def kill(self) -> None:
        """SIGKILL the group; the leader is reaped after, so its id cannot have been reused."""
        self._signal(signal.SIGKILL)

    def end_strays(self) -> bool:
        """Nothing is ended between invocations here: the group (those that did not leave it) ends with the worker."""
        return True

    def freeze(self) -> None:
        """SIGSTOP the group."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT the group."""
        self._signal(signal.SIGCONT)

    def resident_kb(self) -> int:
        """The worker's resident set (its children are not counted)."""
        try:
            with open(f"/proc/{self._process.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE_KB
        except (OSError, IndexError, ValueError):
            return 0

    def out_of_memory(self) -> bool:
        """The kernel's OOM killer is not watched here; the memory limit is the parent's polling."""
        return False

    def release(self) -> None:
        """Nothing is held."""

    def _signal(self, number: signal.Signals) -> None:
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, number)


def exited_unreaped(process: subprocess.Popen[bytes]) -> bool:
    """Whether a child process ended, without reaping it (so its pid cannot be reused meanwhile)."""
    if process.returncode is not None:
        return True
    return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
