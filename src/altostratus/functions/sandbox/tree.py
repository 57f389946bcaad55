"""A sandbox's processes, found and ended through /proc, the same way in every mode.

Every process of a sandbox descends from the init of its PID namespace (bubblewrap's reaper): what a handler
starts, and whatever double-forks or calls setsid to get away, is reparented to that init when its parent
dies. So the tree under that init is the whole sandbox, found from `/proc/<pid>/task/<tid>/children` without
cgroups, and without trusting anything the sandbox says.

The children files are exact only while nothing forks; `end` therefore kills what it finds and looks again
until a round finds nothing (a fork bomb stops growing once its processes are dead, and the sandbox's process
limit bounds each round). Processes inside the sandbox may reap their children at any moment, so a pid found
here is signalled through a pidfd, and only after checking that it is still in the sandbox's PID namespace:
never a host process that took a freed pid. Zombies are dead already and are left to their parent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Collection, Iterator

ROUNDS = 1000


def children(pid: int) -> list[int]:
    """The children of a process (of any of its threads) that have not exited; empty when it is gone."""
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as listing:
                found.extend(int(child) for child in listing.read().split())
        except OSError:
            continue
    return [child for child in found if not _is_zombie(child)]


def descendants(root: int) -> Iterator[int]:
    """Every live process below root, parents before their children."""
    pending = children(root)
    while pending:
        pid = pending.pop()
        yield pid
        pending.extend(children(pid))


def namespace(pid: int) -> int:
    """The inode of the PID namespace a process is in; 0 when it is gone or hidden from us."""
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return 0


def end(root: int, members: int, *, keep: Collection[int] = ()) -> bool:
    """SIGKILL every process below root in PID namespace `members` but those in keep; True when none is left."""
    give_up = time.monotonic() + 5.0
    for _ in range(ROUNDS):
        found = [pid for pid in descendants(root) if pid not in keep]
        if not found:
            return True
        for pid in found:
            kill_member(pid, members)
        if time.monotonic() > give_up:
            break
    return False


def kill_member(pid: int, members: int) -> None:
    """SIGKILL pid if it is (still) a process of the PID namespace `members`."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return  # gone already
    try:
        if members and namespace(pid) == members:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
    finally:
        os.close(fd)


def has_others(root: int, keep: Collection[int]) -> bool:
    """Whether anything runs below root besides the processes in keep: two reads in the common case."""
    return any(pid not in keep for pid in descendants(root))


def anon_kb(pids: Collection[int]) -> int:
    """The anonymous resident memory of these processes together, in KiB (RssAnon; shared pages not counted)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"RssAnon:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total


def owner_gone(name: str, prefix: str) -> bool:
    """Whether a folder named PREFIX<pid>[-...] belongs to a process that no longer runs (a server killed)."""
    pid = name.removeprefix(prefix).split("-", 1)[0]
    return name.startswith(prefix) and pid.isdigit() and not os.path.exists(f"/proc/{pid}")


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True  # gone: nothing to kill
