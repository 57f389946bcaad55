"""Folders and files only their owner may open: the data directory's folders 0700, its files 0600.

The data directory holds secrets (the credentials file, every access key's secret in the metadata store, the
lake's objects), so nothing in it is for other local users. The modes are set where each folder and file is
made, so they hold wherever the platform runs (`alto serve` also sets a umask of 077 on top, see cli/serve.py).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
# What `alto serve` masks off every mode it and its children ask for: the group's and others' bits.
PRIVATE_UMASK = 0o077
# The bits of a mode that give the group or others anything.
SHARED_BITS = 0o077


def make_private_dirs(path: Path) -> None:
    """Create the folder and any missing parents, each 0700 (Path.mkdir's parents=True would make them 0755)."""
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        return
    except FileNotFoundError:
        make_private_dirs(path.parent)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=PRIVATE_DIR_MODE)


def create_private_file(path: Path) -> None:
    """Create the file empty and 0600 unless it exists (one that exists keeps its mode)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
