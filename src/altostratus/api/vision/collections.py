"""Rekognition's collection operations that need no image: collections, faces by id, users, searches by id."""

from __future__ import annotations

from typing import Any

from altostratus.api.context import Call
from altostratus.api.paging import PageTokens
from altostratus.api.vision.shapes import box
from altostratus.vision.collection_items import FaceMatch, IndexedFace, UnsuccessfulFace, UserMatch
from altostratus.vision.collections import FaceCollections
from altostratus.vision.errors import InvalidParameter

TOKENS = PageTokens(InvalidParameter)
DEFAULT_THRESHOLD = 80.0
DEFAULT_USER_THRESHOLD = 80.0
DEFAULT_ASSOCIATE_THRESHOLD = 75.0
DEFAULT_MAX_FACES = 100
# Rekognition answers ListCollections and ListFaces with at most 1,000 a page unless asked for fewer, ListUsers 100.
DEFAULT_PAGE = 1000
DEFAULT_USERS_PAGE = 100


def face(value: IndexedFace, model_version: str) -> dict[str, Any]:
    """A Face of a collection."""
    found: dict[str, Any] = {
        "FaceId": value.face_id,
        "BoundingBox": box(value.box),
        "ImageId": value.image_id,
        "Confidence": value.confidence,
        "IndexFacesModelVersion": model_version,
    }
    if value.external_image_id is not None:
        found["ExternalImageId"] = value.external_image_id
    if value.user_id is not None:
        found["UserId"] = value.user_id
    return found


def face_matches(matches: list[FaceMatch], model_version: str) -> list[dict[str, Any]]:
    """FaceMatches: Similarity and Face."""
    return [{"Similarity": m.similarity, "Face": face(m.face, model_version)} for m in matches]


def user_matches(matches: list[UserMatch]) -> list[dict[str, Any]]:
    """UserMatches: Similarity and the user."""
    return [
        {"Similarity": m.similarity, "User": {"UserId": m.user.user_id, "UserStatus": str(m.user.status)}}
        for m in matches
    ]


def _unsuccessful(value: UnsuccessfulFace) -> dict[str, Any]:
    found: dict[str, Any] = {"FaceId": value.face_id, "Reasons": [str(r) for r in value.reasons]}
    if value.user_id is not None:
        found["UserId"] = value.user_id
    if value.confidence is not None:
        found["Confidence"] = value.confidence
    return found


class CollectionOperations:
    """The operations over FaceCollections alone."""

    def __init__(self, collections: FaceCollections, *, face_model: str) -> None:
        self._collections = collections
        self.face_model = face_model

    # ---- collections

    def create_collection(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateCollection."""
        info = self._collections.create(params["CollectionId"])
        return {"StatusCode": 200, "CollectionArn": info.arn, "FaceModelVersion": info.face_model_version}

    def describe_collection(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeCollection: face and user counts."""
        found = self._collections.describe(params["CollectionId"])
        return {
            "FaceCount": found.face_count,
            "UserCount": found.user_count,
            "FaceModelVersion": found.info.face_model_version,
            "CollectionARN": found.info.arn,
            "CreationTimestamp": found.info.created_at,
        }

    def list_collections(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListCollections, by id, a page at a time."""
        page = self._collections.list_collections(
            limit=params.get("MaxResults", DEFAULT_PAGE), offset=TOKENS.offset(params.get("NextToken"))
        )
        return {
            "CollectionIds": [c.collection_id for c in page.items],
            "FaceModelVersions": [c.face_model_version for c in page.items],
            **TOKENS.next_page(page.next_offset),
        }

    def delete_collection(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteCollection: its faces and users go with it."""
        self._collections.delete(params["CollectionId"])
        return {"StatusCode": 200}

    # ---- faces

    def list_faces(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListFaces, in the order they were indexed; of one user or some face ids when asked."""
        page = self._collections.list_faces(
            params["CollectionId"],
            user_id=params.get("UserId"),
            face_ids=params.get("FaceIds"),
            limit=params.get("MaxResults", DEFAULT_PAGE),
            offset=TOKENS.offset(params.get("NextToken")),
        )
        return {
            "Faces": [face(f, self.face_model) for f in page.items],
            "FaceModelVersion": self.face_model,
            **TOKENS.next_page(page.next_offset),
        }

    def delete_faces(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteFaces; faces not found or associated with a user are listed as unsuccessful."""
        result = self._collections.delete_faces(params["CollectionId"], params["FaceIds"])
        return {
            "DeletedFaces": result.deleted,
            "UnsuccessfulFaceDeletions": [_unsuccessful(u) for u in result.unsuccessful],
        }

    def search_faces(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """SearchFaces: the faces most like one of the collection's own."""
        matches = self._collections.search_by_face_id(
            params["CollectionId"],
            params["FaceId"],
            threshold=params.get("FaceMatchThreshold", DEFAULT_THRESHOLD),
            max_faces=params.get("MaxFaces", DEFAULT_MAX_FACES),
        )
        return {
            "SearchedFaceId": params["FaceId"],
            "FaceMatches": face_matches(matches, self.face_model),
            "FaceModelVersion": self.face_model,
        }

    # ---- users

    def create_user(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """CreateUser."""
        self._collections.create_user(
            params["CollectionId"], params["UserId"], client_token=params.get("ClientRequestToken")
        )
        return {}

    def delete_user(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DeleteUser: its faces stay, associated with no one."""
        self._collections.delete_user(params["CollectionId"], params["UserId"])
        return {}

    def list_users(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """ListUsers, by id, a page at a time."""
        page = self._collections.list_users(
            params["CollectionId"],
            limit=params.get("MaxResults", DEFAULT_USERS_PAGE),
            offset=TOKENS.offset(params.get("NextToken")),
        )
        users = [{"UserId": u.user_id, "UserStatus": str(u.status)} for u in page.items]
        return {"Users": users, **TOKENS.next_page(page.next_offset)}

    def associate_faces(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """AssociateFaces: each face with one user at most."""
        result = self._collections.associate_faces(
            params["CollectionId"],
            params["UserId"],
            params["FaceIds"],
            threshold=params.get("UserMatchThreshold", DEFAULT_ASSOCIATE_THRESHOLD),
        )
        return {
            "AssociatedFaces": [{"FaceId": f} for f in result.changed],
            "UnsuccessfulFaceAssociations": [_unsuccessful(u) for u in result.unsuccessful],
            "UserStatus": str(result.user_status),
        }

    def disassociate_faces(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DisassociateFaces."""
        result = self._collections.disassociate_faces(params["CollectionId"], params["UserId"], params["FaceIds"])
        return {
            "DisassociatedFaces": [{"FaceId": f} for f in result.changed],
            "UnsuccessfulFaceDisassociations": [_unsuccessful(u) for u in result.unsuccessful],
            "UserStatus": str(result.user_status),
        }

    def search_users(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """SearchUsers: by a user's faces or by one face id."""
        user_id, face_id = params.get("UserId"), params.get("FaceId")
        matches = self._collections.search_users(
            params["CollectionId"],
            user_id=user_id,
            face_id=face_id,
            threshold=params.get("UserMatchThreshold", DEFAULT_USER_THRESHOLD),
            max_users=params.get("MaxUsers", DEFAULT_MAX_FACES),
        )
        answer: dict[str, Any] = {"UserMatches": user_matches(matches), "FaceModelVersion": self.face_model}
        if user_id is not None:
            answer["SearchedUser"] = {"UserId": user_id}
        if face_id is not None:
            answer["SearchedFace"] = {"FaceId": face_id}
        return answer
