"""MetadataStore transactions: readers run beside a writer; writers in one process take turns."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection, func, insert, select

from altostratus.lake import tables as lake
from altostratus.storage.metadata import MetadataStore

WRITERS = 8
BUCKETS_PER_WRITER = 10


@pytest.fixture
def store(database_url: str) -> Iterator[MetadataStore]:
    """A migrated store on a fresh database."""
    store = MetadataStore(database_url)
    store.migrate()
    yield store
    store.close()


def add_bucket(db: Connection, name: str) -> None:
    db.execute(
        insert(lake.buckets).values(
            name=name, region="us-east-1", created_at=dt.datetime.now(dt.UTC), notification_config={}
        )
    )


def bucket_count(store: MetadataStore) -> int:
    with store.read() as db:
        return int(db.execute(select(func.count()).select_from(lake.buckets)).scalar_one())


def test_read_runs_while_a_writer_holds_its_transaction(store: MetadataStore) -> None:
    inserted, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.begin() as db:
            add_bucket(db, "pending")
            inserted.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert inserted.wait(10)
        started = time.monotonic()
        assert bucket_count(store) == 0  # the uncommitted row is not seen, and the read does not wait for it
        assert time.monotonic() - started < 5
    finally:
        release.set()
        thread.join(10)
    assert bucket_count(store) == 1


def test_concurrent_writers_all_commit(store: MetadataStore) -> None:
    def write(worker: int) -> None:
        for i in range(BUCKETS_PER_WRITER):
            with store.begin() as db:
                add_bucket(db, f"bucket-{worker}-{i}")

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))
    assert bucket_count(store) == WRITERS * BUCKETS_PER_WRITER
