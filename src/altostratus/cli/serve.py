"""`alto serve`: the HTTP gateway and the background workers, in one process."""

from __future__ import annotations

import gc
import os
import shlex
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
import uvicorn

from altostratus.cli.options import (
    LocalCredentials,
    credentials_path,
    data_dir_option,
    load_settings,
    private_data_dir,
    read_credentials_file,
)
from altostratus.cli.output import CommandFailed
from altostratus.core.settings import Settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from altostratus.app import Platform
    from altostratus.functions.sandbox.support import SandboxSupport
from altostratus.functions.sandbox.support import SandboxSupport
from altostratus.storage.private_files import PRIVATE_UMASK
from altostratus.storage.serving_lock import serving_lock

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@click.command()
@data_dir_option
@click.option("--host", default=None, help="Address to listen on [env ALTO_HOST; default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [env ALTO_PORT; default 8340].")
@click.option(
    "--insecure-no-auth",
    is_flag=True,
    help="Accept requests without checking their signatures. For throwaway experiments only.",
)
@click.option(
    "--insecure-functions-unsandboxed",
    is_flag=True,
    help="Run functions without a sandbox, as this server's user, seeing everything it sees. Only for trusted code "
    "on a machine where sandboxes cannot be made.",
)
def serve(
    data_dir: Path | None,
    host: str | None,
    port: int | None,
    insecure_no_auth: bool,
    insecure_functions_unsandboxed: bool,
) -> None:
    """Run the platform: the AWS-compatible gateway on one port, and the background workers."""
    settings = load_settings(
        data_dir=data_dir,
        host=host,
        port=port,
        auth=False if insecure_no_auth else None,
        functions_sandbox=False if insecure_functions_unsandboxed else None,
    )
    private_data_dir(settings)
    # Imported here so that `alto keys` and `alto lake` do not load every service.
    from altostratus.app import build_platform, create_asgi_app

    # Locked and bound before the platform is built, so a served data directory or a taken port fails at once and
    # the banner never lies; the lock is held until the server has stopped.
    with (
        private_umask(),
        serving_lock(settings.data_dir),
        listen(settings.host, settings.port) as listener,
        stop_on_signals() as stop,
    ):
        platform = build_platform(settings)
        try:
            app = create_asgi_app(platform)
            platform.keys.ensure_initial_key(credentials_path(settings))
            credentials = read_credentials_file(credentials_path(settings))
            known = credentials is not None and platform.keys.get(credentials.access_key_id) is not None
            # click.echo flushes, so a test or script reading stdout through a pipe sees the banner now.
            click.echo(banner(settings, credentials, key_exists=known, sandboxes=platform.sandboxes.support))
            platform.start()
            freeze_startup_objects()
            stop.server = gateway_server(settings, app)
            if not stop.requested:
                stop.server.run(sockets=gateway_sockets(platform, listener))
        finally:
            platform.close()


def gateway_server(settings: Settings, app: ASGIApp) -> uvicorn.Server:
    """uvicorn serving the gateway, with the connection limits of the settings (serve and demo both run it)."""
    from altostratus.api.http_protocol import ConnectionLimits, bounded_protocol

    limits = ConnectionLimits(settings.http_head_timeout_seconds, settings.http_stall_timeout_seconds)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        # uvicorn's access log quotes each request's path and reads its client before its logger drops the line,
        # on the event loop; at this log level it printed nothing anyway.
        access_log=False,
        lifespan="on",
        http=bounded_protocol(limits),
        # uvicorn believes X-Forwarded-* from 127.0.0.1 unless told otherwise: any local client could then claim
        # https (SSE-C, aws:SecureTransport) or another address (aws:SourceIp). Only named proxies are believed.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies,
    )
    return uvicorn.Server(config)


def gateway_sockets(platform: Platform, listener: socket.socket) -> list[socket.socket]:
    """The TCP listener and the sandboxes' API channels: one gateway serves them all (sandbox/channels.py)."""
    channels = platform.sandboxes.channels
    return [listener, *(channels.sockets if channels else [])]


@contextmanager
def private_umask() -> Iterator[None]:
    """Inside the block, what the server and its children create is their owner's only unless made otherwise.

    The modes set where the platform makes its folders and files are the guarantee; the umask is the belt over
    them, for what they do not choose: SQLite's journals, pip's installs, the functions' workers and what
    their handlers write, libraries, code yet to come. The function sandbox sets the modes of its own trees
    explicitly. Restored after the block, for a server run inside another process (tests).
    """
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def freeze_startup_objects() -> None:
    """Keep what the server loaded at start (services, botocore models, numpy, scikit-learn) out of garbage collection.

    Those ~230,000 objects live as long as the process; a full collection walked them all, pausing every
    request for 120-145 ms here. Frozen, a full collection walks only what came later (as Instagram's
    Django servers do, and the reason `gc.freeze` exists).
    """
    gc.collect()
    gc.freeze()


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on host:port; CommandFailed naming the address when it cannot be had."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening now queues connections that arrive between the banner and uvicorn's start.
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise CommandFailed(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another with --host/--port"
        ) from exc
    return sock


