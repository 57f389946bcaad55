"""The vector index: exact and HNSW searches agree, stay consistent through adds and removes, and share threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from altostratus.storage.metadata import MetadataStore
from altostratus.vision.collections import FaceCollections
from altostratus.vision.vector_index import ReadWriteLock, VectorIndex
from tests.vision.test_collections import FixedClock, People, similarity

DIMENSION = 128


def clustered(count: int, seed: int = 3) -> npt.NDArray[np.float32]:
    """Face-like unit vectors: about five around each of count / 5 identity centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(count // 5, 1), DIMENSION))
    noise = rng.standard_normal((count, DIMENSION)) * 0.3 / np.sqrt(DIMENSION)
    vectors = centres[rng.integers(0, len(centres), count)] / np.sqrt(DIMENSION) + noise
    return unit(vectors)


def near(vectors: npt.NDArray[np.float32], seed: int = 4) -> npt.NDArray[np.float32]:
    """Another face of the same people: each vector moved a little."""
    noise = np.random.default_rng(seed).standard_normal(vectors.shape) * 0.2 / np.sqrt(DIMENSION)
    moved = vectors + noise
    return unit(moved)


def unit(matrix: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    scaled: npt.NDArray[np.float32] = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    return scaled


def keys(*ranges: range) -> npt.NDArray[np.uint64]:
    return np.array([key for span in ranges for key in span], dtype=np.uint64)


def nearest(index: VectorIndex, queries: npt.NDArray[np.float32]) -> list[int]:
    return [int(index.search(query, 1)[0][0]) for query in queries]


def test_exact_and_hnsw_agree_after_adds_and_removes() -> None:
    vectors = clustered(3000)
    queries = near(vectors[::15])
    exact, graph = VectorIndex(exact_limit=10_000), VectorIndex(exact_limit=500)
    for index in (exact, graph):
        index.add(keys(range(2000)), vectors[:2000])
        index.remove(keys(range(0, 2000, 3)))
        index.add(keys(range(2000, 3000)), vectors[2000:])
        index.remove(keys(range(2500, 2600)))
    assert (exact.wait_for_graph(), graph.wait_for_graph()) == (False, True)
    assert len(exact) == len(graph) == 3000 - 667 - 100
    assert set(exact.keys().tolist()) == set(graph.keys().tolist())
    agreed = np.mean(np.array(nearest(exact, queries)) == np.array(nearest(graph, queries)))
    assert agreed >= 0.99


def test_exact_search_is_exact() -> None:
    vectors = clustered(400)
    index = VectorIndex()
    index.add(keys(range(100, 500)), vectors)
    query = vectors[7]
    found, distances = index.search(query, 5)
    expected = np.argsort(np.linalg.norm(vectors - query, axis=1))[:5] + 100
    assert found.tolist() == expected.tolist()
    assert distances[0] == pytest.approx(0.0, abs=1e-3)
    assert np.all(np.diff(distances) >= 0)


def test_small_and_empty_indexes() -> None:
    for exact_limit in (0, 100):
        index = VectorIndex(exact_limit=exact_limit)
        assert index.search(clustered(1)[0], 3)[0].tolist() == []
        index.add(keys(range(2)), clustered(2))
        assert sorted(index.search(clustered(1)[0], 10)[0].tolist()) == [0, 1]
        index.remove(keys(range(5, 9)))
        assert len(index) == 2


def test_shapes_are_checked() -> None:
    index = VectorIndex()
    with pytest.raises(ValueError, match="shape"):
        index.add(keys(range(2)), clustered(3))
    with pytest.raises(ValueError, match="shape"):
        index.search(np.ones(64, dtype=np.float32), 1)


def test_searches_share_the_index_with_adds_and_removes() -> None:
    vectors = clustered(6000)
    index = VectorIndex(exact_limit=1000)
    index.add(keys(range(10)), vectors[:10])
    failures: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        try:
            while not stop.is_set():
                found, _ = index.search(vectors[0], 1)
                assert found.tolist() == [0]
        except BaseException as error:  # handed to the test's thread
            failures.append(error)

    searchers = [threading.Thread(target=search) for _ in range(3)]
    for thread in searchers:
        thread.start()
    for start in range(10, 6000, 500):
        index.add(keys(range(start, min(start + 500, 6000))), vectors[start : start + 500])
        index.remove(keys(range(start, start + 10)))
    assert index.wait_for_graph()
    stop.set()
    for thread in searchers:
        thread.join()
    assert failures == []


def test_a_writer_waits_for_readers_and_holds_back_new_ones() -> None:
    lock = ReadWriteLock()
    events: list[str] = []
    reading = threading.Event()
    release = threading.Event()

    def reader() -> None:
        with lock.reading():
            reading.set()
            release.wait()
            events.append("first reader done")

    def writer() -> None:
        with lock.writing():
            events.append("writer")

    first = threading.Thread(target=reader)
    first.start()
    reading.wait()
    second = threading.Thread(target=writer)
    second.start()
    while not lock._writers_waiting:  # the writer is queued behind the reader
        threading.Event().wait(0.001)
    release.set()
    first.join()
    second.join()
    assert events == ["first reader done", "writer"]


def test_collections_past_the_exact_limit_find_what_brute_force_finds(database_url: str) -> None:
    store = MetadataStore(database_url)
    store.migrate()
    try:
        people = People(60, seed=11)
        collections = FaceCollections(store, FixedClock(), similarity=similarity, exact_limit=50)
        collections.create("c")
        added = [face for person in range(60) for face in collections.add_faces("c", people.faces(person, 4))]
        collections.delete_faces("c", [face.face_id for face in added[::5]])
        queries = [people.faces(person)[0].vector for person in range(0, 60, 3)]
        for restarted in (collections, FaceCollections(store, FixedClock(), similarity=similarity, exact_limit=50)):
            brute = FaceCollections(store, FixedClock(), similarity=similarity, exact_limit=10_000)
            for query in queries:
                approximate = restarted.search_by_vector("c", query, threshold=0, max_faces=1)
                exact = brute.search_by_vector("c", query, threshold=0, max_faces=1)
                assert approximate[0].face == exact[0].face
                assert approximate[0].similarity == pytest.approx(exact[0].similarity, abs=0.1)
    finally:
        store.close()


def test_a_graph_built_in_the_background_takes_the_changes_made_meanwhile() -> None:
    vectors = clustered(4000)
    built = threading.Event()
    index = VectorIndex(exact_limit=100, on_graph=lambda _: built.set())
    index.add(keys(range(3000)), vectors[:3000])
    # The build runs from a copy: what changes now is logged and replayed before the graph takes over.
    assert not index.approximate
    index.remove(keys(range(0, 3000, 2)))
    for start in range(3000, 4000, 100):
        index.add(keys(range(start, start + 100)), vectors[start : start + 100])
        assert index.search(vectors[start], 1)[0].tolist() == [start]
    assert index.wait_for_graph() and built.is_set()
    assert sorted(index.keys().tolist()) == [*range(1, 3000, 2), *range(3000, 4000)]
    assert nearest(index, vectors[3001:4000:7]) == list(range(3001, 4000, 7))


def test_a_closed_index_stays_exact() -> None:
    index = VectorIndex(exact_limit=10)
    index.close()
    index.add(keys(range(100)), clustered(100))
    assert not index.wait_for_graph()
    assert len(index) == 100


def test_a_saved_graph_loads_with_its_tombstones(tmp_path: Path) -> None:
    vectors = clustered(2000)
    index = VectorIndex(exact_limit=100)
    assert index.save_graph(tmp_path / "none") is None
    index.add(keys(range(2000)), vectors)
    index.wait_for_graph()
    index.remove(keys(range(0, 2000, 4)))
    tombstones = index.save_graph(tmp_path / "graph")
    assert tombstones is not None and sorted(tombstones.tolist()) == list(range(0, 2000, 4))
    loaded = VectorIndex.from_graph(tmp_path / "graph", tombstones, exact_limit=100)
    assert loaded.approximate and len(loaded) == 1500
    assert set(loaded.keys().tolist()) == set(index.keys().tolist())
    assert np.array_equal(loaded.vectors_of(keys(range(1, 9, 2))), vectors[1:9:2])
    assert nearest(loaded, vectors[1:2000:20]) == list(range(1, 2000, 20))
