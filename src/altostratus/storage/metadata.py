"""The MetadataStore: one SQLAlchemy engine (SQLite by default, PostgreSQL by URL), migrated by Alembic."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event

from altostratus.core.errors import ConfigurationError
from altostratus.storage.private_files import create_private_file, make_private_dirs

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
# Execution option that marks a connection's transactions as read-only (see MetadataStore.read).
READ_ONLY = "alto_read_only"


class MetadataStore:
    """All platform state lives here; `begin()` gives one transaction."""

    def __init__(self, url: str) -> None:
        scheme = url.split(":", 1)[0]
        if scheme not in SCHEMES:
            raise ConfigurationError(f"database_url scheme {scheme!r}; expected one of {list(SCHEMES)}")
        if scheme == "postgresql":
            url = "postgresql+psycopg" + url[len("postgresql") :]
        self.url = url
        self.engine: Engine = _create_engine(url)
        # SQLite runs one writer at a time, and a writer that finds the lock taken polls for it with
        # sleeps of up to 100 ms; queueing this process's writers on a lock wakes each one at once.
        self._write_lock: AbstractContextManager[object] = (
            threading.Lock() if self.dialect == "sqlite" else nullcontext()
        )

    @property
    def dialect(self) -> str:
        """The database's dialect name: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        with self.engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside a transaction, committed on success, rolled back on error."""
        with self._write_lock, self.engine.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside a transaction that only reads: on SQLite it runs beside the writer."""
        with self.engine.connect() as connection, connection.execution_options(**{READ_ONLY: True}).begin():
            yield connection

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()


def _create_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            make_private_dirs(Path(path).parent)
            # SQLite gives its -wal and -shm files the database file's mode: made 0600 here, all three are.
            create_private_file(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the one writer; NORMAL sync is durable across process crashes
    # (a SIGKILL loses nothing committed), only a power cut can lose the newest transactions.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    # Take the write lock at BEGIN so two writers queue on busy_timeout instead of one failing
    # with "database is locked" when it upgrades a read transaction. Readers (WAL) need no lock.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
