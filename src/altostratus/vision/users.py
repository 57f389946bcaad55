"""A collection's users and Rekognition's rules for them, inside the caller's transaction.

A face belongs to at most one user and a user has at most 100 faces. A face joins a user that already has faces
only when its best similarity to them reaches the threshold, so that one user stays one person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Row, delete, func, insert, select, update

from altostratus.core.errors import Conflict
from altostratus.storage.paging import Listed, ListQuery, Page, fetch_page
from altostratus.vision.collection_items import (
    FaceAssociations,
    FaceProblem,
    UnsuccessfulFace,
    UserInfo,
    UserStatus,
)
from altostratus.vision.errors import ResourceNotFound, ServiceQuotaExceeded
from altostratus.vision.face_rows import as_matrix, rows_by_face_id, set_user, user_vectors
from altostratus.vision.tables import face_users, faces
from altostratus.vision.vector_index import Vectors

Similarity = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.floating[Any]]]
FACES_PER_USER = 100
USERS = Listed(face_users, name="user_id", tiebreak=("user_id",))


class UserConflict(Conflict):
    """A user with this id already exists in the collection (and the client token does not match)."""

    code = "ConflictException"
    status = 400


def create(db: Connection, collection_id: str, user_id: str, client_token: str | None, now: dt.datetime) -> None:
    """Add a user with no faces; repeating a creation with the same client token changes nothing."""
    existing = db.execute(select(face_users.c.client_token).where(*_is(collection_id, user_id))).first()
    if existing is not None:
        if client_token is not None and existing.client_token == client_token:
            return
        raise UserConflict(f"UserId={user_id!r} already exists in collection {collection_id!r}")
    db.execute(
        insert(face_users).values(
            collection_id=collection_id,
            user_id=user_id,
            status=UserStatus.CREATED,
            client_token=client_token,
            created_at=now,
            updated_at=now,
        )
    )


def delete_user(db: Connection, collection_id: str, user_id: str) -> None:
    """Disassociate the user's faces and remove it; ResourceNotFound when there is no such user."""
    _user(db, collection_id, user_id)
    db.execute(
        update(faces).where(faces.c.collection_id == collection_id, faces.c.user_id == user_id).values(user_id=None)
    )
    db.execute(delete(face_users).where(*_is(collection_id, user_id)))


def list_users(db: Connection, collection_id: str, query: ListQuery) -> Page[UserInfo]:
    """A page of the collection's users, by user id."""
    statement = select(face_users).where(face_users.c.collection_id == collection_id)
    return fetch_page(db, statement, query, USERS, lambda row: UserInfo(row.user_id, UserStatus(row.status)))


def statuses(db: Connection, collection_id: str, user_ids: Sequence[str]) -> dict[str, UserStatus]:
    """The status of each of these users that exists."""
    statement = select(face_users.c.user_id, face_users.c.status).where(
        face_users.c.collection_id == collection_id, face_users.c.user_id.in_(list(user_ids))
    )
    return {row.user_id: UserStatus(row.status) for row in db.execute(statement)}


def associate(
    db: Connection,
    collection_id: str,
    user_id: str,
    face_ids: Sequence[str],
    *,
    threshold: float,
    similarity: Similarity,
    now: dt.datetime,
) -> FaceAssociations:
    """Associate faces with a user, by Rekognition's rules; the ones that cannot be are returned with reasons."""
    _user(db, collection_id, user_id)
    found = rows_by_face_id(db, collection_id, face_ids, vectors=True)
    own = user_vectors(db, collection_id, user_id)
    unsuccessful: list[UnsuccessfulFace] = []
    accepted: list[str] = []
    for face_id in face_ids:
        row = found.get(face_id)
        if row is None or row.user_id == user_id:
            if row is None:
                unsuccessful.append(UnsuccessfulFace(face_id, (FaceProblem.FACE_NOT_FOUND,), user_id))
            continue
        if row.user_id is not None:
            unsuccessful.append(UnsuccessfulFace(face_id, (FaceProblem.ASSOCIATED_TO_A_DIFFERENT_USER,), user_id))
            continue
        score = _best_similarity(own, row.vector, similarity)
        if score is not None and score < threshold:
            low = UnsuccessfulFace(face_id, (FaceProblem.LOW_MATCH_CONFIDENCE,), user_id, score)
            unsuccessful.append(low)
            continue
        accepted.append(face_id)
    if len(own) + len(accepted) > FACES_PER_USER:
        raise ServiceQuotaExceeded(
            f"UserId={user_id!r} has {len(own)} faces; {len(accepted)} more would pass the {FACES_PER_USER} allowed"
        )
    set_user(db, collection_id, accepted, user_id)
    return FaceAssociations(accepted, unsuccessful, _restate(db, collection_id, user_id, now))


def disassociate(
    db: Connection, collection_id: str, user_id: str, face_ids: Sequence[str], *, now: dt.datetime
) -> FaceAssociations:
    """Take faces from a user; faces of another user or of none are returned with reasons."""
    _user(db, collection_id, user_id)
    found = rows_by_face_id(db, collection_id, face_ids)
    unsuccessful: list[UnsuccessfulFace] = []
    released: list[str] = []
    for face_id in face_ids:
        row = found.get(face_id)
        if row is None:
            unsuccessful.append(UnsuccessfulFace(face_id, (FaceProblem.FACE_NOT_FOUND,), user_id))
        elif row.user_id == user_id:
            released.append(face_id)
        elif row.user_id is not None:
            unsuccessful.append(UnsuccessfulFace(face_id, (FaceProblem.ASSOCIATED_TO_A_DIFFERENT_USER,), user_id))
    set_user(db, collection_id, released, None)
    return FaceAssociations(released, unsuccessful, _restate(db, collection_id, user_id, now))


def _best_similarity(own: Vectors, vector: bytes, similarity: Similarity) -> float | None:
    """The face's best similarity to the user's faces; None when the user has none yet."""
    if not len(own):
        return None
    candidate = as_matrix([vector])[0]
    distances = np.sqrt(np.maximum(2.0 - 2.0 * (own @ candidate), 0.0)).astype(np.float32)
    return float(np.max(similarity(distances)))


def _restate(db: Connection, collection_id: str, user_id: str, now: dt.datetime) -> UserStatus:
    """Record the user's status after its faces changed: ACTIVE with faces, CREATED without."""
    count = db.execute(
        select(func.count()).where(faces.c.collection_id == collection_id, faces.c.user_id == user_id)
    ).scalar_one()
    status = UserStatus.ACTIVE if count else UserStatus.CREATED
    db.execute(update(face_users).where(*_is(collection_id, user_id)).values(status=status, updated_at=now))
    return status


def _user(db: Connection, collection_id: str, user_id: str) -> Row[Any]:
    row = db.execute(select(face_users).where(*_is(collection_id, user_id)).with_for_update()).first()
    if row is None:
        raise ResourceNotFound(f"UserId={user_id!r} does not exist in collection {collection_id!r}")
    return row


def _is(collection_id: str, user_id: str) -> tuple[Any, ...]:
    return (face_users.c.collection_id == collection_id, face_users.c.user_id == user_id)
