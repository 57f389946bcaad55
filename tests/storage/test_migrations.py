"""The migrations build exactly the schema that the services' tables modules declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from altostratus.storage.metadata import MetadataStore
from altostratus.storage.migrations import target


def test_migrated_database_matches_schema(database_url: str) -> None:
    store = MetadataStore(database_url)
    try:
        store.migrate()
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, target.metadata)
    finally:
        store.close()
    assert differences == []
