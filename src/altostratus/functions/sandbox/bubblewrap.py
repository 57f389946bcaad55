"""One bubblewrap sandbox per worker: namespaces, a read-only root, an unprivileged uid, limits over the tree.

How a sandbox starts (`BubblewrapHost.start`):
1. bubblewrap makes new mount, PID, IPC, UTS, network and cgroup namespaces and lays out the file system
   (layout.py), then waits on `--block-fd` before running anything of the function's;
2. while it waits, the server moves its PID namespace's init into the sandbox's cgroup (memory ceiling, process
   count, CPU quota: cgroups.py), sets rlimits on it that its descendants inherit (open files, processes, no
   core dumps), and for a function with outbound network attaches slirp4netns to its network namespace;
3. released, bubblewrap's init starts the worker: as root, through `setpriv` to the sandbox's own uid with no
   capabilities at all; otherwise in a new user namespace (the server's uid mapped to an unprivileged one) with
   further user namespaces disabled. `no_new_privs` is set either way (bubblewrap always sets it).

Every process of the sandbox descends from that init, so tree.py finds and ends them all: between invocations
(nothing may outlive the call that started it), and at the end, when killing the init takes the whole PID
namespace with it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from altostratus.functions.model import RunSpec
from altostratus.functions.runtime.host import RunningWorker, WorkerView
from altostratus.functions.runtime.spawner import SPAWNER
from altostratus.functions.sandbox import tree
from altostratus.functions.sandbox.cgroups import Cgroup, CgroupTree, Limits
from altostratus.functions.sandbox.channels import ApiChannels
from altostratus.functions.sandbox.layout import (
    API_SOCKET,
    DEPS_ROOT,
    RUNTIME_DIR,
    TASK_ROOT,
    WORKER_NAME,
    RuntimeLayer,
    function_arguments,
    identity_files,
    network_arguments,
)
from altostratus.functions.sandbox.network import Uplink
from altostratus.functions.sandbox.uids import UidLease, UidPool

SANDBOX_UID = 993  # the uid a sandbox sees itself as in a user namespace (Lambda's sbx_user1051 is 993)
HOSTNAME = "localhost"
START_SECONDS = 10.0
MAX_PROCESSES = 1024  # Lambda's limit on processes and threads
MAX_OPEN_FILES = 1024  # Lambda's file descriptor limit
MB = 1024 * 1024


class SandboxFailed(RuntimeError):
    """A sandbox could not be set up."""


@dataclasses.dataclass(frozen=True)
class SandboxTools:
    """The programs sandboxes are made with, and how this server may use them."""

    bwrap: str
    setpriv: str | None  # set when the server is root: sandboxes run as leased uids
    slirp4netns: str | None


class BubblewrapHost:
    """Starts each worker in a sandbox of its own."""

    sandboxed = True

    def __init__(
        self,
        tools: SandboxTools,
        layer: RuntimeLayer,
        cgroups: CgroupTree,
        *,
        uids: UidPool | None,
        channels: ApiChannels | None,
        seccomp: bytes | None,
        outbound_for_all: bool = False,
    ) -> None:
        if (tools.setpriv is None) != (uids is None):
            raise ValueError("a root server needs both setpriv and a uid pool; a user server neither")
        self._tools, self._layer, self._cgroups = tools, layer, cgroups
        self._uids, self._channels, self._outbound_for_all = uids, channels, outbound_for_all
        self._seccomp = seccomp

    def view(self, spec: RunSpec) -> WorkerView:
        """The sandbox's paths."""
        api = {"port": self._channels.port, "socket": API_SOCKET} if self._channels and spec.principal else None
        return WorkerView(
            python=str(self._layer.python),
            program=f"{RUNTIME_DIR}/{WORKER_NAME}",
            interpreter_flags=("-I", "-S"),
            cwd=TASK_ROOT,
            sys_path=[TASK_ROOT] + ([DEPS_ROOT] if spec.deps_dir else []) + self._layer.sys_path,
            task_root=TASK_ROOT,
            runtime_dir=RUNTIME_DIR,
            parent_pid=1,
            api=api,
        )

    def start(
        self, spec: RunSpec, command: Sequence[str], env: Mapping[str, str], pass_fds: Sequence[int], log_fd: int
    ) -> RunningWorker:
        """A sandboxed worker, started and released once its limits are in place."""
        held = _Held()
        try:
            return self._start(spec, command, env, pass_fds, log_fd, held)
        except BaseException:
            held.release()
            raise

    def _start(
        self,
        spec: RunSpec,
        command: Sequence[str],
        env: Mapping[str, str],
        pass_fds: Sequence[int],
        log_fd: int,
        held: _Held,
    ) -> SandboxedWorker:
        if self._uids is not None:
            held.uid = self._uids.lease()
        uid, gid = (held.uid.uid, held.uid.gid) if held.uid else (SANDBOX_UID, SANDBOX_UID)
        if self._channels is not None and spec.principal:
            held.channel = self._channels.lease(spec.principal, uid if held.uid else None)
            held.channels = self._channels
        outbound = spec.outbound_network or self._outbound_for_all
        if outbound and self._tools.slirp4netns is None:
            raise SandboxFailed("the function has outbound network, but slirp4netns is not installed here")
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        files = [_memfd(name, data) for name, data in identity_files(uid, gid, HOSTNAME).items()]
        inherited = [info_w, block_r, *(fd for fd, _ in files)]
        args = self._arguments(spec, files, info_w, block_r, outbound, held)
        if self._seccomp is not None:
            seccomp_fd, _ = _memfd("seccomp", self._seccomp)
            inherited.append(seccomp_fd)
            args += ["--seccomp", str(seccomp_fd)]
        args += ["--", *self._privileges(held.uid), str(self._layer.python), "-I", "-S", *command]
        try:
            process = SPAWNER.call(
                lambda: subprocess.Popen(
                    args,
                    stdin=subprocess.DEVNULL,
                    stdout=log_fd,
                    stderr=log_fd,
                    pass_fds=(*inherited, *pass_fds),
                    env=dict(env),
                )
            )
        finally:
            for fd in inherited:
                os.close(fd)
        held.process = process
        try:
            init = _read_child_pid(info_r, process)
        finally:
            os.close(info_r)
        held.init = init
        held.cgroup = self._cgroups.create(f"sandbox-{uuid.uuid4().hex[:12]}", _limits(spec))
        held.cgroup.add(init)
        _set_rlimits(init, per_uid=held.uid is not None)
        if outbound:
            assert self._tools.slirp4netns is not None
            held.uplink = Uplink(self._tools.slirp4netns, init)
        os.write(block_w, b"x")
        os.close(block_w)
        worker_pid = _first_child(init, process)
        return SandboxedWorker(process, init, worker_pid, held)

    def _arguments(
        self,
        spec: RunSpec,
        files: list[tuple[int, str]],
        info_fd: int,
        block_fd: int,
        outbound: bool,
        held: _Held,
    ) -> list[str]:
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try"]
        if self._uids is None:
            # A user server: the sandbox gets a user namespace of its own, and may not make more.
            namespaces += ["--unshare-user", "--disable-userns", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
        args = [self._tools.bwrap, *namespaces, "--die-with-parent", "--new-session", "--hostname", HOSTNAME]
        args += self._layer.arguments() + function_arguments(spec.code_dir, spec.deps_dir)
        for fd, name in files:
            args += ["--perms", "0444", "--ro-bind-data", str(fd), name]
        if outbound:
            args += network_arguments()
        if held.channels is not None and held.channel is not None:
            args += ["--dir", "/run", "--dir", "/run/alto", "--bind", str(held.channels.path(held.channel)), API_SOCKET]
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--size", str(spec.ephemeral_mb * MB), "--perms", "1777", "--tmpfs", "/tmp"]
        args += ["--remount-ro", "/", "--chdir", TASK_ROOT, "--info-fd", str(info_fd), "--block-fd", str(block_fd)]
        if self._uids is not None:
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]  # for setpriv only; it drops every one
        return args

    def _privileges(self, lease: UidLease | None) -> list[str]:
        if self._tools.setpriv is None or lease is None:
            return []
        return [
            self._tools.setpriv,
            f"--reuid={lease.uid}",
            f"--regid={lease.gid}",
            f"--groups={lease.shared_gid}",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]

    def close(self) -> None:
        """Remove the server's folder of sandbox cgroups."""
        self._cgroups.close()


