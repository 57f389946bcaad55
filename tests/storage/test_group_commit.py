"""Group commit: concurrent writers share one SQLite transaction, each in a savepoint; PostgreSQL runs plain ones."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, event, insert, select

from altostratus.storage.group_commit import GroupCommit
from altostratus.storage.metadata import MetadataStore

WRITERS = 16
rows = Table("group_commit_rows", MetaData(), Column("writer", Integer, primary_key=True))


class WorkFailed(Exception):
    """What a writer's own work raises."""


class CommitFailed(Exception):
    """What the shared transaction raises when it ends."""


@pytest.fixture
def store(database_url: str) -> Iterator[MetadataStore]:
    """A store on a fresh database holding only the throwaway table."""
    store = MetadataStore(database_url)
    rows.metadata.create_all(store.engine)
    yield store
    store.close()


def add(writer: int, *, fail: bool = False, pause: float = 0.0) -> Callable[[Connection], int]:
    """Work that inserts the writer's row (then sleeps `pause`, raises if `fail`) and returns the writer."""

    def work(db: Connection) -> int:
        db.execute(insert(rows).values(writer=writer))
        time.sleep(pause)
        if fail:
            raise WorkFailed(f"writer {writer}")
        return writer

    return work


def stored(store: MetadataStore) -> list[int]:
    with store.read() as db:
        return sorted(db.execute(select(rows.c.writer)).scalars())


def count_commits(store: MetadataStore) -> list[None]:
    """A list that grows by one at every commit of the store's engine (savepoints' releases are not commits)."""
    commits: list[None] = []
    event.listen(store.engine, "commit", lambda _connection: commits.append(None))
    return commits


def outcome(run: Callable[[], Any]) -> Any:
    """What run() returned, or the exception it raised."""
    try:
        return run()
    except Exception as error:
        return error


def in_threads(runs: list[Callable[[], Any]], *, at_once: bool = True) -> tuple[list[threading.Thread], list[Any]]:
    """Start a thread per run (together, past a barrier, if at_once); join them with joined(); outcomes by index."""
    outcomes: list[Any] = [None] * len(runs)
    start = threading.Barrier(len(runs)) if at_once else None

    def target(index: int) -> None:
        if start is not None:
            start.wait()
        outcomes[index] = outcome(runs[index])

    threads = [threading.Thread(target=target, args=(index,)) for index in range(len(runs))]
    for thread in threads:
        thread.start()
    return threads, outcomes


