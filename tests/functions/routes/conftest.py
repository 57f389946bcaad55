"""Fixtures for the routes tests: a RouteStore on each database, a clock moved by hand, a stand-in for invoke."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from altostratus.functions.definitions import Outcome
from altostratus.functions.routes import RoutesService, RouteStore
from altostratus.functions.service import InvokeResult
from altostratus.storage.metadata import MetadataStore


class HandClock:
    """Moves only when a test says so."""

    def __init__(self) -> None:
        self.wall = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        self.seconds = 0.0

    def now(self) -> dt.datetime:
        """The current fake time."""
        return self.wall + dt.timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        """Seconds since the start."""
        return self.seconds


@dataclasses.dataclass
class FakeInvoke:
    """Answers like FunctionsService.invoke with a fixed payload (or raises), recording each event."""

    payload: bytes = b'{"statusCode": 200, "body": "ok"}'
    function_error: str | None = None
    raises: Exception | None = None
    calls: list[tuple[str, str | None, dict[str, object]]] = dataclasses.field(default_factory=list)

    def __call__(
        self, name: str, payload: bytes, *, qualifier: str | None = None, request_id: str | None = None
    ) -> InvokeResult:
        """Record the call and answer it."""
        self.calls.append((name, qualifier, json.loads(payload)))
        if self.raises is not None:
            raise self.raises
        outcome = Outcome(self.payload, self.function_error, "", 1.0, False)
        return InvokeResult(request_id or "r", "$LATEST", outcome)


@pytest.fixture
def clock() -> HandClock:
    """A clock at 2030-01-01."""
    return HandClock()


def _route_store(url: str, clock: HandClock) -> Iterator[RouteStore]:
    metadata = MetadataStore(url)
    metadata.migrate()
    yield RouteStore(metadata, clock)
    metadata.close()


@pytest.fixture
def store(database_url: str, clock: HandClock) -> Iterator[RouteStore]:
    """A RouteStore on a fresh database: SQLite, then PostgreSQL."""
    yield from _route_store(database_url, clock)


@pytest.fixture
def sqlite_store(tmp_path: Path, clock: HandClock) -> Iterator[RouteStore]:
    """A RouteStore on a fresh SQLite database, for tests whose subject is not the database."""
    yield from _route_store(f"sqlite:///{tmp_path / 'metadata.db'}", clock)


@pytest.fixture
def invoke() -> FakeInvoke:
    """A stand-in for FunctionsService.invoke."""
    return FakeInvoke()


@pytest.fixture
def service(sqlite_store: RouteStore, invoke: FakeInvoke, clock: HandClock) -> RoutesService:
    """A RoutesService over the SQLite store, caching its table for one second."""
    return RoutesService(sqlite_store, invoke, clock, cache_seconds=1.0)
