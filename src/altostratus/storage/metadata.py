"""The MetadataStore: one SQLAlchemy engine (SQLite by default, PostgreSQL by URL), migrated by Alembic."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event

from altostratus.core.errors import ConfigurationError
from altostratus.storage.group_commit import GroupCommit
from altostratus.storage.private_files import create_private_file, make_private_dirs

MIGRATIONS = Path(__file__).parent / "migrations"
SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")
# Execution option that marks a connection's transactions as read-only (see MetadataStore.read).
READ_ONLY = "alto_read_only"
T = TypeVar("T")


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
        # PostgreSQL groups concurrent commits' WAL flushes itself; SQLite commits one fsync per transaction.
        self._group = GroupCommit(self.begin) if self.dialect == "sqlite" else None

    @property
    def dialect(self) -> str:
        """The database's dialect name: 'sqlite' or 'postgresql'."""
        return self.engine.dialect.name

    @property
    def quick_reads(self) -> bool:
        """Whether a read transaction may run on the event loop rather than take a thread hop: SQLite's, a point
        read from a file in this process that never waits for the writer (WAL); a server's costs a round trip.
        A hop here (a queue, a wake-up, two threads taking turns at the GIL) cost more than the read itself."""
        return self.dialect == "sqlite"

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.connect() as connection:
            # SQLite rebuilds a table to alter it (batch mode): dropping the old copy would fire its foreign keys'
            # ON DELETE CASCADE (object_bodies), so they are off while migrating, as Alembic advises, then checked.
            raw = connection.connection.dbapi_connection if self.dialect == "sqlite" else None
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=OFF")  # outside a transaction: inside one SQLite ignores it
            try:
                with connection.begin():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    if raw is not None and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                        raise ConfigurationError("a migration left rows whose foreign keys point nowhere")
            finally:
                if raw is not None:
                    raw.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside a transaction, committed on success, rolled back on error."""
        with self._write_lock, self.engine.begin() as connection:
            yield connection

    def grouped(self, work: Callable[[Connection], T]) -> T:
        """work(db) in a write transaction that concurrent callers may share (storage/group_commit.py): its result
        once committed. Only for work whose effects wait for the commit (none outside the database): work that
        shares a transaction with a failing one runs again (storage/group_commit.py)."""
        (outcome,) = self.grouped_many([work])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def grouped_many(self, works: Sequence[Callable[[Connection], T]]) -> list[T | BaseException]:
        """Each work(db) as grouped() runs it, all sharing one transaction where they can: what each returned, or
        what it raised (its changes rolled back, the others' kept)."""
        if self._group is not None:
            return self._group.run_many(works)
        outcomes: list[T | BaseException] = []
        for work in works:
            try:
                with self.begin() as db:
                    outcomes.append(work(db))
            except Exception as error:
                outcomes.append(error)
        return outcomes

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
    # WAL lets readers run beside the one writer. FULL sync fsyncs the log at every commit, so a commit survives a
    # power cut too, as PostgreSQL's defaults do; group commit (grouped()) shares that fsync among writers.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    # Take the write lock at BEGIN so two writers queue on busy_timeout instead of one failing
    # with "database is locked" when it upgrades a read transaction. Readers (WAL) need no lock.
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
