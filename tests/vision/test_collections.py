"""Face collections over the metadata store, on SQLite and PostgreSQL: collections, faces, users and searches."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from altostratus.storage.metadata import MetadataStore
from altostratus.vision.collection_items import FaceProblem, UnsuccessfulFace, UserStatus
from altostratus.vision.collections import FaceCollections
from altostratus.vision.errors import InvalidParameter, ResourceAlreadyExists, ResourceNotFound, ServiceQuotaExceeded
from altostratus.vision.results import Box, Face, FaceVector, Judgement, Pose, Quality
from altostratus.vision.users import UserConflict

START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
DIMENSION = 128


class FixedClock:
    """A clock that moves a second each time it is read, so creation times differ."""

    def __init__(self) -> None:
        self._now = START
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(seconds=1)
            return self._now

    def monotonic(self) -> float:
        return (self.now() - START).total_seconds()


def similarity(distances: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Distances 0 (same) to 2 (opposite) as 100 to 0."""
    return 100.0 * (1.0 - distances.astype(np.float64) / 2.0)


class People:
    """Face embeddings of made-up people: a centre each, and each face a little way from its person's centre."""

    def __init__(self, count: int, seed: int = 7) -> None:
        self._rng = np.random.default_rng(seed)
        self.centres = _unit(self._rng.standard_normal((count, DIMENSION)))

    def faces(self, person: int, count: int = 1, spread: float = 0.2) -> list[FaceVector]:
        noise = self._rng.standard_normal((count, DIMENSION)) * spread / np.sqrt(DIMENSION)
        return [face_vector(vector) for vector in _unit(self.centres[person] + noise)]


