"""Each collection's vector index in memory, loaded from the metadata store on first use and kept in step with it.

The metadata store is the truth; an index is a cache of its faces' vectors. Every change to a collection's faces
bumps the collection's `version` in the same transaction. A writer in this process holds the collection's lock
across its transaction and then applies its own change to the index, so its index stays current without a
reload. When a search finds the stored version newer than its index's (another process, say the CLI, changed
the faces) it reloads only the difference: the stored keys are compared with the index's, removed ones leave
and the vectors of new ones are read. A collection deleted and created again has a new `generation`, and its
index starts empty.

With snapshots (index_snapshots.py), a collection's graph is saved once it is built, then on a writer's call
when the last save is older than `SnapshotPolicy.seconds` and at least `SnapshotPolicy.changes` keys changed
since, and at `flush`/`close`. After a restart the first search loads the snapshot of the collection's
generation and catches it up with the rows, as for another process's changes; without one, the rows are read
into the exact matrix (which answers at once) and the graph is built in the background.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from sqlalchemy import Connection, select

from altostratus.storage.metadata import MetadataStore
from altostratus.vision.errors import ResourceNotFound
from altostratus.vision.index_snapshots import IndexSnapshots
from altostratus.vision.tables import face_collections, faces
from altostratus.vision.vector_index import DIMENSION, HnswSettings, Keys, VectorIndex, Vectors

# Rows read per batch when loading vectors: 50,000 is 25 MB of float32 at 128 dimensions.
LOAD_BATCH = 50_000
# Keys whose stored vector is compared with the index's per query, looking for keys given again (see _reused).
REUSE_BATCH = 64

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SnapshotPolicy:
    """Where collections' graphs are saved, and how often besides after each build and at flush/close.

    A writer's call saves when the last save is older than `seconds` and at least `changes` keys changed since:
    a save takes seconds at a million faces (and holds back that collection's writers meanwhile).
    """

    folder: Path
    changes: int = 10_000
    seconds: float = 600.0


@dataclasses.dataclass(frozen=True)
class IndexState:
    """Which state of a collection's faces an index holds: its generation and version in the metadata store."""

    generation: str
    version: int


@dataclasses.dataclass
class _Loaded:
    state: IndexState
    index: VectorIndex
    unsaved: int = 0  # keys changed since the snapshot was saved (or since the index was made)
    saved_at: float | None = None  # monotonic time of the last save; None before the first


class CollectionIndexes:
    """The vector index of every collection searched in this process, with a lock per collection for writers."""

    def __init__(
        self,
        store: MetadataStore,
        *,
        dimension: int = DIMENSION,
        exact_limit: int,
        hnsw: HnswSettings | None = None,
        snapshots: SnapshotPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._dimension = dimension
        self._exact_limit = exact_limit
        self._hnsw = hnsw or HnswSettings()
        self._policy = snapshots
        self._snapshots = (
            IndexSnapshots(snapshots.folder, dimension=dimension, hnsw=self._hnsw) if snapshots is not None else None
        )
        self._monotonic = monotonic
        self._loaded: dict[str, _Loaded] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, collection_id: str) -> threading.Lock:
        """The collection's writer lock: hold it across a change's transaction and the `changed` that follows."""
        with self._guard:
            return self._locks.setdefault(collection_id, threading.Lock())

    def current(self, collection_id: str, state: IndexState) -> VectorIndex:
        """The collection's index, holding at least the given state (loaded or brought up to date if need be)."""
        loaded = self._loaded.get(collection_id)
        if loaded is not None and _holds(loaded.state, state):
            return loaded.index
        with self.lock(collection_id):
            loaded = self._loaded.get(collection_id)
            if loaded is None or loaded.state.generation != state.generation:
                if loaded is not None:
                    loaded.index.close(wait=False)
                loaded = self._restored(collection_id, state.generation)
            if not _holds(loaded.state, state):
                loaded.state, changes = self._sync(collection_id, loaded.index)
                loaded.unsaved += changes
            self._loaded[collection_id] = loaded
            return loaded.index

    def changed(
        self,
        collection_id: str,
        state: IndexState,
        *,
        added: tuple[Keys, Vectors] | None = None,
        removed: Keys | None = None,
    ) -> None:
        """Apply a committed change whose transaction moved the collection to `state` (caller holds the lock).

        An index that did not hold the state just before is left behind: the next search reloads what changed.
        """
        loaded = self._loaded.get(collection_id)
        if loaded is None or loaded.state != IndexState(state.generation, state.version - 1):
            return
        if removed is not None:
            loaded.index.remove(removed)
            loaded.unsaved += len(removed)
        if added is not None:
            loaded.index.add(*added)
            loaded.unsaved += len(added[0])
        loaded.state = state
        if self._due(loaded):
            self._save(collection_id, loaded)

    def forget(self, collection_id: str) -> None:
        """Drop the collection's index and its snapshot (the collection is gone; the caller holds the lock)."""
        loaded = self._loaded.pop(collection_id, None)
        if loaded is not None:
            # Not waiting: the building thread may be waiting for this collection's lock to save its graph.
            loaded.index.close(wait=False)
        if self._snapshots is not None:
            self._snapshots.delete(collection_id)

    def flush(self) -> None:
        """Save the snapshot of every graph changed since its last save (or never saved)."""
        for collection_id in list(self._loaded):
            with self.lock(collection_id):
                loaded = self._loaded.get(collection_id)
                if loaded is not None and (loaded.unsaved or loaded.saved_at is None):
                    self._save(collection_id, loaded)

    def close(self) -> None:
        """Stop the graphs being built (the next start builds them again) and save the snapshots: call at stop."""
        for loaded in list(self._loaded.values()):
            loaded.index.close()
        self.flush()

    def wait_for_graphs(self, timeout: float | None = None) -> None:
        """Wait for the graphs being built to take over (and their snapshots to be saved)."""
        for loaded in list(self._loaded.values()):
            loaded.index.wait_for_graph(timeout)

    def _new_index(self, collection_id: str) -> VectorIndex:
        return VectorIndex(
            dimension=self._dimension,
            exact_limit=self._exact_limit,
            hnsw=self._hnsw,
            on_graph=functools.partial(self._graph_built, collection_id),
        )

    def _opened(self, collection_id: str, path: Path, tombstones: Keys) -> VectorIndex:
        return VectorIndex.from_graph(
            path,
            tombstones,
            dimension=self._dimension,
            exact_limit=self._exact_limit,
            hnsw=self._hnsw,
            on_graph=functools.partial(self._graph_built, collection_id),
        )

    def _restored(self, collection_id: str, generation: str) -> _Loaded:
        """The collection's index from its snapshot of this generation, or a new empty one; to be synced."""
        if self._snapshots is not None:
            restored = self._snapshots.load(collection_id, generation, functools.partial(self._opened, collection_id))
            if restored is not None:
                # Version -1: the rows are compared with the snapshot even when the version matches, which is cheap
                # beside loading the graph and catches a store restored from a backup.
                return _Loaded(IndexState(generation, -1), restored.index, saved_at=self._monotonic())
        return _Loaded(IndexState(generation, -1), self._new_index(collection_id))

    def _graph_built(self, collection_id: str, index: VectorIndex) -> None:
        """Save a graph just built in the background (in its thread), unless the collection moved on meanwhile."""
        with self.lock(collection_id):
            loaded = self._loaded.get(collection_id)
            if loaded is not None and loaded.index is index:
                self._save(collection_id, loaded)

    def _due(self, loaded: _Loaded) -> bool:
        if self._policy is None or loaded.saved_at is None or loaded.unsaved < self._policy.changes:
            return False
        return self._monotonic() - loaded.saved_at >= self._policy.seconds

    def _save(self, collection_id: str, loaded: _Loaded) -> None:
        """Save the collection's graph as its snapshot (the caller holds the lock, so the state matches it)."""
        if self._snapshots is None:
            return
        try:
            saved = self._snapshots.save(collection_id, loaded.state.generation, loaded.state.version, loaded.index)
        except OSError:
            # The change it follows is committed, and a snapshot is only a head start: log it, fail no call.
            logger.exception("saving the index snapshot of collection %r failed", collection_id)
            return
        if saved:
            loaded.unsaved, loaded.saved_at = 0, self._monotonic()

    def _sync(self, collection_id: str, index: VectorIndex) -> tuple[IndexState, int]:
        """Make the index hold the stored faces: drop the keys gone, add the vectors of the new ones.

        Returns the state it now holds and the number of keys that changed.
        """
        with self._store.read() as db:
            row = db.execute(
                select(face_collections.c.generation, face_collections.c.version).where(
                    face_collections.c.collection_id == collection_id
                )
            ).first()
            if row is None:
                raise ResourceNotFound(f"CollectionId={collection_id!r} does not exist")
            where = faces.c.collection_id == collection_id
            stored = np.fromiter(db.execute(select(faces.c.key).where(where)).scalars(), dtype=np.uint64)
            held = index.keys()
            reused = self._reused(db, collection_id, index, np.intersect1d(held, stored, assume_unique=True))
            gone = np.union1d(np.setdiff1d(held, stored, assume_unique=True), reused)
            index.remove(gone)
            new = np.union1d(np.setdiff1d(stored, held, assume_unique=True), reused)
            for keys, vectors in self._vectors(db, collection_id, new):
                index.add(keys, vectors)
            return IndexState(str(row.generation), int(row.version)), len(gone) + len(new)

    def _reused(self, db: Connection, collection_id: str, index: VectorIndex, shared: Keys) -> Keys:
        """The keys both held and stored whose stored vector is not the one held: keys given to another face.

        SQLite gives a new row the largest key in the table plus one, so a key deleted while it was the largest
        (with every larger one) comes back for the next face. Such a key lies above every key that kept its
        face, so the keys are checked from the largest down, a batch at a time, up to a batch with no change.
        """
        reused: list[Keys] = []
        for end in range(len(shared), 0, -REUSE_BATCH):
            batch = shared[max(end - REUSE_BATCH, 0) : end]
            statement = select(faces.c.key, faces.c.vector).where(
                faces.c.collection_id == collection_id, faces.c.key.in_(batch.tolist())
            )
            rows = db.execute(statement).all()
            found = np.array([row.key for row in rows], dtype=np.uint64)
            matrix = np.frombuffer(b"".join(row.vector for row in rows), dtype="<f4").reshape(
                len(rows), self._dimension
            )
            changed = found[np.any(index.vectors_of(found) != matrix, axis=1)]
            if not len(changed):
                break
            reused.append(changed)
        return np.concatenate(reused) if reused else np.empty(0, dtype=np.uint64)

    def _vectors(self, db: Connection, collection_id: str, keys: Keys) -> Iterator[tuple[Keys, Vectors]]:
        """The vectors of these keys, a batch at a time."""
        if not len(keys):
            return
        # Keys grow with each insert, so the new faces are usually the newest: read from the smallest key on.
        statement = (
            select(faces.c.key, faces.c.vector)
            .where(faces.c.collection_id == collection_id, faces.c.key >= int(keys.min()))
            .order_by(faces.c.key)
            .execution_options(yield_per=LOAD_BATCH)
        )
        result = db.execute(statement)
        for rows in result.partitions():
            found = np.fromiter((row.key for row in rows), dtype=np.uint64, count=len(rows))
            wanted = np.isin(found, keys, assume_unique=True)
            matrix = np.frombuffer(b"".join(row.vector for row in rows), dtype="<f4").reshape(len(rows), -1)
            yield found[wanted], np.ascontiguousarray(matrix[wanted], dtype=np.float32)


def _holds(held: IndexState, wanted: IndexState) -> bool:
    return held.generation == wanted.generation and held.version >= wanted.version
