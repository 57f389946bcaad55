"""A real `alto serve` process on 127.0.0.1 for tests and benchmarks, stopped by its process id."""

from __future__ import annotations

import configparser
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ALTO = str(Path(sys.executable).with_name("alto"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class LiveServer:
    """A running server: where it listens, its data directory, its admin key and its process."""

    data_dir: Path
    port: int
    args: Sequence[str]
    env: Mapping[str, str]
    process: subprocess.Popen[bytes] | None = None
    access_key: str = ""
    secret_key: str = ""

    @property
    def endpoint(self) -> str:
        """The server's URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> LiveServer:
        """Start the process and wait until it answers its health check."""
        log = self.data_dir.parent / f"{self.data_dir.name}.log"
        cmd = [ALTO, "serve", "--data-dir", str(self.data_dir), "--port", str(self.port), *self.args]
        # The child keeps its own copy of the log's descriptor; the parent's is closed at once.
        with log.open("ab") as sink:
            self.process = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, **self.env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"alto serve exited with {self.process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/_alto/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"alto serve did not answer within {timeout} s; see {log}")
        self._read_credentials()
        return self

    def _read_credentials(self) -> None:
        path = self.data_dir / "credentials"
        if path.exists():
            parser = configparser.ConfigParser()
            parser.read(path)
            self.access_key = parser["default"]["aws_access_key_id"]
            self.secret_key = parser["default"]["aws_secret_access_key"]

    def stop(self, timeout: float = 10) -> None:
        """Stop the process by its pid: SIGTERM, then SIGKILL if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the process, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def client(
        self, service: str = "s3", *, access_key: str | None = None, secret_key: str | None = None, **config: Any
    ) -> Any:
        """A boto3 client for this server, signed with the admin key unless another is given."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    def aws_env(self) -> dict[str, str]:
        """Environment for the aws CLI to reach this server with the admin key."""
        return {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.endpoint,
        }


@contextmanager
def live_server(data_dir: Path, *args: str, env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    """Run `alto serve` for the duration of the block."""
    server = LiveServer(data_dir, free_port(), args, dict(env or {}))
    server.start()
    try:
        yield server
    finally:
        server.stop()
