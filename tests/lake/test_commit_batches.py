"""Versions prepared apart and committed together (LakeService.commit_objects): one transaction, each failing alone."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from altostratus.api.lake.small_commits import CommitBatcher
from altostratus.core.errors import PreconditionFailed
from altostratus.lake import notifications
from altostratus.lake.bodies import INLINE_LIMIT
from altostratus.lake.errors import NoSuchBucket
from altostratus.lake.objects import ObjectMeta, WriteCondition
from altostratus.lake.service import LakeService, PendingCommit


def prepared(lake: LakeService, key: str, data: bytes, *, bucket: str = "data", **commit: Any) -> PendingCommit:
    writer = lake.object_writer(bucket, key, ObjectMeta())
    with writer:
        writer.write(data)
        return writer.prepare(**commit)


def announced(lake: LakeService) -> list[str]:
    keys: list[str] = []
    lake.bus.subscribe(notifications.OBJECT_TOPIC, lambda _topic, change: keys.append(str(change["key"])))
    return keys


def test_a_batch_commits_each_version_and_fails_each_alone(lake: LakeService) -> None:
    old = prepared(lake, "taken", b"first")
    assert lake.commit_objects([old])[0] == lake.head("data", "taken")
    seen = announced(lake)
    batch = [
        prepared(lake, "a", b"alpha"),
        prepared(lake, "taken", b"second", condition=WriteCondition(if_none_match=True)),
        prepared(lake, "b", b"beta"),
    ]
    outcomes = lake.commit_objects(batch)
    assert isinstance(outcomes[1], PreconditionFailed)
    assert [o.key for o in (outcomes[0], outcomes[2]) if not isinstance(o, BaseException)] == ["a", "b"]
    assert b"".join(lake.read(lake.head("data", "a"))) == b"alpha"
    assert b"".join(lake.read(lake.head("data", "b"))) == b"beta"
    assert b"".join(lake.read(lake.head("data", "taken"))) == b"first"  # the refused write left it alone
    assert seen == ["a", "b"]  # only what was stored is announced


def test_a_failed_version_kept_in_a_file_loses_its_file(lake: LakeService) -> None:
    big = prepared(lake, "big", b"x" * (INLINE_LIMIT + 1))
    assert big.info.blob_key and big.body is None and lake.blobs.exists(big.info.blob_key)
    lost = dataclasses.replace(big, info=dataclasses.replace(big.info, bucket="gone"))  # its bucket went meanwhile
    assert isinstance(lake.commit_objects([lost])[0], NoSuchBucket)
    assert not lake.blobs.exists(big.info.blob_key)


def test_puts_waiting_at_once_commit_in_one_batch(lake: LakeService) -> None:
    batches: list[int] = []
    commit_objects = lake.commit_objects

    def counted(batch: list[PendingCommit]) -> list[Any]:
        batches.append(len(batch))
        return commit_objects(batch)

    lake.commit_objects = counted  # type: ignore[method-assign]
    batcher = CommitBatcher(lake)

    async def put_all() -> list[Any]:
        pending = [prepared(lake, f"k{n}", f"v{n}".encode()) for n in range(6)]
        refused = prepared(lake, "k0", b"again", condition=WriteCondition(if_match='"nope"'))
        return await asyncio.gather(*(batcher.commit(p) for p in [*pending, refused]), return_exceptions=True)

    outcomes = asyncio.run(put_all())
    assert [o.key for o in outcomes[:6]] == [f"k{n}" for n in range(6)]
    assert isinstance(outcomes[6], PreconditionFailed)
    # Every PUT waiting when the hop starts shares it: one batch, one transaction.
    assert batches == [7]
    assert [b"".join(lake.read(lake.head("data", f"k{n}"))) for n in range(6)] == [f"v{n}".encode() for n in range(6)]
