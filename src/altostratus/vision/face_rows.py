"""The collection and faces tables read and written: rows made IndexedFace, faces by id or key, vectors as arrays."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, Row, select, update

from altostratus.vision.collection_items import IndexedFace
from altostratus.vision.errors import ResourceNotFound
from altostratus.vision.results import Box
from altostratus.vision.tables import face_collections, faces
from altostratus.vision.vector_index import Vectors

# Face ids per IN (...) list: well under SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 500
FACE_COLUMNS = [column for column in faces.c if column.name != "vector"]
WITH_VECTOR = [*FACE_COLUMNS, faces.c.vector]


def face_from_row(row: Row[Any]) -> IndexedFace:
    """The face a row of the faces table holds (without its vector)."""
    return IndexedFace(
        face_id=row.face_id,
        image_id=row.image_id,
        external_image_id=row.external_image_id,
        box=Box(row.box_left, row.box_top, row.box_width, row.box_height),
        confidence=row.confidence,
        user_id=row.user_id,
        indexed_at=row.indexed_at,
    )


def rows_by_face_id(
    db: Connection, collection_id: str, face_ids: Sequence[str], *, vectors: bool = False
) -> dict[str, Row[Any]]:
    """The collection's rows of these faces by face id (with the vector when asked); missing ones are absent."""
    columns = WITH_VECTOR if vectors else FACE_COLUMNS
    found: dict[str, Row[Any]] = {}
    for start in range(0, len(face_ids), CHUNK):
        chunk = face_ids[start : start + CHUNK]
        statement = select(*columns).where(faces.c.collection_id == collection_id, faces.c.face_id.in_(chunk))
        found.update((row.face_id, row) for row in db.execute(statement))
    return found


def faces_by_key(db: Connection, collection_id: str, keys: Iterable[int]) -> dict[int, tuple[IndexedFace, bytes]]:
    """The collection's faces under these index keys, each with its stored vector (gone ones are absent)."""
    wanted = list(keys)
    found: dict[int, tuple[IndexedFace, bytes]] = {}
    for start in range(0, len(wanted), CHUNK):
        statement = select(*WITH_VECTOR).where(
            faces.c.collection_id == collection_id, faces.c.key.in_(wanted[start : start + CHUNK])
        )
        found.update((int(row.key), (face_from_row(row), row.vector)) for row in db.execute(statement))
    return found


def user_vectors(db: Connection, collection_id: str, user_id: str) -> Vectors:
    """The vectors of the faces associated with a user, one row each."""
    statement = select(faces.c.vector).where(faces.c.collection_id == collection_id, faces.c.user_id == user_id)
    return as_matrix(db.execute(statement).scalars())


def as_matrix(vectors: Iterable[bytes]) -> Vectors:
    """Stored vectors (float32 little-endian bytes, all the same length) as one float32 matrix, a row each."""
    rows = list(vectors)
    if not rows:
        return np.empty((0, 0), dtype=np.float32)
    return np.frombuffer(b"".join(rows), dtype="<f4").reshape(len(rows), -1).astype(np.float32)


def set_user(db: Connection, collection_id: str, face_ids: Sequence[str], user_id: str | None) -> None:
    """Associate these faces with a user, or with none."""
    for start in range(0, len(face_ids), CHUNK):
        db.execute(
            update(faces)
            .where(faces.c.collection_id == collection_id, faces.c.face_id.in_(face_ids[start : start + CHUNK]))
            .values(user_id=user_id)
        )


def collection_row(db: Connection, collection_id: str, *, for_update: bool = False) -> Row[Any]:
    """The collection's row; ResourceNotFound when there is none."""
    statement = select(face_collections).where(face_collections.c.collection_id == collection_id)
    row = db.execute(statement.with_for_update() if for_update else statement).first()
    if row is None:
        raise ResourceNotFound(f"CollectionId={collection_id!r} does not exist")
    return row
