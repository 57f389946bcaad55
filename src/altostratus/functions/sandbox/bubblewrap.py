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
import resource
import select
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from altostratus.functions.definitions import RunSpec
from altostratus.functions.runtime.host import RunningWorker, WorkerView, exited_unreaped
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

    @property
    def code_gid(self) -> int | None:
        """The group function code and requirements must be readable by: the sandboxes' shared one, as root."""
        return self._uids.shared_gid if self._uids is not None else None

    def view(self, spec: RunSpec) -> WorkerView:
        """The sandbox's paths."""
        api = {"port": self._channels.port, "socket": API_SOCKET} if self._channels and spec.principal else None
        return WorkerView(
            python=str(self._layer.python),
            program=f"{RUNTIME_DIR}/{WORKER_NAME}",
            sys_path=[TASK_ROOT] + ([DEPS_ROOT] if spec.deps_dir else []) + self._layer.sys_path,
            task_root=TASK_ROOT,
            runtime_dir=RUNTIME_DIR,
            parent_pid=1,
            api=api,
            reaps_children=True,
        )

    def start(
        self, spec: RunSpec, command: Sequence[str], env: Mapping[str, str], pass_fds: Sequence[int], log_fd: int
    ) -> RunningWorker:
        """A sandboxed worker, started and released once its limits are in place."""
        held = _Held()
        try:
            self._lease(spec, held)
            self._launch(spec, command, env, pass_fds, log_fd, held)
            self._confine(spec, held)
            os.write(held.fd("block_w"), b"x")
            held.close_fd("block_w")
            worker = _first_child(held)
            assert held.process is not None
            return SandboxedWorker(held.process, held.init, worker, held)
        except BaseException:
            held.release()
            raise

    def _lease(self, spec: RunSpec, held: _Held) -> None:
        """The sandbox's uid (as root) and its API channel."""
        if self._uids is not None:
            held.uid = self._uids.lease()
        if self._channels is not None and spec.principal:
            held.channels = self._channels
            held.channel = self._channels.lease(spec.principal, held.uid.uid if held.uid else None)

    def _launch(
        self,
        spec: RunSpec,
        command: Sequence[str],
        env: Mapping[str, str],
        pass_fds: Sequence[int],
        log_fd: int,
        held: _Held,
    ) -> None:
        """Start bubblewrap; it sets the sandbox up, tells the init's pid, and waits to be released."""
        outbound = self._outbound(spec)
        if outbound and self._tools.slirp4netns is None:
            raise SandboxFailed("the function has outbound network, but slirp4netns is not installed here")
        uid, gid = (held.uid.uid, held.uid.gid) if held.uid else (SANDBOX_UID, SANDBOX_UID)
        held.pipe("info", child_end="w")  # bubblewrap tells the init's pid here
        held.pipe("block", child_end="r")  # and waits for a byte here before it starts the worker
        identity = identity_files(uid, gid, HOSTNAME, outbound=outbound)
        files = {name: held.memfd(name, data) for name, data in identity.items()}
        args = self._arguments(spec, files, held.fd("info_w"), held.fd("block_r"), outbound, held)
        if self._seccomp is not None:
            args += ["--seccomp", str(held.memfd("seccomp", self._seccomp))]
        args += ["--", *self._privileges(held.uid), str(self._layer.python), "-I", "-S", *command]
        inherited = held.child_fds()
        held.process = SPAWNER.call(
            lambda: subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                pass_fds=(*inherited, *pass_fds),
                env=dict(env),
            )
        )
        held.close_child_fds()
        info = _read_info(held.fd("info_r"), held.process)
        held.init, held.pid_namespace = int(info["child-pid"]), int(info["pid-namespace"])
        # The init waits on --block-fd, so this pid is the init's: from here on it is signalled by pidfd only.
        held.init_fd = os.pidfd_open(held.init)
        held.close_fd("info_r")

    def _confine(self, spec: RunSpec, held: _Held) -> None:
        """Limits over the whole tree, set on the init before it starts anything, and the network if it has one."""
        assert held.init is not None
        held.cgroup = self._cgroups.create(f"sandbox-{uuid.uuid4().hex[:12]}", _limits(spec))
        held.cgroup.add(held.init)
        _set_rlimits(held.init, per_uid=held.uid is not None)
        if self._outbound(spec):
            assert self._tools.slirp4netns is not None
            held.uplink = Uplink(self._tools.slirp4netns, held.init, in_user_namespace=self._uids is None)

    def _outbound(self, spec: RunSpec) -> bool:
        return spec.outbound_network or self._outbound_for_all

    def _arguments(
        self,
        spec: RunSpec,
        files: Mapping[str, int],
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
        for name, fd in files.items():
            args += ["--perms", "0444", "--ro-bind-data", str(fd), name]
        if outbound:
            args += network_arguments()
        if held.channels is not None and held.channel is not None:
            args += ["--dir", "/run", "--dir", "/run/alto", "--bind", str(held.channels.path(held.channel)), API_SOCKET]
        # /dev is a tmpfs the sandbox could otherwise fill, past its ephemeral storage; its devices still work.
        args += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"]
        args += ["--size", str(spec.ephemeral_mb * MB), "--perms", "1777", "--tmpfs", "/tmp"]
        args += ["--remount-ro", "/", "--chdir", TASK_ROOT, "--info-fd", str(info_fd), "--block-fd", str(block_fd)]
        if self._uids is not None:
            # For setpriv only, which drops them all: as root, bubblewrap keeps every capability unless told otherwise,
            # and clearing the bounding set needs CAP_SETPCAP.
            args += ["--cap-drop", "ALL"]
            for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
                args += ["--cap-add", cap]
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
    """What one sandbox holds, released in reverse once it has ended (or when it failed to start)."""

    uid: UidLease | None = None
    channels: ApiChannels | None = None
    channel: int | None = None
    process: subprocess.Popen[bytes] | None = None
    init: int | None = None
    pid_namespace: int = 0  # its inode: a pid is signalled only while it is of this namespace
    init_fd: int | None = None
    worker_fd: int | None = None
    cgroup: Cgroup | None = None
    uplink: Uplink | None = None
    fds: dict[str, int] = dataclasses.field(default_factory=dict)
    # Descriptors bubblewrap inherits: the server's copies are closed once it has started.
    inherited: list[str] = dataclasses.field(default_factory=list)

    def pipe(self, name: str, *, child_end: str) -> None:
        """A pipe: NAME_r and NAME_w, bubblewrap inheriting NAME_<child_end> ("r" or "w")."""
        self.fds[f"{name}_r"], self.fds[f"{name}_w"] = os.pipe()
        self.inherited.append(f"{name}_{child_end}")

    def memfd(self, name: str, data: bytes) -> int:
        """A memory file holding data, for bubblewrap to read."""
        fd = os.memfd_create(Path(name).name, os.MFD_CLOEXEC)
        self.fds[name] = fd
        self.inherited.append(name)
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
        return fd

    def fd(self, name: str) -> int:
        """A held descriptor."""
        return self.fds[name]

    def child_fds(self) -> list[int]:
        """The descriptors bubblewrap inherits."""
        return [self.fds[name] for name in self.inherited]

    def close_child_fds(self) -> None:
        """Close the server's copies of what bubblewrap inherited."""
        for name in self.inherited:
            self.close_fd(name)
        self.inherited.clear()

    def close_fd(self, name: str) -> None:
        """Close one held descriptor (idempotent)."""
        fd = self.fds.pop(name, None)
        if fd is not None:
            os.close(fd)

    def kill(self) -> None:
        """SIGKILL the PID namespace's init: the kernel then kills every process in the namespace."""
        if self.init_fd is not None and self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self.init_fd, signal.SIGKILL)

    def release(self) -> None:
        """End the sandbox if it still runs, then give back everything it held."""
        if self.process is not None and self.process.returncode is None:
            self.kill()
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait()
        for name in list(self.fds):
            self.close_fd(name)
        for name in ("init_fd", "worker_fd"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)
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

    def __init__(self, process: subprocess.Popen[bytes], init: int | None, worker: int, held: _Held) -> None:
        assert init is not None
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
        return exited_unreaped(self._process)

    def wait(self) -> int:
        """Reap bubblewrap; the worker's exit code (negative: the signal)."""
        self._process.wait()
        code = self.returncode
        assert code is not None
        return code

    def kill(self) -> None:
        """SIGKILL the PID namespace's init: the kernel then kills every process in the namespace."""
        self._held.kill()

    def end_strays(self) -> bool:
        """SIGKILL everything in the sandbox but the worker, whatever it did to get away."""
        cgroup = self._held.cgroup
        listed = cgroup.processes() if cgroup is not None else None
        alone = listed is not None and set(listed) <= {self._init, self._worker}  # the common case: one read
        if alone or (listed is None and not tree.has_others(self._init, (self._worker,))):
            return True
        return tree.end(self._init, self._held.pid_namespace, keep=(self._worker,))

    def freeze(self) -> None:
        """SIGSTOP the worker, all its threads (nothing else of the sandbox runs between invocations)."""
        self._signal_worker(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT the worker."""
        self._signal_worker(signal.SIGCONT)

    def resident_kb(self) -> int:
        """The anonymous memory of the whole tree (the cgroup's count, else summed over /proc)."""
        cgroup = self._held.cgroup
        counted = cgroup.anon_kb() if cgroup is not None else None
        if counted is not None:
            return counted
        return tree.anon_kb(list(tree.descendants(self._init)))

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of this sandbox at its memory ceiling."""
        cgroup = self._held.cgroup
        return cgroup is not None and cgroup.oom_kills() > self._oom_kills

    def release(self) -> None:
        """Release the cgroup, the network, the channel and the uid (the sandbox has ended)."""
        self._held.release()

    def _signal_worker(self, number: signal.Signals) -> None:
        fd = self._held.worker_fd
        if fd is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(fd, number)


def _limits(spec: RunSpec) -> Limits:
    # /tmp is a tmpfs whose pages the kernel charges to the sandbox, so the ceiling has room for it; the
    # function's own memory (anonymous pages) is held to MemorySize by the runtime's polling and peak checks.
    cpus = max(1.0, min(os.cpu_count() or 1, spec.memory_mb / 1769))  # Lambda: 1,769 MB buys one vCPU
    return Limits(memory_bytes=(spec.memory_mb + spec.ephemeral_mb) * MB, pids=MAX_PROCESSES, cpus=cpus)


def _set_rlimits(pid: int, *, per_uid: bool) -> None:
    """Limits the sandbox's processes inherit from its init: open files, core dumps and (own uid) processes."""
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (MAX_OPEN_FILES, MAX_OPEN_FILES))
    resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))
    if per_uid:
        # The uid is the sandbox's alone, so this counts the sandbox's processes even without a pids cgroup.
        resource.prlimit(pid, resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))


def _read_info(fd: int, process: subprocess.Popen[bytes]) -> dict[str, Any]:
    """What bubblewrap's --info-fd says: the PID namespace init's host pid and the namespaces' inodes."""
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
            return found
    process.kill()
    process.wait()
    raise SandboxFailed(f"bubblewrap did not start (exit status {process.returncode}); see the function's log")


def _first_child(held: _Held) -> int:
    """The worker: the init's first child, found (and held by a pidfd) before any code of the function runs."""
    assert held.init is not None and held.process is not None
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        found = tree.children(held.init)
        if found:
            held.worker_fd = os.pidfd_open(found[0])
            return found[0]
        if held.process.poll() is not None:
            raise SandboxFailed(f"bubblewrap exited with status {held.process.returncode} before the worker started")
        time.sleep(0.0002)
    raise SandboxFailed("the sandbox's worker did not start")
