"""Function sandboxes: each worker in bubblewrap namespaces, as an unprivileged uid, with limits over its tree.

`probe()` tells at start whether this machine can make them (and why not); `sandbox_host()` builds the
WorkerHost the runtime starts workers with. See bubblewrap.py for how one sandbox is made, layout.py for what
it sees, channels.py for its one way to the platform's API, cgroups.py and tree.py for its limits.
"""

from __future__ import annotations

from pathlib import Path

from altostratus.core.errors import AltoError
from altostratus.functions.definitions import RunSpec
from altostratus.functions.runtime.host import RunningWorker, WorkerView
from altostratus.functions.sandbox.bubblewrap import BubblewrapHost, SandboxFailed, SandboxTools
from altostratus.functions.sandbox.channels import ApiChannels
from altostratus.functions.sandbox.layout import RuntimeLayer
from altostratus.functions.sandbox.seccomp import compile_filter
from altostratus.functions.sandbox.support import DEBIAN_PACKAGES, SandboxSupport, probe
from altostratus.functions.sandbox.uids import UidPool

__all__ = [
    "DEBIAN_PACKAGES",
    "ApiChannels",
    "BubblewrapHost",
    "FunctionsDisabled",
    "SandboxFailed",
    "SandboxSupport",
    "SandboxTools",
    "UnavailableHost",
    "probe",
    "sandbox_host",
]


class FunctionsDisabled(AltoError):
    """Functions cannot run: the sandbox cannot be set up here, and running unsandboxed was not asked for."""

    code = "ServiceException"
    status = 503


def sandbox_host(
    support: SandboxSupport,
    worker_program: Path,
    *,
    uid_base: int,
    uid_count: int,
    channels: ApiChannels | None,
    outbound_for_all: bool,
) -> BubblewrapHost:
    """The host that starts each worker in a sandbox of its own (support.ok must hold)."""
    if support.tools is None or support.problems:
        raise ValueError(f"sandboxes cannot be made here: {'; '.join(support.problems)}")
    support.cgroups.sweep()
    return BubblewrapHost(
        support.tools,
        RuntimeLayer.detect(worker_program),
        support.cgroups,
        uids=UidPool(uid_base, uid_count) if support.as_root else None,
        channels=channels,
        seccomp=compile_filter(),
        outbound_for_all=outbound_for_all,
    )


class UnavailableHost:
    """Refuses to start workers, saying why: what `alto serve` runs with when sandboxes cannot be made."""

    def __init__(self, problems: tuple[str, ...], *, message: str | None = None) -> None:
        self._message = message or (
            "Functions cannot run on this server: their sandbox cannot be set up here ("
            + "; ".join(problems)
            + "). Install what is missing, or start the server with --insecure-functions-unsandboxed to run "
            "functions without isolation from the host."
        )

    def view(self, spec: RunSpec) -> WorkerView:
        """Refuse: every worker asks for its view first."""
        raise FunctionsDisabled(self._message)

    def start(self, *args: object) -> RunningWorker:
        """Refuse (view has refused already, for every worker WorkerProcess makes)."""
        raise FunctionsDisabled(self._message)

    def close(self) -> None:
        """Nothing is held."""
