"""Face collections: the faces indexed from images (metadata and embedding, never the image), users, searches.

The metadata store holds everything; each collection's vector index is a cache of its vectors in memory
(collection_indexes.py), loaded on the first search after a start and kept in step with every change. Given a
`snapshot_dir`, collections' HNSW graphs are saved there (index_snapshots.py) so that a restart loads them
rather than building them again; call `close` at stop to save the latest.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Row, delete, func, insert, select, update

from altostratus.core.clock import Clock
from altostratus.core.ids import arn
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.paging import Listed, ListQuery, Page, fetch_page
from altostratus.vision import users
from altostratus.vision.collection_indexes import CollectionIndexes, IndexState, SnapshotPolicy
from altostratus.vision.collection_items import (
    CollectionDescription,
    CollectionInfo,
    FaceAssociations,
    FaceDeletions,
    FaceMatch,
    FaceProblem,
    IndexedFace,
    UnsuccessfulFace,
    UserInfo,
    UserMatch,
)
from altostratus.vision.errors import InvalidParameter, ResourceAlreadyExists, ResourceNotFound
from altostratus.vision.face_rows import as_matrix, collection_row, face_from_row, rows_by_face_id, user_vectors
from altostratus.vision.face_search import FaceSearch
from altostratus.vision.identifiers import (
    CLIENT_TOKEN,
    COLLECTION_ID,
    EXTERNAL_IMAGE_ID,
    FACE_ID,
    USER_ID,
    checked_count,
    checked_face_ids,
    checked_id,
    checked_percent,
)
from altostratus.vision.results import FaceVector
from altostratus.vision.tables import face_collections, face_users, faces
from altostratus.vision.users import Similarity
from altostratus.vision.vector_index import DIMENSION, EXACT_LIMIT, HnswSettings, Vectors

COLLECTIONS = Listed(face_collections, name="collection_id", tiebreak=("collection_id",))
FACES = Listed(faces, name="face_id", created="key", tiebreak=())
MAX_FACE_RESULTS = 4096  # MaxFaces, ListFaces' MaxResults and FaceIds
MAX_USER_RESULTS = 500  # MaxUsers and ListUsers' MaxResults
FACES_PER_CALL = 100  # AssociateFaces' and DisassociateFaces' FaceIds
# Embeddings are unit length; a norm further from 1 than this is a caller's mistake, not rounding.
NORM_TOLERANCE = 1e-3


class FaceCollections:
    """The collections of one account and region: their faces, users and searches."""

    def __init__(
        self,
        store: MetadataStore,
        clock: Clock,
        *,
        similarity: Similarity,
        exact_limit: int = EXACT_LIMIT,
        hnsw: HnswSettings | None = None,
        region: str = "us-east-1",
        account: str = "000000000000",
        face_model_version: str = "dlib-resnet-1",
        dimension: int = DIMENSION,
        snapshot_dir: Path | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._similarity = similarity
        self._region = region
        self._account = account
        self._face_model_version = face_model_version
        self._dimension = dimension
        self._indexes = CollectionIndexes(
            store,
            dimension=dimension,
            exact_limit=exact_limit,
            hnsw=hnsw,
            snapshots=SnapshotPolicy(snapshot_dir) if snapshot_dir is not None else None,
            monotonic=clock.monotonic,
        )
        self._search = FaceSearch(store, self._indexes, similarity)

    def flush(self) -> None:
        """Save the snapshot of every collection's graph that changed since its last save (with a snapshot_dir)."""
        self._indexes.flush()

    def close(self) -> None:
        """Stop graphs being built and save the snapshots: call at stop (the collections are not used after)."""
        self._indexes.close()

    # ---- collections

    def create(self, collection_id: str) -> CollectionInfo:
        """Create an empty collection; ResourceAlreadyExists when one has this id."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        info = CollectionInfo(
            collection_id=collection_id,
            arn=arn("rekognition", self._region, f"collection/{collection_id}", self._account),
            face_model_version=self._face_model_version,
            created_at=self._clock.now(),
        )
        with self._store.begin() as db:
            taken = select(face_collections.c.collection_id).where(face_collections.c.collection_id == collection_id)
            if db.execute(taken).first() is not None:
                raise ResourceAlreadyExists(f"CollectionId={collection_id!r} already exists")
            db.execute(
                insert(face_collections).values(
                    collection_id=collection_id,
                    arn=info.arn,
                    face_model_version=info.face_model_version,
                    generation=str(uuid.uuid4()),
                    version=0,
                    created_at=info.created_at,
                )
            )
        return info

    def describe(self, collection_id: str) -> CollectionDescription:
        """The collection with its face and user counts; ResourceNotFound when there is none."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        with self._store.read() as db:
            row = collection_row(db, collection_id)
            counted = db.execute(select(func.count()).where(faces.c.collection_id == collection_id)).scalar_one()
            people = db.execute(select(func.count()).where(face_users.c.collection_id == collection_id)).scalar_one()
        return CollectionDescription(_collection_info(row), int(counted), int(people))

    def list_collections(self, *, limit: int = 1000, offset: int = 0) -> Page[CollectionInfo]:
        """A page of the collections, by id."""
        limit = checked_count("MaxResults", limit, least=1, most=MAX_FACE_RESULTS)
        query = ListQuery(by_name=True, limit=limit, offset=offset)
        with self._store.read() as db:
            return fetch_page(db, select(face_collections), query, COLLECTIONS, _collection_info)

    def delete(self, collection_id: str) -> None:
        """Delete the collection with its faces, users and index; ResourceNotFound when there is none."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        with self._indexes.lock(collection_id):
            with self._store.begin() as db:
                collection_row(db, collection_id, for_update=True)
                db.execute(delete(faces).where(faces.c.collection_id == collection_id))
                db.execute(delete(face_users).where(face_users.c.collection_id == collection_id))
                db.execute(delete(face_collections).where(face_collections.c.collection_id == collection_id))
            self._indexes.forget(collection_id)

    # ---- faces

    def add_faces(
        self,
        collection_id: str,
        vectors: Sequence[FaceVector],
        *,
        image_id: str | None = None,
        external_image_id: str | None = None,
    ) -> list[IndexedFace]:
        """Index the faces of one image (a new image id unless given); the vectors are kept, the image is not."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        image_id = checked_id("ImageId", image_id, FACE_ID) if image_id is not None else str(uuid.uuid4())
        if external_image_id is not None:
            checked_id("ExternalImageId", external_image_id, EXTERNAL_IMAGE_ID)
        matrix = self._matrix([found.vector for found in vectors])
        now = self._clock.now()
        indexed = [
            IndexedFace(
                str(uuid.uuid4()), image_id, external_image_id, found.face.box, found.face.confidence, None, now
            )
            for found in vectors
        ]
        with self._indexes.lock(collection_id):
            with self._store.begin() as db:
                collection_row(db, collection_id, for_update=True)
                keys = _insert(db, collection_id, indexed, matrix) if indexed else []
                state = self._bump(db, collection_id)
            self._indexes.changed(collection_id, state, added=(np.array(keys, dtype=np.uint64), matrix))
        return indexed

    def list_faces(
        self,
        collection_id: str,
        *,
        user_id: str | None = None,
        face_ids: Sequence[str] | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> Page[IndexedFace]:
        """A page of the collection's faces in the order they were indexed, of one user or some ids if asked."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        query = ListQuery(limit=checked_count("MaxResults", limit, least=1, most=MAX_FACE_RESULTS), offset=offset)
        statement = select(faces).where(faces.c.collection_id == collection_id)
        if user_id is not None:
            statement = statement.where(faces.c.user_id == checked_id("UserId", user_id, USER_ID))
        if face_ids is not None:
            statement = statement.where(faces.c.face_id.in_(checked_face_ids("FaceIds", face_ids, most=4096)))
        with self._store.read() as db:
            collection_row(db, collection_id)
            return fetch_page(db, statement, query, FACES, face_from_row)

    def delete_faces(self, collection_id: str, face_ids: Sequence[str]) -> FaceDeletions:
        """Delete faces; those not found, or associated with a user, stay and are returned with the reason."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        wanted = checked_face_ids("FaceIds", face_ids, most=MAX_FACE_RESULTS)
        with self._indexes.lock(collection_id):
            with self._store.begin() as db:
                collection_row(db, collection_id, for_update=True)
                found = rows_by_face_id(db, collection_id, wanted)
                unsuccessful = [_undeletable(face_id, found.get(face_id)) for face_id in wanted]
                problems = [problem for problem in unsuccessful if problem is not None]
                deleted = [face_id for face_id, problem in zip(wanted, unsuccessful, strict=True) if problem is None]
                keys = np.array([found[face_id].key for face_id in deleted], dtype=np.uint64)
                if deleted:
                    db.execute(delete(faces).where(faces.c.key.in_(keys.tolist())))
                    state = self._bump(db, collection_id)
            if deleted:
                self._indexes.changed(collection_id, state, removed=keys)
        return FaceDeletions(deleted, problems)

    # ---- searches

    def search_by_face_id(
        self, collection_id: str, face_id: str, *, threshold: float = 80.0, max_faces: int = 100
    ) -> list[FaceMatch]:
        """The faces most similar to one of the collection's own (not itself), most similar first."""
        checked_id("FaceId", face_id, FACE_ID)
        vector = self._face_vector(collection_id, face_id)
        return self._search.faces(
            collection_id, vector, threshold=_threshold(threshold), count=_max_faces(max_faces), exclude=face_id
        )

    def search_by_vector(
        self, collection_id: str, vector: bytes, *, threshold: float = 80.0, max_faces: int = 100
    ) -> list[FaceMatch]:
        """The faces most similar to an embedding (float32 little-endian bytes), most similar first."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        query = self._matrix([vector])[0]
        return self._search.faces(collection_id, query, threshold=_threshold(threshold), count=_max_faces(max_faces))

    def search_users(
        self,
        collection_id: str,
        *,
        user_id: str | None = None,
        face_id: str | None = None,
        vector: bytes | None = None,
        threshold: float = 80.0,
        max_users: int = 100,
    ) -> list[UserMatch]:
        """The users most similar to a user, a face or an embedding (exactly one), scored by their best face."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        named = (("UserId", user_id), ("FaceId", face_id), ("vector", vector))
        given = [name for name, value in named if value is not None]
        if len(given) != 1:
            raise InvalidParameter(f"search by {given or 'nothing'}; expected exactly one of UserId, FaceId, vector")
        count = checked_count("MaxUsers", max_users, least=1, most=MAX_USER_RESULTS)
        if user_id is not None:
            queries = self._user_vectors(collection_id, checked_id("UserId", user_id, USER_ID))
        elif face_id is not None:
            queries = self._face_vector(collection_id, checked_id("FaceId", face_id, FACE_ID)).reshape(1, -1)
        else:
            assert vector is not None
            queries = self._matrix([vector])
        return self._search.users(
            collection_id,
            queries,
            threshold=_threshold(threshold, "UserMatchThreshold"),
            count=count,
            exclude_face=face_id,
            exclude_user=user_id,
        )

    # ---- users

    def create_user(self, collection_id: str, user_id: str, *, client_token: str | None = None) -> None:
        """Create a user with no faces; UserConflict when it exists (unless made before with this client token)."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        checked_id("UserId", user_id, USER_ID)
        if client_token is not None:
            checked_id("ClientRequestToken", client_token, CLIENT_TOKEN)
        with self._store.begin() as db:
            collection_row(db, collection_id)
            users.create(db, collection_id, user_id, client_token, self._clock.now())

    def delete_user(self, collection_id: str, user_id: str) -> None:
        """Delete a user, its faces disassociated first; ResourceNotFound when there is no such user."""
        self._check_user(collection_id, user_id)
        with self._store.begin() as db:
            collection_row(db, collection_id)
            users.delete_user(db, collection_id, user_id)

    def list_users(self, collection_id: str, *, limit: int = 100, offset: int = 0) -> Page[UserInfo]:
        """A page of the collection's users, by user id."""
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        limit = checked_count("MaxResults", limit, least=1, most=MAX_USER_RESULTS)
        query = ListQuery(by_name=True, limit=limit, offset=offset)
        with self._store.read() as db:
            collection_row(db, collection_id)
            return users.list_users(db, collection_id, query)

    def associate_faces(
        self, collection_id: str, user_id: str, face_ids: Sequence[str], *, threshold: float = 75.0
    ) -> FaceAssociations:
        """Associate faces with a user (each face with one user at most), by Rekognition's rules."""
        self._check_user(collection_id, user_id)
        wanted = checked_face_ids("FaceIds", face_ids, most=FACES_PER_CALL)
        threshold = _threshold(threshold, "UserMatchThreshold")
        with self._store.begin() as db:
            collection_row(db, collection_id)
            return users.associate(
                db,
                collection_id,
                user_id,
                wanted,
                threshold=threshold,
                similarity=self._similarity,
                now=self._clock.now(),
            )

    def disassociate_faces(self, collection_id: str, user_id: str, face_ids: Sequence[str]) -> FaceAssociations:
        """Take faces from a user; those of another user or not found are returned with the reason."""
        self._check_user(collection_id, user_id)
        wanted = checked_face_ids("FaceIds", face_ids, most=FACES_PER_CALL)
        with self._store.begin() as db:
            collection_row(db, collection_id)
            return users.disassociate(db, collection_id, user_id, wanted, now=self._clock.now())

    # ---- helpers

    def _matrix(self, vectors: Sequence[bytes]) -> Vectors:
        """Embeddings as a float32 matrix, each checked for length and unit norm."""
        wanted = self._dimension * 4
        for vector in vectors:
            if len(vector) != wanted:
                raise InvalidParameter(
                    f"a face vector of {len(vector)} bytes; expected {wanted} (float32 x {self._dimension})"
                )
        matrix = as_matrix(vectors).reshape(len(vectors), self._dimension)
        norms = np.linalg.norm(matrix, axis=1)
        if not np.all(np.abs(norms - 1.0) <= NORM_TOLERANCE):
            raise InvalidParameter(f"face vectors of norm {norms.tolist()}; expected unit length")
        return matrix

    def _face_vector(self, collection_id: str, face_id: str) -> Vectors:
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        with self._store.read() as db:
            collection_row(db, collection_id)
            row = rows_by_face_id(db, collection_id, [face_id], vectors=True).get(face_id)
        if row is None:
            # Rekognition answers an unknown face id with InvalidParameterException ("faceId was not found").
            raise InvalidParameter(f"FaceId={face_id!r} was not found in collection {collection_id!r}")
        vector: Vectors = as_matrix([row.vector])[0]
        return vector

    def _user_vectors(self, collection_id: str, user_id: str) -> Vectors:
        with self._store.read() as db:
            collection_row(db, collection_id)
            if not users.statuses(db, collection_id, [user_id]):
                raise ResourceNotFound(f"UserId={user_id!r} does not exist in collection {collection_id!r}")
            return user_vectors(db, collection_id, user_id)

    def _check_user(self, collection_id: str, user_id: str) -> None:
        checked_id("CollectionId", collection_id, COLLECTION_ID)
        checked_id("UserId", user_id, USER_ID)

    def _bump(self, db: Connection, collection_id: str) -> IndexState:
        """Count one more change to the collection's faces, in the caller's transaction."""
        db.execute(
            update(face_collections)
            .where(face_collections.c.collection_id == collection_id)
            .values(version=face_collections.c.version + 1)
        )
        row = collection_row(db, collection_id)
        return IndexState(row.generation, row.version)


def _insert(db: Connection, collection_id: str, indexed: Sequence[IndexedFace], matrix: Vectors) -> list[int]:
    """Store faces and their vectors; their keys in the vector index, in the same order."""
    rows = [
        {
            "face_id": face.face_id,
            "collection_id": collection_id,
            "image_id": face.image_id,
            "external_image_id": face.external_image_id,
            "box_left": face.box.left,
            "box_top": face.box.top,
            "box_width": face.box.width,
            "box_height": face.box.height,
            "confidence": face.confidence,
            "vector": matrix[row].astype("<f4").tobytes(),
            "user_id": None,
            "indexed_at": face.indexed_at,
        }
        for row, face in enumerate(indexed)
    ]
    statement = insert(faces).returning(faces.c.key, sort_by_parameter_order=True)
    return [int(key) for key in db.execute(statement, rows).scalars()]


def _collection_info(row: Row[Any]) -> CollectionInfo:
    return CollectionInfo(row.collection_id, row.arn, row.face_model_version, row.created_at)


def _undeletable(face_id: str, row: Row[Any] | None) -> UnsuccessfulFace | None:
    """Why a face cannot be deleted: it is not there, or it belongs to a user; None when it can be."""
    if row is None:
        return UnsuccessfulFace(face_id, (FaceProblem.FACE_NOT_FOUND,))
    if row.user_id is not None:
        return UnsuccessfulFace(face_id, (FaceProblem.ASSOCIATED_TO_AN_EXISTING_USER,), row.user_id)
    return None


def _threshold(value: float, name: str = "FaceMatchThreshold") -> float:
    return checked_percent(name, value)


def _max_faces(value: int) -> int:
    return checked_count("MaxFaces", value, least=1, most=MAX_FACE_RESULTS)