def _unit(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    unit: npt.NDArray[np.float32] = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    return unit


def face_vector(vector: npt.NDArray[np.float32]) -> FaceVector:
    face = Face(
        box=Box(0.1, 0.2, 0.3, 0.4),
        confidence=99.5,
        landmarks=(),
        pose=Pose(0.0, 0.0, 0.0),
        quality=Quality(80.0, 90.0),
        occluded=Judgement(False, 99.0),
    )
    return FaceVector(face, vector.astype("<f4").tobytes())


@pytest.fixture
def store(database_url: str) -> Iterator[MetadataStore]:
    store = MetadataStore(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def collections(store: MetadataStore) -> FaceCollections:
    return FaceCollections(store, FixedClock(), similarity=similarity, region="eu-west-1", account="123456789012")


@pytest.fixture
def people() -> People:
    return People(20)


# ---- collections


def test_create_describe_list_and_delete(collections: FaceCollections, people: People) -> None:
    info = collections.create("family")
    assert info.arn == "arn:aws:rekognition:eu-west-1:123456789012:collection/family"
    collections.add_faces("family", people.faces(0, 3))
    collections.create_user("family", "alice")
    described = collections.describe("family")
    assert (described.face_count, described.user_count) == (3, 1)
    assert described.info == info
    collections.delete("family")
    with pytest.raises(ResourceNotFound):
        collections.describe("family")
    collections.create("family")
    assert collections.describe("family").face_count == 0
    assert collections.search_by_vector("family", people.faces(0)[0].vector, threshold=0) == []


def test_collection_errors(collections: FaceCollections) -> None:
    collections.create("a")
    with pytest.raises(ResourceAlreadyExists):
        collections.create("a")
    for call in (collections.describe, collections.delete, lambda c: collections.list_faces(c)):
        with pytest.raises(ResourceNotFound):
            call("missing")
    with pytest.raises(InvalidParameter, match="CollectionId"):
        collections.create("not allowed/here")
    with pytest.raises(InvalidParameter, match="MaxResults"):
        collections.list_collections(limit=4097)


def test_collections_are_listed_by_id_a_page_at_a_time(collections: FaceCollections) -> None:
    for name in ("c", "a", "e", "b", "d"):
        collections.create(name)
    pages: list[list[str]] = []
    offset: int | None = 0
    while offset is not None:
        page = collections.list_collections(limit=2, offset=offset)
        pages.append([info.collection_id for info in page.items])
        offset = page.next_offset
    assert pages == [["a", "b"], ["c", "d"], ["e"]]


# ---- faces


def test_add_and_list_faces(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    image = str(uuid.uuid4())
    added = collections.add_faces("c", people.faces(0, 2), image_id=image, external_image_id="photo_1.jpg")
    more = collections.add_faces("c", people.faces(1, 3))
    assert [face.image_id for face in added] == [image, image]
    assert added[0].external_image_id == "photo_1.jpg" and added[0].box == Box(0.1, 0.2, 0.3, 0.4)
    assert len({face.image_id for face in more}) == 1 and more[0].image_id != image
    first = collections.list_faces("c", limit=4)
    second = collections.list_faces("c", limit=4, offset=first.next_offset or 0)
    assert [face.face_id for face in first.items + second.items] == [face.face_id for face in added + more]
    assert second.next_offset is None
    assert first.items[0] == added[0]
    chosen = collections.list_faces("c", face_ids=[more[2].face_id, added[1].face_id])
    assert [face.face_id for face in chosen.items] == [added[1].face_id, more[2].face_id]
    collections.create_user("c", "bob")
    collections.associate_faces("c", "bob", [more[0].face_id])
    assert [face.face_id for face in collections.list_faces("c", user_id="bob").items] == [more[0].face_id]


def test_add_faces_checks_its_input(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    with pytest.raises(InvalidParameter, match="ExternalImageId"):
        collections.add_faces("c", people.faces(0), external_image_id="has space")
    with pytest.raises(InvalidParameter, match="bytes"):
        collections.add_faces("c", [face_vector(np.full(64, 0.125, dtype=np.float32))])
    with pytest.raises(InvalidParameter, match="unit length"):
        collections.add_faces("c", [face_vector(np.ones(DIMENSION, dtype=np.float32))])
    with pytest.raises(ResourceNotFound):
        collections.add_faces("missing", people.faces(0))
    assert collections.describe("c").face_count == 0


def test_delete_faces_reports_those_it_cannot(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    kept, gone, owned = (face.face_id for face in collections.add_faces("c", people.faces(0, 3)))
    collections.create_user("c", "alice")
    collections.associate_faces("c", "alice", [owned])
    missing = str(uuid.uuid4())
    result = collections.delete_faces("c", [gone, missing, owned])
    assert result.deleted == [gone]
    assert result.unsuccessful == [
        UnsuccessfulFace(missing, (FaceProblem.FACE_NOT_FOUND,)),
        UnsuccessfulFace(owned, (FaceProblem.ASSOCIATED_TO_AN_EXISTING_USER,), "alice"),
    ]
    assert {face.face_id for face in collections.list_faces("c").items} == {kept, owned}
    with pytest.raises(InvalidParameter, match="FaceIds"):
        collections.delete_faces("c", ["not-a-uuid"])


# ---- searches


def test_search_by_face_id_finds_the_same_person_not_the_face_itself(
    collections: FaceCollections, people: People
) -> None:
    collections.create("c")
    alice = collections.add_faces("c", people.faces(0, 4))
    collections.add_faces("c", [face for person in range(1, 10) for face in people.faces(person, 3)])
    matches = collections.search_by_face_id("c", alice[0].face_id)
    assert {match.face.face_id for match in matches} == {face.face_id for face in alice[1:]}
    assert [match.similarity for match in matches] == sorted((match.similarity for match in matches), reverse=True)
    assert all(match.similarity >= 80 for match in matches)
    assert len(collections.search_by_face_id("c", alice[0].face_id, max_faces=2)) == 2
    assert len(collections.search_by_face_id("c", alice[0].face_id, threshold=0, max_faces=100)) == 30
    assert collections.search_by_face_id("c", alice[0].face_id, threshold=100) == []


def test_search_by_vector(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    for person in range(5):
        collections.add_faces("c", people.faces(person, 2), external_image_id=f"person-{person}")
    matches = collections.search_by_vector("c", people.faces(3)[0].vector, max_faces=5)
    assert [match.face.external_image_id for match in matches] == ["person-3", "person-3"]


def test_search_errors(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    face_id = collections.add_faces("c", people.faces(0))[0].face_id
    for bad in (0, 4097):
        with pytest.raises(InvalidParameter, match="MaxFaces"):
            collections.search_by_face_id("c", face_id, max_faces=bad)
    with pytest.raises(InvalidParameter, match="FaceMatchThreshold"):
        collections.search_by_face_id("c", face_id, threshold=101)
    with pytest.raises(InvalidParameter, match="FaceId"):
        collections.search_by_face_id("c", str(uuid.uuid4()))
    with pytest.raises(ResourceNotFound, match="CollectionId"):
        collections.search_by_vector("missing", people.faces(0)[0].vector)
    with pytest.raises(InvalidParameter, match="exactly one"):
        collections.search_users("c", user_id="u", face_id=face_id)


# ---- users


def test_users_are_created_listed_and_deleted(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    for user in ("carol", "alice", "bob"):
        collections.create_user("c", user, client_token=f"token-{user}")
    collections.create_user("c", "alice", client_token="token-alice")
    with pytest.raises(UserConflict):
        collections.create_user("c", "alice", client_token="another")
    with pytest.raises(UserConflict):
        collections.create_user("c", "alice")
    first = collections.list_users("c", limit=2)
    assert [user.user_id for user in first.items] == ["alice", "bob"]
    assert [user.user_id for user in collections.list_users("c", offset=first.next_offset or 0).items] == ["carol"]
    assert first.items[0].status is UserStatus.CREATED
    face_id = collections.add_faces("c", people.faces(0))[0].face_id
    collections.associate_faces("c", "bob", [face_id])
    collections.delete_user("c", "bob")
    assert collections.list_faces("c").items[0].user_id is None
    assert collections.delete_faces("c", [face_id]).deleted == [face_id]
    with pytest.raises(ResourceNotFound, match="UserId"):
        collections.delete_user("c", "bob")
    with pytest.raises(InvalidParameter, match="MaxResults"):
        collections.list_users("c", limit=501)


def test_associate_faces_follows_rekognitions_rules(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    alice = [face.face_id for face in collections.add_faces("c", people.faces(0, 3))]
    stranger = collections.add_faces("c", people.faces(1))[0].face_id
    collections.create_user("c", "alice")
    collections.create_user("c", "bob")
    # The first face of a user has nothing to match; after it, a face must look like the user's faces.
    first = collections.associate_faces("c", "alice", [alice[0]])
    assert (first.changed, first.unsuccessful, first.user_status) == ([alice[0]], [], UserStatus.ACTIVE)
    missing = str(uuid.uuid4())
    result = collections.associate_faces("c", "alice", [alice[0], alice[1], stranger, missing])
    assert result.changed == [alice[1]]
    low, not_found = result.unsuccessful
    assert (low.face_id, low.reasons, low.user_id) == (stranger, (FaceProblem.LOW_MATCH_CONFIDENCE,), "alice")
    assert low.confidence is not None and low.confidence < 75
    assert not_found == UnsuccessfulFace(missing, (FaceProblem.FACE_NOT_FOUND,), "alice")
    taken = collections.associate_faces("c", "bob", [alice[1]])
    assert taken.unsuccessful[0].reasons == (FaceProblem.ASSOCIATED_TO_A_DIFFERENT_USER,)
    assert taken.user_status is UserStatus.CREATED
    anything = collections.associate_faces("c", "alice", [stranger], threshold=0)
    assert anything.changed == [stranger]
    with pytest.raises(ResourceNotFound, match="UserId"):
        collections.associate_faces("c", "nobody", [alice[2]])


def test_disassociate_faces(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    mine, theirs, free = (face.face_id for face in collections.add_faces("c", people.faces(0, 3)))
    for user, face_id in (("alice", mine), ("bob", theirs)):
        collections.create_user("c", user)
        collections.associate_faces("c", user, [face_id])
    missing = str(uuid.uuid4())
    result = collections.disassociate_faces("c", "alice", [mine, theirs, free, missing])
    assert (result.changed, result.user_status) == ([mine], UserStatus.CREATED)
    assert result.unsuccessful == [
        UnsuccessfulFace(theirs, (FaceProblem.ASSOCIATED_TO_A_DIFFERENT_USER,), "alice"),
        UnsuccessfulFace(missing, (FaceProblem.FACE_NOT_FOUND,), "alice"),
    ]
    assert collections.list_users("c").items[0].status is UserStatus.CREATED


def test_a_user_holds_at_most_100_faces(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    face_ids = [face.face_id for face in collections.add_faces("c", people.faces(0, 101, spread=0.05))]
    collections.create_user("c", "alice")
    assert len(collections.associate_faces("c", "alice", face_ids[:100]).changed) == 100
    with pytest.raises(ServiceQuotaExceeded):
        collections.associate_faces("c", "alice", face_ids[100:])


def test_search_users_scores_each_user_by_its_best_face(collections: FaceCollections, people: People) -> None:
    collections.create("c")
    for person, user in enumerate(("alice", "bob", "carol")):
        face_ids = [face.face_id for face in collections.add_faces("c", people.faces(person, 3))]
        collections.create_user("c", user)
        collections.associate_faces("c", user, face_ids)
    loose = collections.add_faces("c", people.faces(1))[0].face_id
    by_vector = collections.search_users("c", vector=people.faces(0)[0].vector)
    assert [match.user.user_id for match in by_vector] == ["alice"]
    assert by_vector[0].user.status is UserStatus.ACTIVE
    assert [match.user.user_id for match in collections.search_users("c", face_id=loose)] == ["bob"]
    assert collections.search_users("c", user_id="carol") == []
    everyone = collections.search_users("c", user_id="carol", threshold=0, max_users=10)
    assert {match.user.user_id for match in everyone} == {"alice", "bob"}
    with pytest.raises(ResourceNotFound, match="UserId"):
        collections.search_users("c", user_id="nobody")
    with pytest.raises(InvalidParameter, match="MaxUsers"):
        collections.search_users("c", user_id="carol", max_users=501)


# ---- restarts and other processes


def test_a_restart_finds_every_face(store: MetadataStore, collections: FaceCollections, people: People) -> None:
    collections.create("c")
    added = collections.add_faces("c", [face for person in range(10) for face in people.faces(person, 5)])
    collections.delete_faces("c", [added[0].face_id])
    restarted = FaceCollections(store, FixedClock(), similarity=similarity, exact_limit=10)
    for face in added[1:]:
        matches = restarted.search_by_face_id("c", face.face_id, max_faces=50, threshold=80)
        assert len(matches) == (3 if face.face_id in {f.face_id for f in added[:5]} else 4)
    assert restarted.describe("c").face_count == 49


def test_changes_made_by_another_process_are_seen(store: MetadataStore, people: People) -> None:
    ours = FaceCollections(store, FixedClock(), similarity=similarity)
    theirs = FaceCollections(store, FixedClock(), similarity=similarity)
    ours.create("c")
    first = ours.add_faces("c", people.faces(0))[0]
    query = people.faces(0)[0].vector
    assert [match.face for match in ours.search_by_vector("c", query)] == [first]
    second = theirs.add_faces("c", people.faces(0))[0]
    assert {match.face.face_id for match in ours.search_by_vector("c", query)} == {first.face_id, second.face_id}
    theirs.delete_faces("c", [first.face_id])
    third = ours.add_faces("c", people.faces(0))[0]
    assert {match.face.face_id for match in ours.search_by_vector("c", query)} == {second.face_id, third.face_id}
    theirs.delete("c")
    theirs.create("c")
    assert ours.search_by_vector("c", query) == []


def test_searches_run_while_faces_are_added(store: MetadataStore, people: People) -> None:
    collections = FaceCollections(store, FixedClock(), similarity=similarity, exact_limit=40)
    collections.create("c")
    anchor = collections.add_faces("c", people.faces(0, 2))
    failures: list[BaseException] = []
    stop = threading.Event()

    def search() -> None:
        try:
            while not stop.is_set():
                found = collections.search_by_face_id("c", anchor[0].face_id, threshold=80)
                assert anchor[1].face_id in {match.face.face_id for match in found}
        except BaseException as error:  # handed to the test's thread
            failures.append(error)

    searchers = [threading.Thread(target=search) for _ in range(3)]
    for thread in searchers:
        thread.start()
    for person in range(1, 20):
        collections.add_faces("c", people.faces(person, 4))
    stop.set()
    for thread in searchers:
        thread.join()
    assert failures == []
    assert collections.describe("c").face_count == 78
