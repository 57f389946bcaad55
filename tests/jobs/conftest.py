"""Fixtures for the jobs tests: a migrated metadata store on every database backend, and a fake clock."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from altostratus.jobs import JobQueue
from altostratus.storage.metadata import MetadataStore

START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
BACKOFF_SECONDS = 10.0


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime = START) -> None:
        self._now = start
        self._monotonic = 0.0
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """The fake current time."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """Seconds since the fake clock started."""
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            self._monotonic += seconds


@pytest.fixture
def store(database_url: str) -> Iterator[MetadataStore]:
    """A migrated metadata store on a fresh database (SQLite, then PostgreSQL: tests/conftest.py), closed after."""
    metadata = MetadataStore(database_url)
    metadata.migrate()
    yield metadata
    metadata.close()


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at 2030-01-01 UTC."""
    return FakeClock()


@pytest.fixture
def advance(clock: FakeClock) -> Callable[[float], None]:
    """Move the fake clock forward by some seconds."""
    return clock.advance


@pytest.fixture
def queue(store: MetadataStore, clock: FakeClock) -> JobQueue:
    """A job queue on the fake clock, with a 10 s retry backoff base."""
    return JobQueue(store, clock, retry_backoff_seconds=BACKOFF_SECONDS)


@pytest.fixture
def unreachable_queue(tmp_path: Path, clock: FakeClock) -> Iterator[JobQueue]:
    """A queue on a database without tables: for arguments that must be rejected before any database access."""
    metadata = MetadataStore(f"sqlite:///{tmp_path / 'no-tables.db'}")
    yield JobQueue(metadata, clock)
    metadata.close()
