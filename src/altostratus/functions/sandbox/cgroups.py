"""Control groups for sandboxes: a memory ceiling, a process count and a CPU quota over a worker's whole tree.

Each controller is used where this machine has it: in a cgroup v1 hierarchy of its own (`/sys/fs/cgroup/memory`,
as hybrid systems and this project's test machines mount them), or in the unified v2 hierarchy when it is enabled
there and our own cgroup may have children with it (systemd's `Delegate=yes`, or root). A sandbox's cgroups sit
below this process's own (`<ours>/altostratus-<pid>/<sandbox>`), so the limits set on the server still hold over
its sandboxes. A controller that is neither is left to the fallbacks of the launcher (rlimits, the process tree).

Processes are never tracked through a cgroup here (tree.py does that in every mode); the cgroup is for limits
the kernel enforces on the whole tree, however it forks, and for the kernel's count of OOM kills.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from altostratus.functions.sandbox.tree import owner_gone

CONTROLLERS = ("memory", "pids", "cpu")
OWNER_PREFIX = "altostratus-"  # our sandboxes' cgroups sit in altostratus-<server pid>
CPU_PERIOD_US = 100_000


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one sandbox may use, as a whole tree."""

    memory_bytes: int
    pids: int
    cpus: float


@dataclasses.dataclass(frozen=True)
class Hierarchy:
    """Where one controller lives: the folder of this process's cgroup in it, and whether it is cgroup v2."""

    controller: str
    base: Path
    unified: bool


class Cgroup:
    """One sandbox's cgroups (one folder per v1 hierarchy, or one v2 folder), with its limits set."""

    def __init__(self, folders: Mapping[str, tuple[Path, bool]]) -> None:
        self._folders = dict(folders)

    @property
    def controllers(self) -> frozenset[str]:
        """The controllers that limit this sandbox."""
        return frozenset(self._folders)

    def add(self, pid: int) -> None:
        """Move a process (and its future children) into every folder."""
        for folder in self._distinct():
            (folder / "cgroup.procs").write_text(str(pid))

    def anon_kb(self) -> int | None:
        """The tree's anonymous memory in KiB (not its page cache, nor its /tmp); None without the memory controller."""
        found = self._folders.get("memory")
        if found is None:
            return None
        folder, unified = found
        return _stat_value(folder / "memory.stat", "anon" if unified else "rss") // 1024

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this sandbox for want of memory."""
        found = self._folders.get("memory")
        if found is None:
            return 0
        folder, unified = found
        return _stat_value(folder / ("memory.events" if unified else "memory.oom_control"), "oom_kill")

    def processes(self) -> list[int] | None:
        """Every process in the sandbox (host pids), in one read; None without a controller to ask."""
        folders = self._distinct()
        if not folders:
            return None
        try:
            return [int(pid) for pid in _read(folders[0] / "cgroup.procs").split()]
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        """Remove the folders; the sandbox's processes must have ended (an exiting one may take a moment)."""
        for folder in self._distinct():
            _rmdir_soon(folder)

    def _distinct(self) -> list[Path]:
        return sorted({folder for folder, _ in self._folders.values()})


class CgroupTree:
    """Makes sandbox cgroups below this process's own, with the controllers this machine lets it use."""

    def __init__(self, hierarchies: Iterable[Hierarchy], owner_pid: int | None = None) -> None:
        self._owner = f"{OWNER_PREFIX}{owner_pid or os.getpid()}"
        self._hierarchies = {h.controller: h for h in hierarchies}

    @property
    def controllers(self) -> frozenset[str]:
        """The controllers sandboxes get."""
        return frozenset(self._hierarchies)

    @classmethod
    def detect(cls, proc: Path = Path("/proc/self")) -> tuple[CgroupTree, list[str]]:
        """The tree for this machine, and why each controller that is missing is missing."""
        mounts = _mounts((proc / "mountinfo").read_text())
        memberships = _memberships((proc / "cgroup").read_text())
        found: list[Hierarchy] = []
        notes: list[str] = []
        for controller in CONTROLLERS:
            hierarchy, why = _locate(controller, mounts, memberships)
            if hierarchy is None:
                notes.append(f"{controller}: {why}")
            else:
                found.append(hierarchy)
        return cls(found), notes

    def create(self, name: str, limits: Limits) -> Cgroup:
        """A new cgroup for one sandbox, with its limits set."""
        folders: dict[str, tuple[Path, bool]] = {}
        made: list[Path] = []
        try:
            for controller, hierarchy in self._hierarchies.items():
                owner = hierarchy.base / self._owner
                if hierarchy.unified:
                    # v2 passes a controller down one level at a time: our folder enables it for the sandboxes.
                    owner.mkdir(exist_ok=True)
                    (owner / "cgroup.subtree_control").write_text(f"+{controller}")
                folder = owner / name
                if folder not in made:
                    folder.mkdir(parents=True, exist_ok=True)
                    made.append(folder)
                folders[controller] = (folder, hierarchy.unified)
                _apply(controller, folder, hierarchy.unified, limits)
        except OSError:
            for folder in made:
                with contextlib.suppress(OSError):
                    folder.rmdir()
            raise
        return Cgroup(folders)

    def sweep(self) -> int:
        """Remove the empty sandbox cgroups of servers that died without closing (SIGKILL); how many folders."""
        removed = 0
        for hierarchy in {h.base: h for h in self._hierarchies.values()}.values():
            for owner in hierarchy.base.glob(f"{OWNER_PREFIX}*"):
                if not owner_gone(owner.name, OWNER_PREFIX):
                    continue
                for folder in [*owner.iterdir(), owner]:
                    if folder.is_dir():
                        with contextlib.suppress(OSError):
                            folder.rmdir()
                            removed += 1
        return removed

    def close(self) -> None:
        """Remove this process's folder of sandbox cgroups once they are all gone."""
        for hierarchy in self._hierarchies.values():
            with contextlib.suppress(OSError):
                (hierarchy.base / self._owner).rmdir()


