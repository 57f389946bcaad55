"""Each collection's vector index in memory, loaded from the metadata store on first use and kept in step with it.

The metadata store is the truth; an index is a cache of its faces' vectors. Every change to a collection's faces
bumps the collection's `version` in the same transaction. A writer in this process holds the collection's lock
across its transaction and then applies its own change to the index, so its index stays current without a
reload. When a search finds the stored version newer than its index's (another process, say the CLI, changed
the faces) it reloads only the difference: the stored keys are compared with the index's, removed ones leave
and the vectors of new ones are read. A collection deleted and created again has a new `generation`, and its
index starts empty.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import numpy as np
from sqlalchemy import Connection, select

from altostratus.storage.metadata import MetadataStore
from altostratus.vision.errors import ResourceNotFound
from altostratus.vision.tables import face_collections, faces
from altostratus.vision.vector_index import DIMENSION, HnswSettings, Keys, VectorIndex, Vectors

# Rows read per batch when loading vectors: 50,000 is 25 MB of float32 at 128 dimensions.
LOAD_BATCH = 50_000


@dataclasses.dataclass(frozen=True)
class IndexState:
    """Which state of a collection's faces an index holds: its generation and version in the metadata store."""

    generation: str
    version: int


@dataclasses.dataclass
class _Loaded:
    state: IndexState
    index: VectorIndex


class CollectionIndexes:
    """The vector index of every collection searched in this process, with a lock per collection for writers."""

    def __init__(
        self,
        store: MetadataStore,
        *,
        dimension: int = DIMENSION,
        exact_limit: int,
        hnsw: HnswSettings | None = None,
    ) -> None:
        self._store = store
        self._dimension = dimension
        self._exact_limit = exact_limit
        self._hnsw = hnsw
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
                loaded = _Loaded(IndexState(state.generation, -1), self._new_index())
            if not _holds(loaded.state, state):
                loaded.state = self._sync(collection_id, loaded.index)
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
        if added is not None:
            loaded.index.add(*added)
        loaded.state = state

    def forget(self, collection_id: str) -> None:
        """Drop the collection's index (the collection is gone)."""
        self._loaded.pop(collection_id, None)

    def _new_index(self) -> VectorIndex:
        return VectorIndex(dimension=self._dimension, exact_limit=self._exact_limit, hnsw=self._hnsw)

    def _sync(self, collection_id: str, index: VectorIndex) -> IndexState:
        """Make the index hold the stored faces: drop the keys gone, add the vectors of the new ones."""
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
            index.remove(np.setdiff1d(held, stored, assume_unique=True))
            new = np.setdiff1d(stored, held, assume_unique=True)
            for keys, vectors in self._vectors(db, collection_id, new):
                index.add(keys, vectors)
            return IndexState(str(row.generation), int(row.version))

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