@dataclasses.dataclass
class _Held:
    """What one sandbox holds, released in reverse once it has ended."""

    uid: UidLease | None = None
    channels: ApiChannels | None = None
    channel: int | None = None
    process: subprocess.Popen[bytes] | None = None
    init: int | None = None
    cgroup: Cgroup | None = None
    uplink: Uplink | None = None

    def release(self) -> None:
        if self.process is not None and self.process.returncode is None:
            if self.init is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.init, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
        if self.uplink is not None:
            self.uplink.close()
            self.uplink = None
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.channels is not None and self.channel is not None:
            self.channels.release(self.channel)
            self.channel = None
        if self.uid is not None:
            self.uid.release()
            self.uid = None


class SandboxedWorker:
    """A worker in its sandbox: the bubblewrap process, its PID namespace's init and the worker program."""

    def __init__(self, process: subprocess.Popen[bytes], init: int, worker: int, held: _Held) -> None:
        self._process, self._init, self._worker, self._held = process, init, worker, held
        self._oom_kills = held.cgroup.oom_kills() if held.cgroup else 0

    @property
    def pid(self) -> int:
        """The worker program's process id on the host."""
        return self._worker

    @property
    def returncode(self) -> int | None:
        """bubblewrap's exit code, the worker's own (128 + N when a signal N ended it), once reaped."""
        code = self._process.returncode
        return 128 - code if code is not None and code > 128 else code

    def has_exited(self) -> bool:
        """Whether the sandbox ended (the worker's end ends it)."""
        if self._process.returncode is not None:
            return True
        return os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None

    def wait(self) -> int:
        """Reap bubblewrap; the worker's exit code (negative: the signal)."""
        self._process.wait()
        code = self.returncode
        assert code is not None
        return code

    def kill(self) -> None:
        """SIGKILL the PID namespace's init: the kernel then kills every process in the namespace."""
        if self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._init, signal.SIGKILL)

    def end_strays(self) -> bool:
        """SIGKILL everything in the sandbox but the worker, whatever it did to get away."""
        cgroup = self._held.cgroup
        listed = cgroup.processes() if cgroup is not None else None
        alone = listed is not None and set(listed) <= {self._init, self._worker}  # the common case: one read
        if alone or (listed is None and not tree.others(self._init, (self._worker,))):
            return True
        return tree.end(self._init, keep=(self._worker,))

    def freeze(self) -> None:
        """SIGSTOP the worker (nothing else runs between invocations)."""
        tree.signal_all([self._worker], signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT the worker."""
        tree.signal_all([self._worker], signal.SIGCONT)

    def resident_kb(self) -> int:
        """The anonymous memory of the whole tree (the cgroup's count, else summed over /proc)."""
        cgroup = self._held.cgroup
        counted = cgroup.anon_kb() if cgroup is not None else None
        if counted is not None:
            return counted
        return tree.anon_kb([self._worker, *tree.descendants(self._worker)])

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of this sandbox at its memory ceiling."""
        cgroup = self._held.cgroup
        return cgroup is not None and cgroup.oom_kills() > self._oom_kills

    def release(self) -> None:
        """Release the cgroup, the network, the channel and the uid (the sandbox has ended)."""
        self._held.release()


def _limits(spec: RunSpec) -> Limits:
    # /tmp is a tmpfs whose pages the kernel charges to the sandbox, so the ceiling has room for it; the
    # function's own memory (anonymous pages) is held to MemorySize by the runtime's polling and peak checks.
    cpus = max(1.0, min(os.cpu_count() or 1, spec.memory_mb / 1769))  # Lambda: 1,769 MB buys one vCPU
    return Limits(memory_bytes=(spec.memory_mb + spec.ephemeral_mb) * MB, pids=MAX_PROCESSES, cpus=cpus)


def _set_rlimits(pid: int, *, per_uid: bool) -> None:
    """Limits the sandbox's processes inherit from its init: open files, core dumps and (own uid) processes."""
    import resource

    resource.prlimit(pid, resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
    resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))
    if per_uid:
        # The uid is the sandbox's alone, so this counts the sandbox's processes even without a pids cgroup.
        resource.prlimit(pid, resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))


def _memfd(name: str, data: bytes) -> tuple[int, str]:
    fd = os.memfd_create(Path(name).name, os.MFD_CLOEXEC)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd, name


def _read_child_pid(fd: int, process: subprocess.Popen[bytes]) -> int:
    """The PID namespace init's host pid, from bubblewrap's --info-fd."""
    data = b""
    deadline = time.monotonic() + START_SECONDS
    while True:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            break
        data += chunk
        with contextlib.suppress(ValueError):
            found: dict[str, Any] = json.loads(data)
            return int(found["child-pid"])
    process.kill()
    process.wait()
    raise SandboxFailed(f"bubblewrap did not start (exit status {process.returncode}); see the function's log")


def _first_child(init: int, process: subprocess.Popen[bytes]) -> int:
    """The worker: the init's first child, found before any code of the function runs."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        found = tree.children(init)
        if found:
            return found[0]
        if process.poll() is not None:
            raise SandboxFailed(f"bubblewrap exited with status {process.returncode} before the worker started")
        time.sleep(0.0002)
    raise SandboxFailed("the sandbox's worker did not start")
