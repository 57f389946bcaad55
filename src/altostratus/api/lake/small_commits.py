"""Small PUTs committed from the event loop in batches: one thread hop, one transaction, one fsync a batch.

A thread hop per PUT (a queue, a wake-up, the loop and a worker taking turns at the GIL) cost more here than the
PUT's own work. A small object's bytes are read, checksummed and held on the event loop; its commit joins the
batch waiting for the next hop: while one batch commits in its worker thread, the PUTs that arrive wait for the
next, as writers wait for a database's group commit. A single PUT still takes one hop, as before.
"""

from __future__ import annotations

import asyncio

from anyio import to_thread

from altostratus.lake.objects import ObjectInfo
from altostratus.lake.service import LakeService, PendingCommit


class CommitBatcher:
    """Commits pending object versions (LakeService.commit_objects) in batches, from one event loop."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake
        self._waiting: list[tuple[PendingCommit, asyncio.Future[ObjectInfo]]] = []
        self._draining: asyncio.Task[None] | None = None

    async def commit(self, pending: PendingCommit) -> ObjectInfo:
        """The committed version, once the batch it joined has committed; what its commit raised otherwise."""
        future: asyncio.Future[ObjectInfo] = asyncio.get_running_loop().create_future()
        self._waiting.append((pending, future))
        if self._draining is None:
            self._draining = asyncio.get_running_loop().create_task(self._drain())
        # A request that goes away (its task cancelled) leaves its version to be committed, as a PUT whose client
        # disconnects after sending the whole body is: the batch does not wait for it, nor drop it.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    outcomes = await to_thread.run_sync(self._lake.commit_objects, [p for p, _ in batch])
                except Exception as error:  # the hop itself failed: no version of the batch is known stored
                    outcomes = [error] * len(batch)
                except BaseException:  # the server is stopping
                    for _, future in batch:
                        future.cancel()
                    raise
                for (_, future), outcome in zip(batch, outcomes, strict=True):
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._draining = None