def joined(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()


def wait_until_queued(group: GroupCommit | None, count: int) -> None:
    """Wait until `count` writers wait in the group's queue (PostgreSQL has no group: nothing to wait for)."""
    deadline = time.monotonic() + 10
    while group is not None and len(group._queue) < count:
        assert time.monotonic() < deadline, "the writers never queued"
        time.sleep(0.001)


def test_concurrent_writers_all_commit_in_fewer_transactions(store: MetadataStore) -> None:
    commits = count_commits(store)
    # Each work sleeps inside the transaction, so the writers arriving meanwhile queue behind its leader.
    threads, outcomes = in_threads([functools.partial(store.grouped, add(n, pause=0.02)) for n in range(WRITERS)])
    joined(threads)
    committed = len(commits)  # counted before reading: a read transaction ends in a commit too
    assert outcomes == list(range(WRITERS))
    assert stored(store) == list(range(WRITERS))
    assert committed < WRITERS if store.dialect == "sqlite" else committed == WRITERS


def test_a_failing_work_in_a_shared_group_rolls_back_only_its_own_insert(store: MetadataStore) -> None:
    commits = count_commits(store)
    running, release = threading.Event(), threading.Event()
    group = store._group

    def leader(db: Connection) -> str:
        running.set()
        release.wait(10)  # holds the leader's lock (SQLite) while the others queue
        return "leader"

    first, first_outcome = in_threads([lambda: store.grouped(leader)], at_once=False)
    assert running.wait(10)
    others, outcomes = in_threads([functools.partial(store.grouped, add(n, fail=n == 1)) for n in range(3)])
    wait_until_queued(group, 3)
    release.set()
    joined(first + others)
    committed = len(commits)
    assert first_outcome == ["leader"]
    assert outcomes[0] == 0 and outcomes[2] == 2
    assert isinstance(outcomes[1], WorkFailed) and str(outcomes[1]) == "writer 1"
    assert stored(store) == [0, 2]
    # SQLite: the leader's transaction, then one for the three queued; PostgreSQL: one per writer that succeeded.
    assert committed == (2 if store.dialect == "sqlite" else 3)


def test_a_single_writers_failure_is_rolled_back_and_raised(store: MetadataStore) -> None:
    with pytest.raises(WorkFailed, match="writer 7"):
        store.grouped(add(7, fail=True))
    assert stored(store) == []
    assert store.grouped(add(8)) == 8
    assert stored(store) == [8]


def test_a_failed_commit_fails_every_writer_of_its_group(store: MetadataStore) -> None:
    running, release = threading.Event(), threading.Event()

    @contextmanager
    def begin_then_fail() -> Iterator[Connection]:
        with store.begin() as db:
            yield db
            raise CommitFailed("the disk is full")

    group = GroupCommit(begin_then_fail)

    def leader(db: Connection) -> None:
        running.set()
        release.wait(10)

    first, first_outcome = in_threads([lambda: group.run(leader)], at_once=False)
    assert running.wait(10)
    others, outcomes = in_threads([functools.partial(group.run, add(n, fail=n == 1)) for n in range(3)])
    wait_until_queued(group, 3)
    release.set()
    joined(first + others)
    assert isinstance(first_outcome[0], CommitFailed)
    assert [type(found) for found in outcomes] == [CommitFailed, WorkFailed, CommitFailed]  # its own error stays
    assert outcomes[0] is outcomes[2]
    assert stored(store) == []


def test_several_works_given_together_share_one_transaction_and_fail_alone(store: MetadataStore) -> None:
    commits = count_commits(store)
    outcomes = store.grouped_many([add(n, fail=n == 2) for n in range(5)])
    committed = len(commits)
    assert outcomes[:2] == [0, 1] and outcomes[3:] == [3, 4]
    assert isinstance(outcomes[2], WorkFailed) and str(outcomes[2]) == "writer 2"
    assert stored(store) == [0, 1, 3, 4]
    # SQLite: one transaction for the five; PostgreSQL (no group): one per work that succeeded.
    assert committed == (1 if store.dialect == "sqlite" else 4)


def test_works_given_together_join_the_writers_already_queued(store: MetadataStore) -> None:
    running, release = threading.Event(), threading.Event()
    group = store._group

    def leader(db: Connection) -> str:
        running.set()
        release.wait(10)
        return "leader"

    first, first_outcome = in_threads([lambda: store.grouped(leader)], at_once=False)
    assert running.wait(10)
    single, single_outcome = in_threads([lambda: store.grouped(add(10))], at_once=False)
    wait_until_queued(group, 1)
    many, many_outcome = in_threads([lambda: store.grouped_many([add(11), add(12, fail=True)])], at_once=False)
    wait_until_queued(group, 3)
    release.set()
    joined(first + single + many)
    assert first_outcome == ["leader"] and single_outcome == [10]
    assert many_outcome[0][0] == 11 and isinstance(many_outcome[0][1], WorkFailed)
    assert stored(store) == [10, 11]


def savepoints(store: MetadataStore) -> list[str]:
    """The SAVEPOINT statements the store's engine runs from now on."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.upper().startswith("SAVEPOINT"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    return seen


def test_a_group_that_succeeds_runs_each_work_once_without_savepoints(store: MetadataStore) -> None:
    taken = savepoints(store)
    runs: list[int] = []

    def counted(writer: int) -> Callable[[Connection], int]:
        work = add(writer)
        return lambda db: runs.append(writer) or work(db)

    assert store.grouped_many([counted(n) for n in range(4)]) == [0, 1, 2, 3]
    assert sorted(runs) == [0, 1, 2, 3] and taken == []


def test_a_failing_work_makes_its_group_run_again_once_in_savepoints(store: MetadataStore) -> None:
    taken = savepoints(store)
    runs: list[int] = []

    def counted(writer: int) -> Callable[[Connection], int]:
        work = add(writer, fail=writer == 1)
        return lambda db: runs.append(writer) or work(db)

    outcomes = store.grouped_many([counted(n) for n in range(3)])
    assert outcomes[0] == 0 and outcomes[2] == 2 and isinstance(outcomes[1], WorkFailed)
    assert stored(store) == [0, 2]
    if store.dialect == "sqlite":
        # Together until writer 1 failed (0, 1), then each in a savepoint (0, 1, 2): two runs at most each.
        assert runs == [0, 1, 0, 1, 2] and len(taken) == 3
    else:
        assert runs == [0, 1, 2] and taken == []