class StopRequest:
    """Ctrl+C or SIGTERM, received as a request to stop rather than as an exception in mid-step."""

    def __init__(self) -> None:
        self.requested = False
        self.server: uvicorn.Server | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: note the request, and tell uvicorn when it is starting or running."""
        self.requested = True
        if self.server is not None:
            self.server.should_exit = True


@contextmanager
def stop_on_signals() -> Iterator[StopRequest]:
    """Handle Ctrl+C and SIGTERM with a StopRequest inside the block, so start-up and close always finish."""
    # uvicorn installs its own handlers while it runs, and on a graceful stop raises the signal again
    # with the handler it found: this one, which then ends the block normally.
    stop = StopRequest()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def banner(
    settings: Settings,
    credentials: LocalCredentials | None,
    *,
    key_exists: bool,
    sandboxes: SandboxSupport | None = None,
) -> str:
    """What `alto serve` prints on start: where it listens, which key to use, how to try it."""
    lines = [
        f"Altostratus is listening on {settings.endpoint_url}",
        f"  data dir:  {settings.data_dir}",
    ]
    lines += _credentials_lines(settings, credentials, key_exists=key_exists)
    lines += _warning_lines(settings)
    lines += _sandbox_lines(settings, sandboxes)
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


def _credentials_lines(settings: Settings, credentials: LocalCredentials | None, *, key_exists: bool) -> list[str]:
    path = credentials_path(settings)
    if credentials is None:
        return [
            f"  credentials: {path} does not exist (keys were made another way);",
            "  create a key with `alto keys create` and use its AccessKeyId and SecretAccessKey.",
            "",
        ]
    lines = [
        f"  access key id:     {credentials.access_key_id}",
        f"  secret access key: {credentials.secret_access_key}",
        f"  credentials file:  {path} (AWS shared-credentials file, profile [default])",
    ]
    if not key_exists:
        lines.append("  WARNING: that key has been deleted; create one with `alto keys create`.")
    snippet = (
        f'import boto3; s3 = boto3.client("s3", endpoint_url="{settings.endpoint_url}", '
        f'aws_access_key_id="{credentials.access_key_id}", '
        f'aws_secret_access_key="{credentials.secret_access_key}", '
        f'region_name="{settings.region}"); print(s3.list_buckets())'
    )
    return [
        *lines,
        "",
        "Try it with boto3:",
        # The interpreter and aws CLI of this installation (.venv): a bare `python3` may have no boto3.
        f"  {shlex.quote(sys.executable)} -c {shlex.quote(snippet)}",
        "or with the aws CLI:",
        f"  AWS_SHARED_CREDENTIALS_FILE={shlex.quote(str(path))} {shlex.quote(_aws_cli())} "
        f"--endpoint-url {settings.endpoint_url} s3 ls",
        "",
    ]


def _aws_cli() -> str:
    """The aws CLI installed beside this interpreter, or plain `aws`."""
    beside = Path(sys.executable).with_name("aws")
    return str(beside) if beside.exists() else "aws"


def _sandbox_lines(settings: Settings, support: SandboxSupport | None) -> list[str]:
    rule = "!" * 78
    if not settings.functions_sandbox:
        return [
            rule,
            "!! WARNING: FUNCTIONS RUN UNSANDBOXED (--insecure-functions-unsandboxed).",
            "!! Every function runs as this server's user and can read the data directory, every key",
            "!! and every other function. Deploy only code you trust as you trust this server.",
            rule,
            "",
        ]
    if support is None:
        return []
    if not support.ok:
        return [
            rule,
            "!! Functions are DISABLED: their sandbox cannot be set up on this machine:",
            *(f"!!   {problem}" for problem in support.problems),
            "!! Invocations fail until it can (`make serve` installs what Debian needs), or start",
            "!! with --insecure-functions-unsandboxed to run them without isolation.",
            rule,
            "",
        ]
    mode = "a uid of its own per sandbox" if support.as_root else "an unprivileged uid in a user namespace"
    lines = [f"Functions run sandboxed (bubblewrap; {mode})."]
    lines += [f"  note: {note}" for note in support.notes]
    return [*lines, ""]


def _warning_lines(settings: Settings) -> list[str]:
    lines = []
    if not settings.auth:
        rule = "!" * 78
        lines += [
            rule,
            "!! WARNING: AUTHENTICATION IS OFF (--insecure-no-auth / ALTO_AUTH=false).",
            "!! Every request is accepted, signed or not, with full rights. Use this only for",
            "!! throwaway experiments on a machine nobody else can reach.",
            rule,
            "",
        ]
    if settings.host not in LOOPBACK_HOSTS:
        lines += [f"Note: listening on {settings.host}, so other machines can reach this server.", ""]
    return lines
