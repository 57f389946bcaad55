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
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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


@dataclasses.dataclass(frozen=True)
class HnswSettings:
    """The HNSW graph's parameters (benchmarks/vector_search.py measures what they give).

    `connectivity` is HNSW's M (links per node), `expansion_add` its ef_construction, `expansion_search` its ef:
    a search looks at that many candidates (at least as many as it returns). With the graph of usearch, 128 gave
    recall@1 0.96-0.98 at a million face-like vectors and 256 gave 0.99-1.0; the same holds here.
    """

    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 256
    threads: int = 0  # for bulk adds; 0 uses every core


class _Backend(Protocol):
    """Where the vectors live: the exact matrix or the HNSW graph."""

    def __len__(self) -> int: ...

    def keys(self) -> Keys: ...

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

    def __init__(self, dimension: int, settings: HnswSettings) -> None:
        self._settings = settings
        self._index = hnswlib.Index(space="l2", dim=dimension)  # hnswlib's "l2" is the squared distance
        self._index.init_index(
            max_elements=INITIAL_CAPACITY, M=settings.connectivity, ef_construction=settings.expansion_add
        )
        self._index.set_ef(settings.expansion_search)
        self._index.set_num_threads(settings.threads or os.cpu_count() or 1)
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return int(self._index.element_count) - len(self._removed)

    def keys(self) -> Keys:
        every = np.asarray(self._index.get_ids_list(), dtype=np.uint64)
        if not self._removed:
            return every
        return every[~np.isin(every, np.fromiter(self._removed, dtype=np.uint64))]

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


class VectorIndex:
    """One collection's vectors by key, searchable for the nearest; safe to share between threads."""

    def __init__(
        self, *, dimension: int = DIMENSION, exact_limit: int = EXACT_LIMIT, hnsw: HnswSettings | None = None
    ) -> None:
        self.dimension = dimension
        self.exact_limit = exact_limit
        self.hnsw = hnsw or HnswSettings()
        self._backend: _Backend = _Exact(dimension)
        self._lock = ReadWriteLock()

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

    def add(self, keys: Keys, vectors: Vectors) -> None:
        """Add vectors under new keys (each key at most once); past exact_limit the index becomes a graph."""
        vectors = self._checked(vectors, len(keys))
        with self._lock.writing():
            backend = self._backend
            if isinstance(backend, _Exact) and len(backend) + len(keys) > self.exact_limit:
                graph = _Hnsw(self.dimension, self.hnsw)
                graph.add(backend.keys(), backend.vectors())
                self._backend = backend = graph
            backend.add(np.asarray(keys, dtype=np.uint64), vectors)

    def remove(self, keys: Keys) -> None:
        """Remove the vectors under these keys; keys not in the index are ignored."""
        with self._lock.writing():
            self._backend.remove(np.asarray(keys, dtype=np.uint64))

    def search(self, vector: Vectors, count: int) -> tuple[Keys, Distances]:
        """The keys of the `count` nearest vectors and their Euclidean distances, nearest first."""
        query = self._checked(vector.reshape(1, -1), 1)[0]
        with self._lock.reading():
            return self._backend.search(query, count)

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
