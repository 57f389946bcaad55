"""Face collections with unmodified boto3: index, list, search, delete, users, and a restart that loses nothing."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer, live_server
from tests.vision_photos import shared_face, shared_faces, skimage_photo

pytestmark = pytest.mark.slow
_names = itertools.count()


@pytest.fixture(scope="module")
def rekognition(server: LiveServer) -> Any:
    return server.client("rekognition")


@pytest.fixture
def collection(rekognition: Any) -> str:
    name = f"people-{next(_names)}"
    rekognition.create_collection(CollectionId=name)
    return name


def index(rekognition: Any, collection: str, photo: bytes, external: str, **options: Any) -> dict[str, Any]:
    return rekognition.index_faces(CollectionId=collection, Image={"Bytes": photo}, ExternalImageId=external, **options)


def test_collections_are_created_listed_described_and_deleted(rekognition: Any) -> None:
    created = rekognition.create_collection(CollectionId="lifecycle")
    assert created["StatusCode"] == 200
    assert created["CollectionArn"].endswith(":collection/lifecycle")
    assert "lifecycle" in rekognition.list_collections()["CollectionIds"]
    described = rekognition.describe_collection(CollectionId="lifecycle")
    assert (described["FaceCount"], described["UserCount"]) == (0, 0)
    assert described["CollectionARN"] == created["CollectionArn"]
    assert rekognition.delete_collection(CollectionId="lifecycle")["StatusCode"] == 200
    assert "lifecycle" not in rekognition.list_collections()["CollectionIds"]


def test_list_collections_pages(rekognition: Any) -> None:
    for i in range(5):
        rekognition.create_collection(CollectionId=f"paged-{i}")
    pages = list(rekognition.get_paginator("list_collections").paginate(PaginationConfig={"PageSize": 2}))
    ids = [c for page in pages for c in page["CollectionIds"]]
    assert {f"paged-{i}" for i in range(5)} <= set(ids) and len(ids) == len(set(ids))
    assert len(pages) >= 3


def test_index_faces_keeps_the_largest_and_says_why_others_were_left(rekognition: Any, collection: str) -> None:
    both = shared_face("multi_face/obama_and_biden.jpg")
    answer = index(rekognition, collection, both, "both.jpg", MaxFaces=1, DetectionAttributes=["ALL"])
    [record] = answer["FaceRecords"]
    assert record["Face"]["ExternalImageId"] == "both.jpg" and record["Face"]["FaceId"]
    assert "AgeRange" in record["FaceDetail"]
    unindexed = answer["UnindexedFaces"]
    assert len(unindexed) == 2  # the other man, and the child between them
    assert all(u["Reasons"] for u in unindexed) and ["EXCEEDS_MAX_FACES"] in [u["Reasons"] for u in unindexed]
    assert answer["FaceModelVersion"]
    assert rekognition.describe_collection(CollectionId=collection)["FaceCount"] == 1


def test_search_finds_the_same_person_and_not_another(rekognition: Any, collection: str) -> None:
    obama_one, obama_two = shared_faces("obama")
    biden_one, _ = shared_faces("biden")
    obama_id = index(rekognition, collection, obama_one, "obama1")["FaceRecords"][0]["Face"]["FaceId"]
    index(rekognition, collection, biden_one, "biden1")
    found = rekognition.search_faces_by_image(CollectionId=collection, Image={"Bytes": obama_two})
    [match] = found["FaceMatches"]
    assert match["Face"]["FaceId"] == obama_id and match["Similarity"] >= 80
    assert found["SearchedFaceConfidence"] > 90 and 0 < found["SearchedFaceBoundingBox"]["Width"] <= 1
    by_id = rekognition.search_faces(CollectionId=collection, FaceId=obama_id, FaceMatchThreshold=80)
    assert by_id["SearchedFaceId"] == obama_id and by_id["FaceMatches"] == []
    everyone = rekognition.search_faces(CollectionId=collection, FaceId=obama_id, FaceMatchThreshold=0, MaxFaces=5)
    assert [m["Face"]["ExternalImageId"] for m in everyone["FaceMatches"]] == ["biden1"]


def test_search_by_an_image_without_a_face_is_an_invalid_parameter(rekognition: Any, collection: str) -> None:
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.search_faces_by_image(CollectionId=collection, Image={"Bytes": skimage_photo("coffee")})


def test_list_and_delete_faces(rekognition: Any, collection: str) -> None:
    for i, photo in enumerate(shared_faces("obama") + shared_faces("biden")):
        index(rekognition, collection, photo, f"photo{i}")
    pages = list(
        rekognition.get_paginator("list_faces").paginate(CollectionId=collection, PaginationConfig={"PageSize": 3})
    )
    faces = [f for page in pages for f in page["Faces"]]
    assert len(faces) == 4 and len(pages) == 2
    assert {"FaceId", "BoundingBox", "ImageId", "ExternalImageId", "Confidence"} <= set(faces[0])
    absent = "00000000-0000-4000-8000-000000000000"
    deleted = rekognition.delete_faces(CollectionId=collection, FaceIds=[faces[0]["FaceId"], absent])
    assert deleted["DeletedFaces"] == [faces[0]["FaceId"]]
    assert rekognition.describe_collection(CollectionId=collection)["FaceCount"] == 3
    remaining = rekognition.list_faces(CollectionId=collection)["Faces"]
    assert faces[0]["FaceId"] not in {f["FaceId"] for f in remaining}


def test_users_gather_faces_and_are_searched(rekognition: Any, collection: str) -> None:
    obama_one, obama_two = shared_faces("obama")
    biden_one = shared_faces("biden")[0]
    obama_face = index(rekognition, collection, obama_one, "o1")["FaceRecords"][0]["Face"]["FaceId"]
    biden_face = index(rekognition, collection, biden_one, "b1")["FaceRecords"][0]["Face"]["FaceId"]
    rekognition.create_user(CollectionId=collection, UserId="barack")
    rekognition.create_user(CollectionId=collection, UserId="joe")
    associated = rekognition.associate_faces(CollectionId=collection, UserId="barack", FaceIds=[obama_face])
    assert associated["AssociatedFaces"] == [{"FaceId": obama_face}]
    rekognition.associate_faces(CollectionId=collection, UserId="joe", FaceIds=[biden_face])
    taken = rekognition.associate_faces(CollectionId=collection, UserId="joe", FaceIds=[obama_face])
    assert taken["UnsuccessfulFaceAssociations"][0]["Reasons"] == ["ASSOCIATED_TO_A_DIFFERENT_USER"]
    users = {u["UserId"] for u in rekognition.list_users(CollectionId=collection)["Users"]}
    assert users == {"barack", "joe"}
    found = rekognition.search_users_by_image(CollectionId=collection, Image={"Bytes": obama_two})
    assert found["UserMatches"][0]["User"]["UserId"] == "barack"
    assert found["UserMatches"][0]["Similarity"] >= 80
    by_user = rekognition.search_users(CollectionId=collection, UserId="joe", UserMatchThreshold=0)
    assert {m["User"]["UserId"] for m in by_user["UserMatches"]} == {"barack"}
    by_face = rekognition.search_users(CollectionId=collection, FaceId=biden_face)
    assert by_face["UserMatches"] == []
    assert rekognition.describe_collection(CollectionId=collection)["UserCount"] == 2
    refused = rekognition.delete_faces(CollectionId=collection, FaceIds=[obama_face])
    assert refused["DeletedFaces"] == []
    assert refused["UnsuccessfulFaceDeletions"][0]["Reasons"] == ["ASSOCIATED_TO_AN_EXISTING_USER"]
    rekognition.delete_user(CollectionId=collection, UserId="joe")
    assert {u["UserId"] for u in rekognition.list_users(CollectionId=collection)["Users"]} == {"barack"}


def test_faces_survive_a_restart(tmp_path: Path) -> None:
    photo_one, photo_two = shared_faces("obama")
    with live_server(tmp_path / "data") as first:
        rekognition = first.client("rekognition")
        rekognition.create_collection(CollectionId="kept")
        face_id = index(rekognition, "kept", photo_one, "kept1")["FaceRecords"][0]["Face"]["FaceId"]
    with live_server(tmp_path / "data") as second:
        rekognition = second.client("rekognition")
        assert rekognition.describe_collection(CollectionId="kept")["FaceCount"] == 1
        [match] = rekognition.search_faces_by_image(CollectionId="kept", Image={"Bytes": photo_two})["FaceMatches"]
        assert match["Face"]["FaceId"] == face_id
