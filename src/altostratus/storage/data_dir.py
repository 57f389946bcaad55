"""The data directory's check at start: its owner's only, and no other user able to change or replace it.

- A data directory that does not exist is made 0700.
- One that another user owns, that its group or others may write, or whose place another user could take (a
  parent folder they own or may write, without the sticky bit /tmp has) is refused: someone else may have
  changed what is in it (added an access key, swapped a model), and no chmod would undo that.
- One that others may only read, as versions before this one left it (0755, its database 0644), is made
  private: its folders 0700, its files 0600. Who could read it may have read its secrets, but nobody else could
  change it, so tightening it is safe and refusing would only make every user run the chmod by hand.

The function sandbox's trees (functions/code, functions/deps) are left out: the sandbox sets their owner and
modes itself, for the user its workers run as.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from altostratus.core.errors import ConfigurationError
from altostratus.storage.private_files import PRIVATE_DIR_MODE, SHARED_BITS, make_private_dirs

# Relative to the data directory: trees whose owner and modes the function sandbox sets for its own user.
SANDBOX_TREES = (Path("functions/code"), Path("functions/deps"))
WRITE_BITS = stat.S_IWGRP | stat.S_IWOTH
SHOWN_PROBLEMS = 5


class UnsafeDataDir(ConfigurationError):
    """Someone other than the data directory's owner can change it, or could have."""

    code = "UnsafeDataDirectory"


@dataclasses.dataclass(frozen=True)
class Tightened:
    """An existing data directory made private: its mode before, and how many entries in it changed mode."""

    path: Path
    mode_before: int
    entries: int

    def note(self) -> str:
        """One line for the operator."""
        return (
            f"note: {self.path} was mode {self.mode_before:04o}, readable by other users (as older versions made "
            f"it); it is now {PRIVATE_DIR_MODE:04o}, and {self.entries} files and folders in it are their "
            "owner's only"
        )


def secure_data_dir(path: Path, *, uid: int | None = None) -> Tightened | None:
    """Make or check the data directory (see the module's docstring); what was tightened, if anything."""
    uid = os.geteuid() if uid is None else uid
    _check_place(path, uid)
    try:
        info = path.stat()
    except FileNotFoundError:
        make_private_dirs(path)
        # Another user may have made the folder (or a link) in the moment between the stat and the mkdir, in a
        # parent such as /tmp: what stands there now must be a folder of ours, as for one that existed.
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode):
            raise UnsafeDataDir(
                f"data_dir={str(path)!r} is not a directory of this user's (it appeared meanwhile)"
            ) from None
        _check_own(path, info, uid)
        return None
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeDataDir(f"data_dir={str(path)!r} is not a directory")
    _check_own(path, info, uid)
    mode = stat.S_IMODE(info.st_mode)
    if not mode & SHARED_BITS:
        return None
    entries = _tighten_contents(path, uid)
    # Last, so that a start that stops half-way tightens again next time.
    path.chmod(mode & ~SHARED_BITS)
    return Tightened(path, mode, entries)


def _check_own(path: Path, info: os.stat_result, uid: int) -> None:
    """UnsafeDataDir unless uid owns the entry and neither its group nor others may write it."""
    if info.st_uid != uid:
        raise UnsafeDataDir(
            f"{path} is owned by uid {info.st_uid}, not by this user (uid {uid}): its owner could change the data "
            "in it. Use a data directory of your own (--data-dir), or run as its owner"
        )
    if info.st_mode & WRITE_BITS:
        raise UnsafeDataDir(
            f"{path} is mode {stat.S_IMODE(info.st_mode):04o}: its group or other users may write in it, so they "
            f"may have changed its data. Check what is in it, then make it private: chmod -R go-rwx {path}"
        )


def _check_place(path: Path, uid: int) -> None:
    """UnsafeDataDir if another user could rename the data directory away and put one of theirs in its place."""
    absolute = Path(os.path.abspath(path))
    # Both the path as given (a symlink on it could be re-pointed) and where it leads.
    for ancestor in dict.fromkeys([*absolute.parents, *absolute.resolve().parents]):
        try:
            info = ancestor.lstat()
        except FileNotFoundError:
            continue
        trusted = info.st_uid in (0, uid)
        if stat.S_ISLNK(info.st_mode):
            if not trusted:
                raise UnsafeDataDir(f"{ancestor} is a symbolic link owned by uid {info.st_uid}: they could re-point it")
            continue
        sticky = bool(info.st_mode & stat.S_ISVTX)  # as /tmp: others may not rename what they do not own
        if not trusted or (info.st_mode & WRITE_BITS and not sticky):
            raise UnsafeDataDir(
                f"the data directory {path} lies in {ancestor} (owner uid {info.st_uid}, mode "
                f"{stat.S_IMODE(info.st_mode):04o}), which another user may change: they could put a data "
                "directory of their own in its place. Choose one whose parent folders only you or root may write"
            )
    if absolute.is_symlink() and absolute.lstat().st_uid not in (0, uid):
        raise UnsafeDataDir(f"{absolute} is a symbolic link owned by uid {absolute.lstat().st_uid}")


def _tighten_contents(root: Path, uid: int) -> int:
    """Take the group's and others' bits off every entry (sandbox trees aside); how many changed.

    Every entry is checked before any changes, so a refusal leaves the directory as it was.
    """
    shared = []
    problems = []
    for entry, info in _entries(root):
        if info.st_uid != uid or info.st_mode & WRITE_BITS:
            problems.append(f"{entry} (uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o})")
        elif info.st_mode & SHARED_BITS:
            shared.append((entry, stat.S_IMODE(info.st_mode)))
    if problems:
        more = f" and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
        raise UnsafeDataDir(
            f"{root} holds entries another user owns or may write: {', '.join(problems[:SHOWN_PROBLEMS])}{more}. "
            f"Check them, then: chown -R {uid} {root} && chmod -R go-rwx {root}"
        )
    for entry, mode in shared:
        entry.chmod(mode & ~SHARED_BITS)
    return len(shared)


def _entries(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """Every folder and regular file under root, with its lstat; symbolic links and the sandbox trees left out."""
    skipped = {root / tree for tree in SANDBOX_TREES}
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        folders[:] = [name for name in folders if here / name not in skipped]
        for name in [*folders, *files]:
            entry = here / name
            info = entry.lstat()
            if stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode):
                yield entry, info