def _apply(controller: str, folder: Path, unified: bool, limits: Limits) -> None:
    if controller == "memory":
        if unified:
            (folder / "memory.max").write_text(str(limits.memory_bytes))
            _write_if_present(folder / "memory.swap.max", "0")
        else:
            (folder / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
            # With swap accounting, memory+swap gets the same ceiling: no swapping past the limit.
            _write_if_present(folder / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
    elif controller == "pids":
        (folder / "pids.max").write_text(str(limits.pids))
    elif controller == "cpu":
        quota = max(1000, int(limits.cpus * CPU_PERIOD_US))
        if unified:
            (folder / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
        else:
            (folder / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (folder / "cpu.cfs_quota_us").write_text(str(quota))


def _write_if_present(path: Path, value: str) -> None:
    if path.exists():
        path.write_text(value)


def _stat_value(path: Path, key: str) -> int:
    try:
        for line in _read(path).splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _read(path: Path) -> str:
    # Read on every invocation's hot path: plain os calls cost a third of pathlib's read_text here.
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536).decode()
    finally:
        os.close(fd)


def _rmdir_soon(folder: Path, within: float = 1.0) -> None:
    # A process killed a moment ago may still be leaving its cgroup (EBUSY until it has).
    give_up = time.monotonic() + within
    while True:
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError as error:
            if error.errno != errno.EBUSY or time.monotonic() > give_up:
                return
            time.sleep(0.005)


@dataclasses.dataclass(frozen=True)
class _Mount:
    point: Path
    root: str
    unified: bool
    controllers: frozenset[str]


def _mounts(mountinfo: str) -> list[_Mount]:
    """The cgroup mounts in /proc/self/mountinfo."""
    found = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        options = set(tail[2].split(","))
        found.append(_Mount(Path(fields[4]), fields[3], tail[0] == "cgroup2", frozenset(options & set(CONTROLLERS))))
    return found


def _memberships(cgroup_file: str) -> dict[str, str]:
    """Controller name -> this process's cgroup path ("" for the unified hierarchy)."""
    paths: dict[str, str] = {}
    for line in cgroup_file.splitlines():
        _, names, path = line.split(":", 2)
        for name in names.split(",") if names else [""]:
            paths[name] = path
    return paths


def _locate(controller: str, mounts: list[_Mount], memberships: Mapping[str, str]) -> tuple[Hierarchy | None, str]:
    for mount in mounts:
        if not mount.unified and controller in mount.controllers and controller in memberships:
            base = _under(mount, memberships[controller])
            if base is not None and _usable(base):
                return Hierarchy(controller, base, unified=False), ""
            return None, f"the v1 hierarchy at {mount.point} is not writable here"
    for mount in mounts:
        if mount.unified and "" in memberships:
            base = _under(mount, memberships[""])
            if base is None or not _usable(base):
                continue
            if _delegated(base, controller):
                return Hierarchy(controller, base, unified=True), ""
            return None, f"not enabled for the children of {base} (cgroup v2 without delegation)"
    return None, "no cgroup hierarchy has it"


def _under(mount: _Mount, path: str) -> Path | None:
    """The folder of cgroup `path` in a mount (None when the mount does not show it)."""
    if not path.startswith(mount.root):
        return None
    return mount.point / path[len(mount.root) :].lstrip("/")


def _usable(base: Path) -> bool:
    return base.is_dir() and os.access(base, os.W_OK | os.X_OK)


def _delegated(base: Path, controller: str) -> bool:
    """Whether children of base may have the v2 controller, enabling it there if we may."""
    try:
        if controller not in (base / "cgroup.controllers").read_text().split():
            return False
        if controller in (base / "cgroup.subtree_control").read_text().split():
            return True
        # Possible only where base holds no process of its own (v2's no-internal-processes rule) or is the root.
        (base / "cgroup.subtree_control").write_text(f"+{controller}")
        return True
    except OSError:
        return False
