"""What the platform needs of one service, the same for every service: its wiring function returns one of these."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence

from altostratus.api.gateway import HttpHandler, ServiceAdapter
from altostratus.api.sigv4 import Verifier
from altostratus.jobs.runner import JobHandler


class Mode(enum.Enum):
    """What the platform is built for."""

    # The server: everything is built, and start() settles what a stop left half-way.
    SERVE = "serve"
    # A command working on the data directory beside a server that may be running: the same objects, but
    # nothing is cleaned up, started, bound or leased (no sandbox channels, no uid leases), and no function runs.
    TOOL = "tool"


def _nothing() -> None:
    """A start or stop with nothing to do."""


@dataclasses.dataclass
class ServiceSlice:
    """One service as the platform sees it: its job handlers, its wire (built on demand), its start and stop.

    `adapters` and `http_handlers` are built only for the gateway (a command never loads botocore's models);
    `start` runs when the server starts and `stop` when it stops, in the reverse order of the slices.
    """

    name: str
    jobs: Mapping[str, JobHandler] = dataclasses.field(default_factory=dict)
    adapters: Callable[[], Sequence[ServiceAdapter]] = lambda: ()
    http_handlers: Callable[[Verifier | None], Sequence[HttpHandler]] = lambda verifier: ()
    start: Callable[[], None] = _nothing
    stop: Callable[[], None] = _nothing
