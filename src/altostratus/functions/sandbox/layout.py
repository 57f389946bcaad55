"""What a sandbox's file system holds, as bubblewrap arguments: a read-only root with only the runtime in it.

    /usr, /bin, /lib...    the host's, read-only (the system's libraries and tools, as Lambda's AL2023 image has)
    /etc                   passwd, group and hosts of the sandbox's own, ld.so.cache; resolv.conf and CA
                           certificates only for functions with outbound network
    <python prefix>        the interpreter and its standard library, read-only at the host's path
    /var/runtime           the worker program and the SDK Lambda's Python runtime bundles (boto3 and what it needs)
    /var/task              the function's code, read-only (LAMBDA_TASK_ROOT, the working directory)
    /opt/python            the function's installed requirements, read-only
    /tmp                   a private tmpfs of the function's ephemeral storage size, the only writable place
    /proc, /dev            the sandbox's own PID namespace; null, zero, random, urandom, tty
    /run/alto/api.sock     the channel to the platform's API (see channels.py)

Nothing else of the host is there: not the data directory, not other functions, not the server's processes.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import sys
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

TASK_ROOT = "/var/task"
DEPS_ROOT = "/opt/python"
RUNTIME_DIR = "/var/runtime"
API_SOCKET = "/run/alto/api.sock"
WORKER_NAME = "altostratus_worker.py"
# Lambda's Python runtime bundles boto3; these are it and what it needs (python-dateutil brings six).
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
CA_CERTIFICATES = ("/etc/ssl/certs", "/usr/share/ca-certificates")


@dataclasses.dataclass(frozen=True)
class RuntimeLayer:
    """The interpreter, its standard library, the worker program and the bundled SDK, as the host has them."""

    python: Path
    prefix: Path
    worker: Path
    libraries: tuple[Path, ...]

    @classmethod
    def detect(cls, worker: Path) -> RuntimeLayer:
        """This server's own interpreter (the base one, not its virtual environment) and SDK."""
        python = Path(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
        return cls(python, Path(sys.base_prefix), worker, tuple(_distribution_entries(RUNTIME_DISTRIBUTIONS)))

    @property
    def sys_path(self) -> list[str]:
        """Where the worker imports from, after the function's own folders."""
        return [RUNTIME_DIR]

    def arguments(self) -> list[str]:
        """The bubblewrap arguments that lay the runtime out."""
        args = _ro_root()
        if not _under("/usr", self.prefix):
            args += [*_parents(self.prefix), "--ro-bind", str(self.prefix), str(self.prefix)]
        if not _under(str(self.prefix), self.python) and not _under("/usr", self.python):
            args += [*_parents(self.python), "--ro-bind", str(self.python), str(self.python)]
        args += ["--dir", "/var", "--dir", RUNTIME_DIR, "--ro-bind", str(self.worker), f"{RUNTIME_DIR}/{WORKER_NAME}"]
        for entry in self.libraries:
            args += ["--ro-bind", str(entry), f"{RUNTIME_DIR}/{entry.name}"]
        return args


def function_arguments(code_dir: Path, deps_dir: Path | None) -> list[str]:
    """The function's own folders, read-only."""
    args = ["--ro-bind", str(code_dir), TASK_ROOT]
    if deps_dir is not None:
        args += ["--dir", "/opt", "--ro-bind", str(deps_dir), DEPS_ROOT]
    return args


def network_arguments() -> list[str]:
    """What a function with outbound network needs besides the network and its resolv.conf: CA certificates."""
    args = []
    for folder in CA_CERTIFICATES:
        if Path(folder).is_dir() and not _under("/usr", Path(folder)):
            args += [*_parents(Path(folder)), "--ro-bind", folder, folder]
    return args


# slirp4netns answers DNS at this address; the host's resolv.conf may name 127.0.0.53 (systemd-resolved), which
# is the host's loopback and out of the sandbox's reach.
SLIRP_DNS = "10.0.2.3"


def identity_files(uid: int, gid: int, hostname: str, *, outbound: bool) -> dict[str, bytes]:
    """/etc/passwd, /etc/group and /etc/hosts for the sandbox (its one user, named as Lambda's is, and localhost),
    and /etc/resolv.conf for one with outbound network."""
    resolv = {"/etc/resolv.conf": f"nameserver {SLIRP_DNS}\n".encode()} if outbound else {}
    return resolv | {
        "/etc/passwd": f"sbx_user1051:x:{uid}:{gid}:sandbox:/tmp:/sbin/nologin\n".encode(),
        "/etc/group": f"sbx_user1051:x:{gid}:\n".encode(),
        "/etc/hosts": f"127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost\n".encode(),
    }


def _ro_root() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in TOP_LEVEL:
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--dir", "/etc"]
    if Path("/etc/ld.so.cache").exists():
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


def _parents(path: Path) -> list[str]:
    """--dir for each folder above path, so bubblewrap makes them 0755 (it makes missing ones 0700 as root)."""
    args: list[str] = []
    for parent in reversed(PurePosixPath(path).parents):
        if str(parent) != "/":
            args += ["--dir", str(parent)]
    return args


def _under(folder: str, path: Path) -> bool:
    return path == Path(folder) or Path(folder) in path.parents


def _distribution_entries(names: Iterable[str]) -> list[Path]:
    """The top-level files and folders (packages, modules, .dist-info) of installed distributions."""
    entries: dict[str, Path] = {}
    for name in names:
        distribution = importlib.metadata.distribution(name)
        root = Path(str(distribution.locate_file("")))
        for file in distribution.files or ():
            parts = PurePosixPath(str(file)).parts
            if parts and parts[0] != ".." and not parts[0].endswith(".pth"):
                entries.setdefault(parts[0], root / parts[0])
    return sorted(path for path in entries.values() if path.exists() and path.name != "__pycache__")
