"""Conditional writes decided in the commit's transaction: racing writers on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from altostratus.core.errors import AltoError
from altostratus.lake.objects import ObjectMeta, WriteCondition
from altostratus.lake.service import LakeService
from altostratus.lake.tables import object_bodies

WRITERS = 8


def race(lake: LakeService, condition: WriteCondition | None) -> list[str]:
    """WRITERS threads write the key "k" at once under the condition; each one's outcome ("won" or the error code)."""
    writers = []
    for n in range(WRITERS):
        writer = lake.object_writer("data", "k", ObjectMeta())
        writer.write(f"writer {n}".encode())
        writers.append(writer)
    start = threading.Barrier(WRITERS)
    outcomes = [""] * WRITERS

    def commit(n: int) -> None:
        start.wait()
        try:
            writers[n].commit(condition=condition)
            outcomes[n] = "won"
        except AltoError as error:
            outcomes[n] = error.code

    threads = [threading.Thread(target=commit, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def body(lake: LakeService) -> bytes:
    return b"".join(lake.read(lake.head("data", "k")))


def stored_copies(lake: LakeService) -> int:
    """How many objects' bytes are stored: blobs, and small objects' bodies beside their rows."""
    with lake.store.read() as db:
        beside_rows = db.execute(select(func.count()).select_from(object_bodies)).scalar_one()
    return len(list(lake.blobs.keys("objects/"))) + beside_rows


def test_of_racing_creates_exactly_one_wins(lake: LakeService) -> None:
    outcomes = race(lake, WriteCondition(if_none_match=True))
    assert outcomes.count("won") == 1
    assert set(outcomes) <= {"won", "PreconditionFailed", "ConditionalRequestConflict"}
    assert body(lake) == f"writer {outcomes.index('won')}".encode()
    assert stored_copies(lake) == 1  # the losers' bytes are gone


def test_of_racing_updates_of_one_etag_exactly_one_wins(lake: LakeService) -> None:
    writer = lake.object_writer("data", "k", ObjectMeta())
    writer.write(b"original")
    etag = writer.commit().etag
    outcomes = race(lake, WriteCondition(if_match=etag))
    assert outcomes.count("won") == 1 and set(outcomes) <= {"won", "PreconditionFailed"}
    assert body(lake) == f"writer {outcomes.index('won')}".encode()


def test_racing_plain_puts_of_a_new_key_all_succeed_and_one_remains(lake: LakeService) -> None:
    outcomes = race(lake, None)
    assert outcomes == ["won"] * WRITERS  # on PostgreSQL the inserts raced: none may fail for it
    assert body(lake) in {f"writer {n}".encode() for n in range(WRITERS)}
    assert stored_copies(lake) == 1  # every replaced blob was dropped
