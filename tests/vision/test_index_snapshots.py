"""Index snapshots: a restart loads the graph saved before and catches it up with the store, never losing a face."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from altostratus.storage.metadata import MetadataStore
from altostratus.vision.collection_indexes import SnapshotPolicy
from altostratus.vision.collections import FaceCollections
from altostratus.vision.results import FaceVector
from tests.vision.test_collections import FixedClock, People, similarity

EXACT_LIMIT = 50


@pytest.fixture
def store(database_url: str) -> Iterator[MetadataStore]:
    store = MetadataStore(database_url)
    store.migrate()
    yield store
    store.close()


def started(store: MetadataStore, folder: Path) -> FaceCollections:
    return FaceCollections(store, FixedClock(), similarity=similarity, exact_limit=EXACT_LIMIT, snapshot_dir=folder)


def searched(collections: FaceCollections, vectors: dict[str, bytes]) -> None:
    """Each face's own vector finds that face first, and the index holds exactly these faces."""
    for face_id, vector in vectors.items():
        assert collections.search_by_vector("c", vector, threshold=0, max_faces=1)[0].face.face_id == face_id
    stored = {face.face_id for face in collections.list_faces("c", limit=4096).items}
    assert stored == set(vectors)
    assert len(collections._indexes._loaded["c"].index) == len(vectors)


def added(collections: FaceCollections, faces: list[FaceVector]) -> dict[str, bytes]:
    return {face.face_id: found.vector for face, found in zip(collections.add_faces("c", faces), faces, strict=True)}


def snapshot_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if not path.name.startswith("."))


def test_a_restart_loads_a_stale_snapshot_and_finds_exactly_the_stored_faces(
    store: MetadataStore, tmp_path: Path
) -> None:
    folder, people = tmp_path / "snapshots", People(80, seed=5)
    first = started(store, folder)
    first.create("c")
    vectors = added(first, [face for person in range(60) for face in people.faces(person, 4)])
    first.search_by_vector("c", next(iter(vectors.values())))
    first._indexes.wait_for_graphs()
    files = snapshot_files(folder)
    assert [path.suffix for path in files] == [".graph", ".json"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in files} == {0o600}
    # Changes after the snapshot: the newest faces deleted (SQLite gives their keys to the next faces), others added.
    newest = list(vectors)[-6:]
    first.delete_faces("c", newest + list(vectors)[:10:3])
    vectors = {
        face_id: vector for face_id, vector in vectors.items() if face_id not in set(newest + list(vectors)[:10:3])
    }
    vectors |= added(first, [face for person in range(60, 80) for face in people.faces(person, 2)])
    restarted = started(store, folder)
    searched(restarted, vectors)
    assert restarted._indexes._loaded["c"].index.approximate  # the graph was loaded, not built
    restarted.close()
    again = started(store, folder)
    searched(again, vectors)


@pytest.mark.parametrize("damage", ["truncated graph", "flipped byte", "garbled description", "missing graph"])
def test_a_damaged_snapshot_is_deleted_and_the_index_rebuilt(store: MetadataStore, tmp_path: Path, damage: str) -> None:
    folder, people = tmp_path / "snapshots", People(30, seed=6)
    first = started(store, folder)
    first.create("c")
    vectors = added(first, [face for person in range(30) for face in people.faces(person, 4)])
    first.search_by_vector("c", next(iter(vectors.values())))
    first._indexes.wait_for_graphs()
    first.close()
    graph, description = snapshot_files(folder)
    content = graph.read_bytes()
    if damage == "truncated graph":
        graph.write_bytes(content[: len(content) // 2])
    elif damage == "flipped byte":
        graph.write_bytes(content[:100] + bytes([content[100] ^ 1]) + content[101:])
    elif damage == "garbled description":
        description.write_text(description.read_text()[:-20])
    else:
        graph.unlink()
    restarted = started(store, folder)
    searched(restarted, vectors)
    restarted._indexes.wait_for_graphs()
    rebuilt = snapshot_files(folder)
    assert len(rebuilt) == 2 and graph not in rebuilt
    searched(started(store, folder), vectors)


def test_a_snapshot_of_another_generation_is_not_used(store: MetadataStore, tmp_path: Path) -> None:
    folder, people = tmp_path / "snapshots", People(30, seed=8)
    first = started(store, folder)
    first.create("c")
    added(first, [face for person in range(30) for face in people.faces(person, 4)])
    first.search_by_vector("c", people.faces(0)[0].vector)
    first._indexes.wait_for_graphs()
    first.close()
    generation = json.loads(snapshot_files(folder)[1].read_text())["generation"]
    other = FaceCollections(store, FixedClock(), similarity=similarity)  # another process, without snapshots
    other.delete("c")
    other.create("c")
    vectors = added(other, [face for person in range(10) for face in people.faces(person, 1)])
    restarted = started(store, folder)
    searched(restarted, vectors)
    assert not snapshot_files(folder)
    restarted.close()  # 10 faces: an exact matrix, no graph to save
    assert not snapshot_files(folder)
    assert generation


def test_deleting_a_collection_deletes_its_snapshot(store: MetadataStore, tmp_path: Path) -> None:
    folder, people = tmp_path / "snapshots", People(30, seed=9)
    collections = started(store, folder)
    collections.create("c")
    added(collections, [face for person in range(30) for face in people.faces(person, 4)])
    collections.search_by_vector("c", people.faces(0)[0].vector)
    collections._indexes.wait_for_graphs()
    collections.add_faces("c", people.faces(0, 2))
    collections.flush()
    assert len(snapshot_files(folder)) == 2
    collections.delete("c")
    assert not snapshot_files(folder)


def test_writers_save_a_snapshot_once_enough_has_changed(store: MetadataStore, tmp_path: Path) -> None:
    folder, people = tmp_path / "snapshots", People(30, seed=10)
    collections = started(store, folder)
    collections._indexes._policy = SnapshotPolicy(folder, changes=5, seconds=0)
    collections.create("c")
    added(collections, [face for person in range(30) for face in people.faces(person, 4)])
    collections.search_by_vector("c", people.faces(0)[0].vector)
    collections._indexes.wait_for_graphs()
    saved = snapshot_files(folder)[0]
    collections.add_faces("c", people.faces(1, 4))
    assert snapshot_files(folder)[0] == saved
    collections.add_faces("c", people.faces(2, 1))
    assert snapshot_files(folder)[0] != saved


def test_a_snapshot_that_cannot_be_written_fails_no_call(store: MetadataStore, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the folder should be")
    people = People(30, seed=12)
    collections = started(store, tmp_path / "taken")
    collections.create("c")
    vectors = added(collections, [face for person in range(30) for face in people.faces(person, 4)])
    collections.search_by_vector("c", people.faces(0)[0].vector)
    collections._indexes.wait_for_graphs()
    vectors |= added(collections, people.faces(3, 2))
    collections.close()
    searched(started(store, tmp_path / "taken"), vectors)
