"""Host user ids for sandboxes, one to a sandbox, leased machine-wide so two servers never share one.

When the server runs as root, each sandbox runs as a uid of its own (from `base` to `base + count - 1`, a range
no account uses: see the default in core/settings.py). A lease is an exclusive `flock` on a file named after the
uid in a root-only folder, held as long as the sandbox lives: another server on the same machine skips it, and a
server that dies releases all its leases with its descriptors. A uid is leased only when no process runs as it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import random
from pathlib import Path

LEASE_FOLDER = Path("/run/altostratus/uids")


class NoFreeUid(RuntimeError):
    """Every uid of the range is in use."""


@dataclasses.dataclass
class UidLease:
    """One leased uid (its gid is the same number); release it once every process of the sandbox is gone."""

    uid: int
    _fd: int
    # The group every sandbox is in, besides its own: function code and requirements are readable by it.
    shared_gid: int

    @property
    def gid(self) -> int:
        """The sandbox's group: a group of its own, with the uid's number."""
        return self.uid

    def release(self) -> None:
        """Give the uid back (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class UidPool:
    """Leases uids from [base, base + count)."""

    def __init__(self, base: int, count: int, folder: Path = LEASE_FOLDER) -> None:
        if base < 1000 or count < 1 or base + count > 2**31 - 2:
            raise ValueError(f"uid range {base}+{count}; expected a range above 1000 and below 2**31 - 1")
        self.base, self.count, self._folder = base, count, folder

    @property
    def shared_gid(self) -> int:
        """The sandboxes' shared group: the number just past the range."""
        return self.base + self.count

    def lease(self) -> UidLease:
        """A free uid; NoFreeUid when every one is leased or in use."""
        self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        start = random.randrange(self.count)  # spread servers over the range so they rarely probe the same uids
        busy = _running_uids()
        for offset in range(self.count):
            uid = self.base + (start + offset) % self.count
            if uid in busy:
                continue
            fd = os.open(self._folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return UidLease(uid, fd, self.shared_gid)
        raise NoFreeUid(f"all {self.count} sandbox uids from {self.base} are in use")


def _running_uids() -> set[int]:
    """The uids every process on the machine runs as (the owners of /proc/<pid>: their effective uids)."""
    uids: set[int] = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                uids.add(os.stat(f"/proc/{entry}").st_uid)
    return uids
