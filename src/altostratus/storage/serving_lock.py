"""The data directory's serving lock: one server per data directory, and start-up clean-up only under it.

At start a server removes what writes cut short by a crash left in its data directory (LocalBlobStore's
temporary files). Those look exactly like the writes in flight of a server still running, so only the process
that holds this lock may clean, and it holds the lock as long as it serves: a second `alto serve` on the same
data directory stops at start, and the CLI commands that open a data directory (`alto registry rollback`, `alto
endpoints stats`) never take it and never clean. The lock is an flock, so the kernel drops it when its process
ends, SIGKILL included: a crashed server never leaves it stuck.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from altostratus.core.errors import ConfigurationError
from altostratus.storage.private_files import PRIVATE_FILE_MODE

LOCK_FILE = "serve.lock"


class DataDirInUse(ConfigurationError):
    """Another process serves the data directory."""

    code = "DataDirectoryInUse"


@dataclasses.dataclass
class ServingLock:
    """The data directory's serving lock, held by this process until release() or its end."""

    path: Path
    _fd: int

    def release(self) -> None:
        """Give the lock back and remove its file (idempotent); a killed server's file is simply taken over."""
        if self._fd >= 0:
            # Removed while still locked: a process that opened this file meanwhile finds it gone once it gets the
            # flock, and tries again on the path (take_serving_lock), so two never both hold the lock.
            self.path.unlink(missing_ok=True)
            os.close(self._fd)
            self._fd = -1


def take_serving_lock(data_dir: Path) -> ServingLock:
    """The data directory's serving lock; DataDirInUse at once, without waiting, when another process holds it."""
    path = data_dir / LOCK_FILE
    while True:
        fd = _locked(path, data_dir)
        if _is_at(fd, path):
            break
        os.close(fd)  # the file we locked was its releaser's, removed meanwhile
    # The holder's pid, for the message a second server prints; the lock itself is the flock, not this text.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return ServingLock(path, fd)


def _locked(path: Path, data_dir: Path) -> int:
    """A descriptor of the file at path, flocked; DataDirInUse when another process holds it."""
    # Python opens descriptors close-on-exec: the workers and installers a server starts do not inherit the lock,
    # so one that outlives a killed server does not keep its data directory locked.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, PRIVATE_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DataDirInUse(
            f"data_dir={str(data_dir)!r} is in use: another `alto serve` (pid {holder}) holds {path}. Stop that "
            "server, or give this one a data directory of its own (--data-dir)"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_at(fd: int, path: Path) -> bool:
    """Whether the open file is still the one at path."""
    try:
        at = path.stat(follow_symlinks=False)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (at.st_dev, at.st_ino)


@contextlib.contextmanager
def serving_lock(data_dir: Path) -> Iterator[ServingLock]:
    """Hold the data directory's serving lock for the block."""
    lock = take_serving_lock(data_dir)
    try:
        yield lock
    finally:
        lock.release()
