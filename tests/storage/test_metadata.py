"""MetadataStore over SQLite and PostgreSQL: migrations, UTC datetimes, byte-ordered keys."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import StatementError

from altostratus.lake import tables as lake
from altostratus.storage.metadata import MIGRATIONS, MetadataStore
from altostratus.storage.migrations import target


@pytest.fixture
def store(database_url: str) -> Iterator[MetadataStore]:
    """A migrated store on a fresh database."""
    store = MetadataStore(database_url)
    store.migrate()
    yield store
    store.close()


def add_bucket(store: MetadataStore, created_at: dt.datetime, name: str = "bucket") -> None:
    with store.begin() as connection:
        connection.execute(
            insert(lake.buckets).values(name=name, region="us-east-1", created_at=created_at, notification_config={})
        )


def head_revision() -> str:
    """The newest migration's revision id."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_migrate_twice_is_idempotent(store: MetadataStore) -> None:
    add_bucket(store, dt.datetime.now(dt.UTC))
    store.migrate()
    tables = set(inspect(store.engine).get_table_names())
    assert set(target.metadata.tables) <= tables
    with store.begin() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
        assert connection.execute(select(lake.buckets.c.name)).scalars().all() == ["bucket"]


def test_utc_datetime_round_trips_aware_datetimes(store: MetadataStore) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    written = dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=plus_two)
    add_bucket(store, written)
    with store.begin() as connection:
        read = connection.execute(select(lake.buckets.c.created_at)).scalar_one()
    assert read == written
    assert read.utcoffset() == dt.timedelta(0)
    assert read == dt.datetime(2024, 2, 29, 21, 59, 58, 123456, tzinfo=dt.UTC)


def test_utc_datetime_rejects_naive_datetimes(store: MetadataStore) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        add_bucket(store, dt.datetime(2024, 1, 1, 12, 0))
    with store.begin() as connection:
        assert connection.execute(select(lake.buckets)).all() == []


def test_object_keys_sort_by_bytes(store: MetadataStore) -> None:
    now = dt.datetime.now(dt.UTC)
    keys = ["é", "b", "a", "B", "a/b", "a0", "Z", "~", "a b", "日本"]
    add_bucket(store, now)
    with store.begin() as connection:
        connection.execute(
            insert(lake.objects),
            [
                {
                    "bucket": "bucket",
                    "key": key,
                    "blob_key": f"blob-{number}",
                    "size": 0,
                    "etag": "d41d8cd98f00b204e9800998ecf8427e",
                    "content_type": "binary/octet-stream",
                    "headers": {},
                    "user_metadata": {},
                    "checksums": {},
                    "last_modified": now,
                    "sequence": number,
                }
                for number, key in enumerate(keys)
            ],
        )
        ordered = connection.execute(select(lake.objects.c.key).order_by(lake.objects.c.key)).scalars().all()
        after_a = connection.execute(
            select(lake.objects.c.key).where(lake.objects.c.key > "a").order_by(lake.objects.c.key)
        ).scalars()
        assert list(after_a) == [k for k in sorted(keys, key=str.encode) if k.encode() > b"a"]
    assert ordered == sorted(keys, key=str.encode)
    assert ordered.index("B") < ordered.index("a") < ordered.index("é")


def test_only_sqlite_reads_run_on_the_event_loop(database_url: str) -> None:
    # A SQLite read is a point read from a local file that never waits for the writer (WAL); PostgreSQL's is a
    # network round trip, which must not hold up the event loop (api/lake/objects.py asks before a HEAD or GET).
    store = MetadataStore(database_url)
    try:
        assert store.quick_reads is (store.dialect == "sqlite")
    finally:
        store.close()
