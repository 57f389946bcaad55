"""Fixtures for the lake's tests below the wire."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from altostratus.core.clock import SystemClock
from altostratus.core.events import EventBus
from altostratus.lake.service import LakeService
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.metadata import MetadataStore


@pytest.fixture
def lake(database_url: str, tmp_path: Path) -> Iterator[LakeService]:
    """A lake with one bucket, "data", once on SQLite and once on PostgreSQL."""
    store = MetadataStore(database_url)
    store.migrate()
    service = LakeService(store, LocalBlobStore(tmp_path / "blobs"), EventBus(), SystemClock(), "us-east-1")
    service.create_bucket("data")
    yield service
    store.close()
