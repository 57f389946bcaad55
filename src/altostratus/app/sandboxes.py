"""How functions run: sandboxes when the machine allows them, and what the server says when it does not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from altostratus.app.slice import Mode
from altostratus.core.settings import SANDBOX_UIDS, Settings
from altostratus.functions.runtime.host import WorkerHost
from altostratus.functions.runtime.pool import DEFAULT_MAX_PROCESSES
from altostratus.functions.runtime.process import WORKER_PROGRAM, unsandboxed_host
from altostratus.functions.sandbox import ApiChannels, SandboxSupport, UnavailableHost, probe, sandbox_host

TOOL_MESSAGE = "Commands run no functions; the server (`alto serve`) does"


@dataclasses.dataclass
class Sandboxes:
    """How functions run: what the machine allows, the API channels of their sandboxes, the worker host."""

    support: SandboxSupport | None  # None: sandboxes were turned off (--insecure-functions-unsandboxed)
    channels: ApiChannels | None
    host: WorkerHost
    # The API endpoint as functions reach it (inside a sandbox, its forwarder on the sandbox's own loopback).
    endpoint_url: str
    # The group that may read function code and requirements (sandboxes with uids of their own), if any.
    code_gid: int | None = None

    def close(self) -> None:
        """Close the channel sockets."""
        if self.channels is not None:
            self.channels.close()


def build_sandboxes(settings: Settings, mode: Mode = Mode.SERVE) -> Sandboxes:
    """Sandboxed workers when the machine allows them, a host that says why not when it does not, or (asked for
    explicitly) plain unsandboxed workers. A command (Mode.TOOL) binds no channel and leases no uid."""
    if mode is Mode.TOOL:
        return Sandboxes(None, None, UnavailableHost((), message=TOOL_MESSAGE), settings.endpoint_url)
    if not settings.functions_sandbox:
        return Sandboxes(None, None, unsandboxed_host(), settings.endpoint_url)
    support = probe()
    if not support.ok:
        return Sandboxes(support, None, UnavailableHost(support.problems), settings.endpoint_url)
    # Twice the workers: an evicted worker's sandbox may still hold its channel while its successor starts.
    channels = ApiChannels(2 * DEFAULT_MAX_PROCESSES, settings.port)
    host = sandbox_host(
        support,
        Path(WORKER_PROGRAM),
        uid_base=settings.functions_sandbox_uid_base,
        uid_count=SANDBOX_UIDS,
        channels=channels,
        outbound_for_all=settings.functions_outbound_network,
    )
    return Sandboxes(support, channels, host, f"http://127.0.0.1:{settings.port}", host.code_gid)
