"""Group commit: concurrent writers share one transaction, so one commit (one fsync of the journal) serves them all.

Databases do this for their own log (PostgreSQL's WAL flush, InnoDB's binlog group commit); SQLite leaves it to
its callers. A writer queues its work and waits for the leader's lock. Whoever takes the lock first runs every
queued piece of work, its own and the others', in one transaction. If one of them fails, that transaction is rolled
back and the group runs again, each work in a savepoint of its own, so that the failure rolls back that work alone
(a work may therefore run twice: it must act on the database only). The writers that arrive while a group
commits form the next group. With a single writer nothing changes: one transaction each, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

T = TypeVar("T")


class _Pending(Generic[T]):
    """One writer's work, and its outcome once its group has committed."""

    __slots__ = ("done", "error", "value", "work")

    def __init__(self, work: Callable[[Connection], T]) -> None:
        self.work = work
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs writers' work in shared transactions opened by `begin` (a MetadataStore's)."""

    def __init__(self, begin: Callable[[], AbstractContextManager[Connection]]) -> None:
        self._begin = begin
        self._queue: list[_Pending[Any]] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def run(self, work: Callable[[Connection], T]) -> T:
        """Run work(db) in a transaction, perhaps shared with other writers', and return what it returned once that
        transaction has committed; what work raises is raised here, and its changes are rolled back."""
        (outcome,) = self.run_many([work])
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def run_many(self, works: Sequence[Callable[[Connection], T]]) -> list[T | BaseException]:
        """Run several writers' work as run() runs one, queued together (so in one group unless the queue's
        leader takes some first): what each returned, or what it raised, once its transaction has ended."""
        pendings: list[_Pending[T]] = [_Pending(work) for work in works]
        with self._queue_lock:
            self._queue.extend(pendings)
        with self._leader:
            if not all(pending.done for pending in pendings):
                with self._queue_lock:
                    group, self._queue = self._queue, []
                self._commit(group)
        return [pending.error if pending.error is not None else pending.value for pending in pendings]

    def _commit(self, group: list[_Pending[Any]]) -> None:
        try:
            if len(group) == 1:  # alone: the transaction itself undoes a failure, no savepoint needed
                with self._begin() as db:
                    _run_alone(group[0], db)
            elif not self._run_together(group):
                with self._begin() as db:
                    for pending in group:
                        _run_in_savepoint(pending, db)
        except BaseException as error:  # the commit itself failed: nothing of the group was stored
            for pending in group:
                if pending.error is None:
                    pending.error = error
        finally:
            for pending in group:
                pending.done = True

    def _run_together(self, group: list[_Pending[Any]]) -> bool:
        """The group's work in one transaction with no savepoints (each costs two statements more): True once it
        has committed; False, with nothing stored, as soon as one work fails, and the group then runs again with
        each work in a savepoint. A failing writer makes its group run twice at most."""
        try:
            with self._begin() as db:
                for pending in group:
                    try:
                        pending.value = pending.work(db)
                    except Exception:
                        raise _OneFailed from None
        except _OneFailed:
            for pending in group:
                pending.value = None
            return False
        return True


class _OneFailed(Exception):
    """A work of a group run together failed: the transaction is rolled back and the group runs again."""


def _run_alone(pending: _Pending[Any], db: Connection) -> None:
    try:
        pending.value = pending.work(db)
    except BaseException as error:
        pending.error = error
        raise


def _run_in_savepoint(pending: _Pending[Any], db: Connection) -> None:
    try:
        with db.begin_nested():
            pending.value = pending.work(db)
    except Exception as error:
        pending.error = error
