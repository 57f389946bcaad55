"""Searches of a collection: the faces nearest a vector, and the users whose best face is nearest.

The index gives keys and distances; the caller's similarity (the face engine owns its calibration) turns
distances into 0-100; the metadata store gives the faces as they are now (a face deleted since is skipped).
"""

from __future__ import annotations

import numpy as np

from altostratus.storage.metadata import MetadataStore
from altostratus.vision.collection_indexes import CollectionIndexes, IndexState
from altostratus.vision.collection_items import FaceMatch, UserInfo, UserMatch
from altostratus.vision.face_rows import as_matrix, collection_row, faces_by_key
from altostratus.vision.users import Similarity, statuses
from altostratus.vision.vector_index import VectorIndex, Vectors

# Candidates the index proposes at the least. They are re-ranked on their stored float32 vectors, so that the
# similarities are exact and near ties come out in the right order although the graph's own distances are approximate.
CANDIDATES = 16
# Faces looked at per user wanted, at first: users share the neighbourhood with faces that belong to no user.
FACES_PER_USER_WANTED = 8


class FaceSearch:
    """Nearest faces and users in a collection, through its vector index."""

    def __init__(self, store: MetadataStore, indexes: CollectionIndexes, similarity: Similarity) -> None:
        self._store = store
        self._indexes = indexes
        self._similarity = similarity

    def faces(
        self, collection_id: str, vector: Vectors, *, threshold: float, count: int, exclude: str | None = None
    ) -> list[FaceMatch]:
        """Up to `count` faces at least `threshold` similar to the vector, most similar first (not `exclude`)."""
        index = self._index(collection_id)
        matches = self._matches(collection_id, index, vector, count + (exclude is not None), threshold)
        return [match for match in matches if match.face.face_id != exclude][:count]

    def users(
        self,
        collection_id: str,
        vectors: Vectors,
        *,
        threshold: float,
        count: int,
        exclude_face: str | None = None,
        exclude_user: str | None = None,
    ) -> list[UserMatch]:
        """Up to `count` users whose best face is at least `threshold` similar to any of the vectors."""
        index = self._index(collection_id)
        best: dict[str, float] = {}
        looked_at = max(count * FACES_PER_USER_WANTED, 64)
        while True:
            exhausted = True
            for vector in vectors:
                matches = self._matches(collection_id, index, vector, looked_at, threshold)
                exhausted = exhausted and len(matches) < looked_at
                for match in matches:
                    user_id = match.face.user_id
                    if user_id is None or user_id == exclude_user or match.face.face_id == exclude_face:
                        continue
                    best[user_id] = max(best.get(user_id, 0.0), match.similarity)
            # Every face above the threshold seen, or enough users found: a user further out scores lower.
            if exhausted or len(best) >= count or looked_at >= len(index):
                break
            looked_at *= 4
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:count]
        with self._store.read() as db:
            status = statuses(db, collection_id, [user_id for user_id, _ in ranked])
        return [UserMatch(UserInfo(user_id, status[user_id]), score) for user_id, score in ranked if user_id in status]

    def _index(self, collection_id: str) -> VectorIndex:
        with self._store.read() as db:
            row = collection_row(db, collection_id)
        return self._indexes.current(collection_id, IndexState(row.generation, row.version))

    def _matches(
        self, collection_id: str, index: VectorIndex, vector: Vectors, count: int, threshold: float
    ) -> list[FaceMatch]:
        """The index proposes candidates; their stored float32 vectors decide the order and the similarity."""
        keys, _ = index.search(vector, max(count, CANDIDATES))
        with self._store.read() as db:
            found = list(faces_by_key(db, collection_id, keys.tolist()).values())
        if not found:
            return []
        stored = as_matrix([stored_vector for _, stored_vector in found])
        distances = np.sqrt(np.maximum(2.0 - 2.0 * (stored @ vector), 0.0)).astype(np.float32)
        similarities = self._similarity(distances)
        order = np.argsort(-similarities, kind="stable")
        matches = [FaceMatch(found[row][0], float(similarities[row])) for row in order.tolist()]
        return [match for match in matches if match.similarity >= threshold][:count]
