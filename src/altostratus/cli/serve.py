"""`alto serve`: the HTTP gateway and the background workers, in one process."""

from __future__ import annotations

import gc
import shlex
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click
import uvicorn

from altostratus.cli.options import (
    LocalCredentials,
    credentials_path,
    data_dir_option,
    load_settings,
    read_credentials_file,
)
from altostratus.cli.output import CommandFailed
from altostratus.core.settings import Settings

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
def serve(data_dir: Path | None, host: str | None, port: int | None, insecure_no_auth: bool) -> None:
    """Run the platform: the AWS-compatible gateway on one port, and the background workers."""
    settings = load_settings(data_dir=data_dir, host=host, port=port, auth=False if insecure_no_auth else None)
    # Imported here so that `alto keys` and `alto lake` do not load every service.
    from altostratus.api.http_protocol import ConnectionLimits, bounded_protocol
    from altostratus.app import build_platform, create_asgi_app

    # Bound before anything else, so a taken port fails at once and the banner never lies.
    with listen(settings.host, settings.port) as listener, stop_on_signals() as stop:
        platform = build_platform(settings)
        try:
            app = create_asgi_app(platform)
            platform.keys.ensure_initial_key(credentials_path(settings))
            credentials = read_credentials_file(credentials_path(settings))
            known = credentials is not None and platform.keys.get(credentials.access_key_id) is not None
            # click.echo flushes, so a test or script reading stdout through a pipe sees the banner now.
            click.echo(banner(settings, credentials, key_exists=known))
            platform.start()
            freeze_startup_objects()
            limits = ConnectionLimits(settings.http_head_timeout_seconds, settings.http_stall_timeout_seconds)
            config = uvicorn.Config(
                app,
                host=settings.host,
                port=settings.port,
                log_level="warning",
                lifespan="on",
                http=bounded_protocol(limits),
            )
            stop.server = uvicorn.Server(config)
            if not stop.requested:
                stop.server.run(sockets=[listener])
        finally:
            platform.close()


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


def banner(settings: Settings, credentials: LocalCredentials | None, *, key_exists: bool) -> str:
    """What `alto serve` prints on start: where it listens, which key to use, how to try it."""
    lines = [
        f"Altostratus is listening on {settings.endpoint_url}",
        f"  data dir:  {settings.data_dir}",
    ]
    lines += _credentials_lines(settings, credentials, key_exists=key_exists)
    lines += _warning_lines(settings)
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
