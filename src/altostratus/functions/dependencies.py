"""A function's requirements.txt, installed with pip into a folder shared by every function with the same one."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from altostratus.functions.errors import DependencyInstallFailed
from altostratus.functions.sharing import share

PIP_TIMEOUT_SECONDS = 30 * 60
# How much of pip's output a Failed function's StateReason quotes.
REASON_TAIL_CHARS = 1500


class DependencyInstaller:
    """Installs requirements with `pip install --target`, once per distinct requirements.txt and Python."""

    def __init__(
        self,
        root: Path,
        *,
        pip_args: Sequence[str] = (),
        python: str = sys.executable,
        share_gid: int | None = None,
    ) -> None:
        self._root = root
        self._pip_args = list(pip_args)
        self._python = python
        self._share_gid = share_gid

    def key(self, requirements: str) -> str:
        """The name of the folder these requirements install into (the Python version is part of it)."""
        tag = f"{sys.implementation.name}-{sys.version_info.major}.{sys.version_info.minor}"
        return hashlib.sha256(f"{tag}\n{requirements}".encode()).hexdigest()

    def folder(self, key: str) -> Path:
        """Where the requirements of this key are installed."""
        return self._root / key

    def log_path(self, key: str) -> Path:
        """pip's output from the install of this key."""
        return self._root / f"{key}.log"

    def is_installed(self, key: str) -> bool:
        """Whether this machine has the folder (it appears, whole, only once pip succeeded)."""
        return self.folder(key).is_dir()

    def install(self, key: str, requirements: str) -> Path:
        """The installed requirements' folder, running pip if it is not there; DependencyInstallFailed if pip fails."""
        target = self.folder(key)
        if target.is_dir():
            return target
        self._root.mkdir(parents=True, exist_ok=True)
        staging = self._root / f".{key}.{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            requirements_file = staging / "requirements.txt"
            requirements_file.write_text(requirements)
            status, output = self._pip(staging / "site", requirements_file)
            self.log_path(key).write_text(output)
            if status != 0:
                raise DependencyInstallFailed(
                    f"pip install -r requirements.txt failed (exit status {status}): "
                    f"{output.strip()[-REASON_TAIL_CHARS:]}"
                )
            share(staging / "site", self._share_gid)
            try:
                (staging / "site").rename(target)
            except OSError:
                # Another worker installed the same requirements first; its folder is as good as ours.
                if not target.is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def _pip(self, target: Path, requirements_file: Path) -> tuple[int, str]:
        command = [
            self._python,
            "-m",
            "pip",
            "install",
            "--target",
            str(target),
            "--no-input",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            # Wheels only: an sdist's setup.py would run its author's code on the host, outside any sandbox.
            "--only-binary=:all:",
            "--requirement",
            str(requirements_file),
            *self._pip_args,
        ]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL
            )
        except subprocess.TimeoutExpired as expired:
            raise DependencyInstallFailed(f"pip install did not finish within {PIP_TIMEOUT_SECONDS} s") from expired
        return done.returncode, done.stdout + done.stderr
