"""A sandbox's processes, found and ended through /proc, the same way in every mode.

Every process of a sandbox descends from the init of its PID namespace (bubblewrap's reaper): what a handler
starts, and whatever double-forks or calls setsid to get away, is reparented to that init when its parent
dies. So the tree under that init is the whole sandbox, found from `/proc/<pid>/task/<tid>/children` without
cgroups, and without trusting anything the sandbox says.

The children files are exact only while nothing forks; `end` therefore kills what it finds and looks again
until a round finds nothing (a fork bomb stops growing once its processes are dead, and the sandbox's process
limit bounds each round).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Collection, Iterator

ROUNDS = 1000


def children(pid: int) -> list[int]:
    """The live children of a process (of any of its threads); empty when it is gone."""
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
    return found


def descendants(root: int) -> Iterator[int]:
    """Every process below root, parents before their children."""
    pending = children(root)
    while pending:
        pid = pending.pop()
        yield pid
        pending.extend(children(pid))


def end(root: int, *, keep: Collection[int] = ()) -> bool:
    """SIGKILL every process below root except those in keep (and their children are not spared); True when done."""
    give_up = time.monotonic() + 5.0
    for _ in range(ROUNDS):
        found = [pid for pid in descendants(root) if pid not in keep]
        if not found:
            return True
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > give_up:
            break
    return False


def others(root: int, keep: Collection[int]) -> bool:
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


def signal_all(pids: Collection[int], number: signal.Signals) -> None:
    """Send a signal to each process that still exists."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, number)
