"""Versions written and removed at once by many writers keep one latest version per key (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, true

from altostratus.lake.objects import ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.lake.tables import objects
from altostratus.lake.versions import Versioning

WRITERS = 8


def at_once(count: int, work: object) -> None:
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            work(n)  # type: ignore[operator]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []


def latest_rows(lake: LakeService) -> int:
    with lake.store.read() as db:
        return int(
            db.execute(select(func.count()).where(objects.c.key == "k", objects.c.is_latest == true())).scalar_one()
        )


@pytest.mark.parametrize("state", [Versioning.ENABLED, Versioning.SUSPENDED])
def test_concurrent_writes_leave_one_latest_version(lake: LakeService, state: Versioning) -> None:
    lake.set_versioning("data", state)
    writers = []
    for n in range(WRITERS):
        writer = lake.object_writer("data", "k", ObjectMeta())
        writer.write(f"writer {n}".encode())
        writers.append(writer)
    at_once(WRITERS, lambda n: writers[n].commit())
    listing = lake.list_versions("data")
    assert len(listing.versions) == (WRITERS if state is Versioning.ENABLED else 1)
    assert [latest for _, latest in listing.versions].count(True) == 1 == latest_rows(lake)
    newest = listing.versions[0][0]
    assert b"".join(lake.read(lake.head("data", "k"))) == b"".join(lake.read(newest))


def test_concurrent_deletes_of_versions_promote_one(lake: LakeService) -> None:
    lake.set_versioning("data", Versioning.ENABLED)
    ids = []
    for n in range(WRITERS + 1):
        writer = lake.object_writer("data", "k", ObjectMeta())
        writer.write(b"%d" % n)
        ids.append(writer.commit().version_id)
    at_once(WRITERS, lambda n: lake.delete_object("data", "k", version_id=ids[-1 - n]))
    assert [info.version_id for info, _ in lake.list_versions("data").versions] == [ids[0]]
    assert latest_rows(lake) == 1
    assert lake.head("data", "k").version_id == ids[0]
