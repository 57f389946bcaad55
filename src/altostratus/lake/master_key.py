"""The lake's master key: 32 random bytes in a file of the data directory, its owner's only, made at first use.

It wraps the data key of every SSE-S3 object; losing it loses those objects, so back it up with the metadata
store (and keep the backup as private as the key). Gateways that share a metadata store and blob store (the
scale-out column) must share this file too. It is created by linking a complete temporary file into place, so
two processes starting at once agree on one key and none ever reads a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from altostratus.core.errors import ConfigurationError
from altostratus.storage.private_files import PRIVATE_FILE_MODE, SHARED_BITS, make_private_dirs

KEY_BYTES = 32


def master_key_path(data_dir: Path) -> Path:
    """Where the data directory keeps the lake's master key."""
    return data_dir / "keys" / "lake-master.key"


def load_or_create(path: Path) -> bytes:
    """The master key in `path`, made (random, mode 0600) if there is none yet."""
    if not path.exists():
        _create(path)
    mode = path.stat().st_mode
    if mode & SHARED_BITS:
        raise ConfigurationError(
            f"{path} is mode {mode & 0o777:04o}: the lake's master key must be its owner's only (chmod 600 {path})"
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"{path} holds {len(key)} bytes; the lake's master key is {KEY_BYTES} random bytes")
    return key


def _create(path: Path) -> None:
    make_private_dirs(path.parent)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, PRIVATE_FILE_MODE)
        with contextlib.suppress(FileExistsError):  # another process made it first: its key is the key
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
