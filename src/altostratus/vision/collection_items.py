"""What face collections hold and hand back: collections, indexed faces, users, matches, and batch outcomes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from enum import StrEnum

from altostratus.vision.results import Box


@dataclasses.dataclass(frozen=True)
class CollectionInfo:
    """A collection as listed: its id, ARN, the face model its vectors come from and when it was created."""

    collection_id: str
    arn: str
    face_model_version: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class CollectionDescription:
    """A collection with how many faces and users it holds."""

    info: CollectionInfo
    face_count: int
    user_count: int


@dataclasses.dataclass(frozen=True)
class IndexedFace:
    """A face as a collection keeps it: no image, only where it was, its confidence and (not here) its vector."""

    face_id: str
    image_id: str
    external_image_id: str | None
    box: Box
    confidence: float
    user_id: str | None
    indexed_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class FaceMatch:
    """A face found by a search and its similarity (0-100) to what was searched for."""

    face: IndexedFace
    similarity: float


class UserStatus(StrEnum):
    """CREATED: no faces yet; ACTIVE: it has faces. Changes are synchronous here, so UPDATING never shows."""

    CREATED = "CREATED"
    UPDATING = "UPDATING"
    ACTIVE = "ACTIVE"


@dataclasses.dataclass(frozen=True)
class UserInfo:
    """A user of a collection: a name for up to 100 faces of one person."""

    user_id: str
    status: UserStatus


@dataclasses.dataclass(frozen=True)
class UserMatch:
    """A user found by a search, scored by the best similarity of any of its faces."""

    user: UserInfo
    similarity: float


class FaceProblem(StrEnum):
    """Why a face was left out of a deletion, an association or a disassociation (Rekognition's reasons)."""

    FACE_NOT_FOUND = "FACE_NOT_FOUND"
    ASSOCIATED_TO_AN_EXISTING_USER = "ASSOCIATED_TO_AN_EXISTING_USER"
    ASSOCIATED_TO_A_DIFFERENT_USER = "ASSOCIATED_TO_A_DIFFERENT_USER"
    LOW_MATCH_CONFIDENCE = "LOW_MATCH_CONFIDENCE"


@dataclasses.dataclass(frozen=True)
class UnsuccessfulFace:
    """A face a batch change left alone, why, the user involved and, for LOW_MATCH_CONFIDENCE, the similarity."""

    face_id: str
    reasons: tuple[FaceProblem, ...]
    user_id: str | None = None
    confidence: float | None = None


@dataclasses.dataclass(frozen=True)
class FaceDeletions:
    """The faces deleted and those that were not."""

    deleted: list[str]
    unsuccessful: list[UnsuccessfulFace]


@dataclasses.dataclass(frozen=True)
class FaceAssociations:
    """The faces (dis)associated with a user, those that were not, and the user's status afterwards.

    Faces that already were as asked (associated with this user, or with none) appear in neither list.
    """

    changed: list[str]
    unsuccessful: list[UnsuccessfulFace]
    user_status: UserStatus
