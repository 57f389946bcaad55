"""Function code and installed requirements on disk: readable by the sandboxes that run them, by no one else.

The data directory is 0700, so no other local user reaches these folders at all. Inside it, a root server's
sandboxes run as uids of their own: those folders are group-readable by the sandboxes' shared group (and
nothing is writable but by the server). A server run as a user maps its own uid into its sandboxes, so owner
permissions are enough there.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def share(folder: Path, gid: int | None) -> None:
    """Give folder's tree to the sandboxes' group (read-only), or keep it the owner's alone when gid is None."""
    read, search = (0o640, 0o750) if gid is not None else (0o600, 0o700)
    for root, _folders, files in os.walk(folder):
        _set(Path(root), search, gid)
        for name in files:
            path = Path(root) / name
            if path.is_symlink():
                continue
            executable = os.stat(path).st_mode & stat.S_IXUSR
            _set(path, search if executable else read, gid)


def _set(path: Path, mode: int, gid: int | None) -> None:
    if gid is not None:
        os.chown(path, -1, gid)
    os.chmod(path, mode)
