"""The nearest faces to a vector among one collection's: exact search while the collection is small, HNSW past it.

Face embeddings are unit length, so Euclidean distance (sqrt(2 - 2 cos)) orders them as cosine similarity does.
Up to `exact_limit` vectors a float32 matrix answers exactly (one matrix-vector product and an argpartition:
a few milliseconds at 50,000 on 2 cores); past it an HNSW graph answers in about a millisecond
at a million, with recall@1 of 0.99 or better on face-like (clustered) embeddings. Keys are the faces' integer
keys in the metadata store.

The graph is hnswlib's (Apache-2.0, the reference implementation of HNSW, from the chroma-hnswlib wheel).
usearch was tried first and is faster to build, but its extension crashes the process (SIGSEGV) when
onnxruntime or OpenCV is imported after it, and the face and text engines load both lazily, after a search
may already have built a graph.

Searches run side by side; adds and removes wait for them and run alone, because the graph reallocates when it
grows and the exact matrix does when it is resized.

Building a graph takes minutes at a million vectors (on 2 cores), so it is built in a background thread while
the exact matrix keeps answering (about 21 ms a search at a million): the changes made meanwhile are logged,
replayed onto the new graph, and the graph takes over under the write lock. A graph is saved to a file and
loaded from one (index_snapshots.py), so that a restart need not build it again.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import hnswlib
import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.uint64]
Vectors = npt.NDArray[np.float32]
Distances = npt.NDArray[np.float32]

DIMENSION = 128
EXACT_LIMIT = 50_000
INITIAL_CAPACITY = 1024  # the graph doubles its capacity as it fills
# Vectors added to a graph being built per call: the build checks between calls whether it was cancelled.
BUILD_CHUNK = 10_000
# Changes logged during a build that are replayed outside the write lock first, so that searches and writes wait
# only for the last few.
SWAP_BACKLOG = 1_000

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class HnswSettings:
    """The HNSW graph's parameters (benchmarks/vector_search.py measures what they give).

    `connectivity` is HNSW's M (links per node), `expansion_add` its ef_construction, `expansion_search` its ef:
    a search looks at that many candidates (at least as many as it returns). At a million face-like vectors
    hnswlib with 256 gave recall@1 0.985 in 1.8 ms (p50, 2 cores); 512 is for the 0.99 aim.
    """

    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 512
    threads: int = 0  # for bulk adds; 0 uses every core


class _Backend(Protocol):
    """Where the vectors live: the exact matrix or the HNSW graph."""

    def __len__(self) -> int: ...

    def keys(self) -> Keys: ...

    def vectors_of(self, keys: Keys) -> Vectors: ...

    def add(self, keys: Keys, vectors: Vectors) -> None: ...

    def remove(self, keys: Keys) -> None: ...

    def search(self, vector: Vectors, count: int) -> tuple[Keys, Distances]: ...


class _Exact:
    """Every vector in one float32 matrix; a search compares the query with each of them."""

    def __init__(self, dimension: int) -> None:
        self._matrix: Vectors = np.empty((0, dimension), dtype=np.float32)
        self._keys: Keys = np.empty(0, dtype=np.uint64)
        self._rows: dict[int, int] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def keys(self) -> Keys:
        return self._keys[: self._size].copy()

    def vectors(self) -> Vectors:
        return self._matrix[: self._size]

    def vectors_of(self, keys: Keys) -> Vectors:
        rows = [self._rows[key] for key in keys.tolist()]
        return self._matrix[rows]

    def add(self, keys: Keys, vectors: Vectors) -> None:
        end = self._size + len(keys)
        if end > len(self._matrix):
            # Grow by half again at least, so that adding faces one at a time stays linear.
            capacity = max(end, len(self._matrix) * 3 // 2, 1024)
            self._matrix = _resized(self._matrix, capacity)
            self._keys = np.resize(self._keys, capacity)
        self._matrix[self._size : end] = vectors
        self._keys[self._size : end] = keys
        self._rows.update((int(key), row) for row, key in enumerate(keys, start=self._size))
        self._size = end

    def remove(self, keys: Keys) -> None:
        for key in keys.tolist():
            row = self._rows.pop(key, None)
            if row is None:
                continue
            # Move the last vector into the hole, so that the rows stay contiguous.
            last = self._size - 1
            if row != last:
                moved = int(self._keys[last])
                self._matrix[row] = self._matrix[last]
                self._keys[row] = moved
                self._rows[moved] = row
            self._size = last

    def search(self, vector: Vectors, count: int) -> tuple[Keys, Distances]:
        if self._size == 0:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)
        squared = np.maximum(2.0 - 2.0 * (self._matrix[: self._size] @ vector), 0.0)
        count = min(count, self._size)
        nearest = np.argpartition(squared, count - 1)[:count] if count < self._size else np.arange(self._size)
        nearest = nearest[np.argsort(squared[nearest], kind="stable")]
        return self._keys[nearest].copy(), np.sqrt(squared[nearest]).astype(np.float32)


class _Hnsw:
    """An HNSW graph (hnswlib) over squared Euclidean distance; removed vectors stay as tombstones."""

    def __init__(self, dimension: int, settings: HnswSettings, saved: tuple[Path, Keys] | None = None) -> None:
        self._settings = settings
        self._dimension = dimension
        self._index = hnswlib.Index(space="l2", dim=dimension)  # hnswlib's "l2" is the squared distance
        if saved is None:
            self._index.init_index(
                max_elements=INITIAL_CAPACITY, M=settings.connectivity, ef_construction=settings.expansion_add
            )
        else:
            self._index.load_index(str(saved[0]))
        # hnswlib does not save ef: a loaded graph would search with its default of 10.
        self._index.set_ef(settings.expansion_search)
        self._index.set_num_threads(settings.threads or os.cpu_count() or 1)
        self._removed: set[int] = set() if saved is None else set(saved[1].tolist())

    def __len__(self) -> int:
        return int(self._index.element_count) - len(self._removed)

    def keys(self) -> Keys:
        every = np.asarray(self._index.get_ids_list(), dtype=np.uint64)
        if not self._removed:
            return every
        return every[~np.isin(every, np.fromiter(self._removed, dtype=np.uint64))]

    def tombstones(self) -> Keys:
        return np.fromiter(self._removed, dtype=np.uint64, count=len(self._removed))

    def save(self, path: Path) -> None:
        self._index.save_index(str(path))

    def vectors_of(self, keys: Keys) -> Vectors:
        if not len(keys):
            return np.empty((0, self._dimension), dtype=np.float32)
        return np.asarray(self._index.get_items(keys.tolist()), dtype=np.float32)

    def add(self, keys: Keys, vectors: Vectors) -> None:
        if not len(keys):
            return
        needed = int(self._index.element_count) + len(keys)
        if needed > self._index.max_elements:
            self._index.resize_index(max(needed, 2 * self._index.max_elements))
        self._index.add_items(vectors, keys)
        self._removed.difference_update(int(k) for k in keys)

    def remove(self, keys: Keys) -> None:
        present = set(self._index.get_ids_list()) if len(keys) > 64 else None
        for key in (int(k) for k in keys):
            if key in self._removed or (present is not None and key not in present):
                continue
            try:
                self._index.mark_deleted(key)
            except RuntimeError:  # not in the graph: removing it is a no-op, as for the exact matrix
                continue
            self._removed.add(key)

    def search(self, vector: Vectors, count: int) -> tuple[Keys, Distances]:
        count = min(count, len(self))
        while count > 0:
            try:
                # hnswlib searches with max(ef, count) candidates, so a large MaxFaces needs no set_ef.
                labels, squared = self._index.knn_query(vector, k=count, num_threads=1)
            except RuntimeError:  # fewer than `count` reachable past the tombstones: ask for fewer
                count //= 2
                continue
            return labels[0].astype(np.uint64), np.sqrt(np.maximum(squared[0], 0.0)).astype(np.float32)
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class _Change:
    """An add (with vectors) or a remove (without), logged while a graph is built, to be replayed onto it."""

    keys: Keys
    vectors: Vectors | None

    def apply(self, backend: _Backend) -> None:
        if self.vectors is None:
            backend.remove(self.keys)
        else:
            backend.add(self.keys, self.vectors)


class VectorIndex:
    """One collection's vectors by key, searchable for the nearest; safe to share between threads.

    `on_graph` is called (from the building thread, holding no lock) each time a graph built in the background
    has taken over.
    """

    def __init__(
        self,
        *,
        dimension: int = DIMENSION,
        exact_limit: int = EXACT_LIMIT,
        hnsw: HnswSettings | None = None,
        on_graph: Callable[[VectorIndex], None] | None = None,
    ) -> None:
        self.dimension = dimension
        self.exact_limit = exact_limit
        self.hnsw = hnsw or HnswSettings()
        self.on_graph = on_graph
        self._backend: _Backend = _Exact(dimension)
        self._lock = ReadWriteLock()
        # While a graph is built: the changes made since its vectors were copied (None when none is built).
        self._changes: list[_Change] | None = None
        self._changes_lock = threading.Lock()
        self._builder: threading.Thread | None = None
        self._closed = threading.Event()

    @classmethod
    def from_graph(
        cls,
        path: Path,
        tombstones: Keys,
        *,
        dimension: int = DIMENSION,
        exact_limit: int = EXACT_LIMIT,
        hnsw: HnswSettings | None = None,
        on_graph: Callable[[VectorIndex], None] | None = None,
    ) -> VectorIndex:
        """An index over a graph saved by `save_graph` (with the tombstones it returned)."""
        index = cls(dimension=dimension, exact_limit=exact_limit, hnsw=hnsw, on_graph=on_graph)
        index._backend = _Hnsw(dimension, index.hnsw, (path, np.asarray(tombstones, dtype=np.uint64)))
        return index

    def __len__(self) -> int:
        return len(self._backend)

    @property
    def approximate(self) -> bool:
        """Whether searches go through the HNSW graph (past exact_limit) rather than the exact matrix."""
        return isinstance(self._backend, _Hnsw)

    def keys(self) -> Keys:
        """Every key in the index, in no particular order."""
        with self._lock.reading():
            return self._backend.keys()

    def vectors_of(self, keys: Keys) -> Vectors:
        """The vectors held under these keys (each of them in the index), a row each."""
        with self._lock.reading():
            return self._backend.vectors_of(np.asarray(keys, dtype=np.uint64))

    def add(self, keys: Keys, vectors: Vectors) -> None:
        """Add vectors under new keys (each key at most once); past exact_limit a graph is built in the background."""
        vectors = self._checked(vectors, len(keys))
        keys = np.asarray(keys, dtype=np.uint64)
        with self._lock.writing():
            self._backend.add(keys, vectors)
            if not self._logged(keys, vectors):
                backend = self._backend
                if isinstance(backend, _Exact) and len(backend) > self.exact_limit and not self._closed.is_set():
                    self._start_build(backend)

    def remove(self, keys: Keys) -> None:
        """Remove the vectors under these keys; keys not in the index are ignored."""
        keys = np.asarray(keys, dtype=np.uint64)
        with self._lock.writing():
            self._backend.remove(keys)
            self._logged(keys, None)

    def search(self, vector: Vectors, count: int) -> tuple[Keys, Distances]:
        """The keys of the `count` nearest vectors and their Euclidean distances, nearest first."""
        query = self._checked(vector.reshape(1, -1), 1)[0]
        with self._lock.reading():
            return self._backend.search(query, count)

    def save_graph(self, path: Path) -> Keys | None:
        """Write the graph to `path` and return its tombstones; None (nothing written) while there is no graph."""
        with self._lock.reading():
            backend = self._backend
            if not isinstance(backend, _Hnsw):
                return None
            backend.save(path)
            return backend.tombstones()

    def wait_for_graph(self, timeout: float | None = None) -> bool:
        """Wait for a graph being built (if any) to take over; whether searches now go through a graph."""
        builder = self._builder
        if builder is not None:
            builder.join(timeout)
        return self.approximate

    def close(self, *, wait: bool = True) -> None:
        """Stop a graph being built (the index stays exact) and build none from now on; wait for the thread if asked."""
        self._closed.set()
        builder = self._builder
        if wait and builder is not None:
            builder.join()

    def _logged(self, keys: Keys, vectors: Vectors | None) -> bool:
        """Log a change for the graph being built; False when none is (the caller holds the write lock)."""
        with self._changes_lock:
            if self._changes is None:
                return False
            # A copy: the caller's array may change once add returns, and the log outlives the call.
            self._changes.append(_Change(keys, None if vectors is None else vectors.copy()))
            return True

    def _start_build(self, exact: _Exact) -> None:
        """Copy the vectors (the caller holds the write lock) and build a graph of them in a thread."""
        with self._changes_lock:
            self._changes = []
        keys, vectors = exact.keys(), exact.vectors().copy()
        self._builder = threading.Thread(target=self._build, args=(keys, vectors), name="hnsw-build", daemon=True)
        self._builder.start()

    def _build(self, keys: Keys, vectors: Vectors) -> None:
        """Build the graph, replay the changes made meanwhile, and swap it in (in the building thread)."""
        try:
            graph = _Hnsw(self.dimension, self.hnsw)
            built = self._filled(graph, keys, vectors) and self._caught_up(graph)
            if built:
                with self._lock.writing():
                    for change in self._drained():
                        change.apply(graph)
                    self._backend = graph
        except Exception:  # the exact matrix keeps answering; the next add past the limit tries again
            logger.exception("building the HNSW graph of %d vectors failed", len(keys))
            built = False
        finally:
            self._drained()
        if built and self.on_graph is not None:
            self.on_graph(self)

    def _filled(self, graph: _Hnsw, keys: Keys, vectors: Vectors) -> bool:
        """Add the copied vectors a chunk at a time; False when the index was closed meanwhile."""
        for start in range(0, len(keys), BUILD_CHUNK):
            if self._closed.is_set():
                return False
            graph.add(keys[start : start + BUILD_CHUNK], vectors[start : start + BUILD_CHUNK])
        return not self._closed.is_set()

    def _caught_up(self, graph: _Hnsw) -> bool:
        """Replay the logged changes outside the lock until few are left; False when the index was closed."""
        while not self._closed.is_set():
            with self._changes_lock:
                changes, self._changes = self._changes or [], []
            for change in changes:
                change.apply(graph)
            if len(changes) <= SWAP_BACKLOG:
                return True
        return False

    def _drained(self) -> list[_Change]:
        """The changes logged and not yet replayed; logging stops."""
        with self._changes_lock:
            changes, self._changes = self._changes or [], None
        return changes

    def _checked(self, vectors: npt.NDArray[np.floating], count: int) -> Vectors:
        if vectors.ndim != 2 or vectors.shape != (count, self.dimension):
            raise ValueError(f"vectors of shape {vectors.shape}; expected ({count}, {self.dimension})")
        return np.ascontiguousarray(vectors, dtype=np.float32)


class ReadWriteLock:
    """Many readers at once or one writer alone; a waiting writer holds back new readers so it is not starved."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock shared."""
        with self._condition:
            self._condition.wait_for(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        try:
            yield
        finally:
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the lock alone."""
        with self._condition:
            self._writers_waiting += 1
            self._condition.wait_for(lambda: not self._writing and not self._readers)
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._condition:
                self._writing = False
                self._condition.notify_all()


def _resized(matrix: Vectors, rows: int) -> Vectors:
    grown: Vectors = np.empty((rows, matrix.shape[1]), dtype=np.float32)
    grown[: len(matrix)] = matrix
    return grown
