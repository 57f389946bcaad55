"""DetectFaces and CompareFaces with unmodified boto3 on real photos: the shared faces and skimage's astronaut."""

from __future__ import annotations

from typing import Any

import pytest

from tests.live_server import LiveServer
from tests.vision_photos import shared_face, shared_faces, skimage_photo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rekognition(server: LiveServer) -> Any:
    return server.client("rekognition")


def test_detect_faces_finds_both_people_in_the_two_person_photo(rekognition: Any) -> None:
    # The photo shows the two men and, smaller, a child between them: three faces.
    answer = rekognition.detect_faces(Image={"Bytes": shared_face("multi_face/obama_and_biden.jpg")})
    faces = answer["FaceDetails"]
    assert len(faces) == 3
    assert all(f["Confidence"] > 90 for f in faces[:2])
    areas = [f["BoundingBox"]["Width"] * f["BoundingBox"]["Height"] for f in faces]
    assert areas == sorted(areas, reverse=True)
    for face in faces:
        box = face["BoundingBox"]
        assert 0 <= box["Left"] < 1 and 0 <= box["Top"] < 1 and 0 < box["Width"] <= 1 and 0 < box["Height"] <= 1
        assert face["Confidence"] > 50
        types = {m["Type"] for m in face["Landmarks"]}
        assert {"eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight", "chinBottom"} <= types
        assert set(face["Pose"]) == {"Roll", "Yaw", "Pitch"}
        assert 0 <= face["Quality"]["Brightness"] <= 100 and 0 <= face["Quality"]["Sharpness"] <= 100
        assert "AgeRange" not in face


def test_the_astronaut_measured_with_every_attribute(rekognition: Any) -> None:
    answer = rekognition.detect_faces(Image={"Bytes": skimage_photo("astronaut")}, Attributes=["ALL"])
    [face] = answer["FaceDetails"]
    box = face["BoundingBox"]
    for landmark in face["Landmarks"]:
        assert box["Left"] - 0.05 <= landmark["X"] <= box["Left"] + box["Width"] + 0.05
        assert box["Top"] - 0.05 <= landmark["Y"] <= box["Top"] + box["Height"] + 0.05
    assert face["Gender"]["Value"] == "Female"
    assert 15 <= face["AgeRange"]["Low"] <= face["AgeRange"]["High"] <= 70
    assert face["Smile"]["Value"] is True
    assert face["EyesOpen"]["Value"] is True
    assert {e["Type"] for e in face["Emotions"]} >= {"HAPPY", "SAD", "CALM", "ANGRY"}
    assert face["Emotions"][0]["Type"] == "HAPPY"
    for member in ("MouthOpen", "Eyeglasses", "Sunglasses", "FaceOccluded"):
        assert set(face[member]) == {"Value", "Confidence"}


def test_attributes_by_name_answer_only_those(rekognition: Any) -> None:
    answer = rekognition.detect_faces(Image={"Bytes": skimage_photo("astronaut")}, Attributes=["AGE_RANGE", "SMILE"])
    [face] = answer["FaceDetails"]
    assert "AgeRange" in face and "Smile" in face
    assert "Gender" not in face and "Emotions" not in face


def test_an_image_without_faces_has_none(rekognition: Any) -> None:
    assert rekognition.detect_faces(Image={"Bytes": skimage_photo("coffee")})["FaceDetails"] == []


def test_a_partial_face_is_answered_without_error(rekognition: Any) -> None:
    for photo in shared_faces("partial_face"):
        [face] = rekognition.detect_faces(Image={"Bytes": photo}, Attributes=["ALL"])["FaceDetails"]
        assert face["FaceOccluded"]["Value"] is True  # cut by the image's border
        assert 0 <= face["BoundingBox"]["Left"] <= 1


def test_compare_faces_matches_the_same_person(rekognition: Any) -> None:
    first, second = shared_faces("obama")
    answer = rekognition.compare_faces(SourceImage={"Bytes": first}, TargetImage={"Bytes": second})
    [match] = answer["FaceMatches"]
    assert match["Similarity"] >= 80
    assert answer["UnmatchedFaces"] == []
    assert answer["SourceImageFace"]["Confidence"] > 90


def test_compare_faces_does_not_match_another_person(rekognition: Any) -> None:
    obama, biden = shared_faces("obama")[0], shared_faces("biden")[0]
    answer = rekognition.compare_faces(SourceImage={"Bytes": obama}, TargetImage={"Bytes": biden})
    assert answer["FaceMatches"] == []
    [unmatched] = answer["UnmatchedFaces"]
    assert set(unmatched) >= {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"}


def test_compare_faces_finds_the_person_among_three(rekognition: Any) -> None:
    biden = shared_faces("biden")[0]
    both = shared_face("multi_face/obama_and_biden.jpg")
    answer = rekognition.compare_faces(
        SourceImage={"Bytes": biden}, TargetImage={"Bytes": both}, SimilarityThreshold=80
    )
    assert len(answer["FaceMatches"]) == 1 and len(answer["UnmatchedFaces"]) == 2
    lower = rekognition.compare_faces(SourceImage={"Bytes": biden}, TargetImage={"Bytes": both}, SimilarityThreshold=0)
    assert len(lower["FaceMatches"]) == 3 and lower["UnmatchedFaces"] == []
    assert lower["FaceMatches"][0]["Face"]["BoundingBox"] == answer["FaceMatches"][0]["Face"]["BoundingBox"]
    similarities = [m["Similarity"] for m in lower["FaceMatches"]]
    assert similarities == sorted(similarities, reverse=True)


def test_compare_faces_with_no_source_face_is_an_invalid_parameter(rekognition: Any) -> None:
    with pytest.raises(rekognition.exceptions.InvalidParameterException):
        rekognition.compare_faces(
            SourceImage={"Bytes": skimage_photo("coffee")}, TargetImage={"Bytes": skimage_photo("astronaut")}
        )


def test_images_in_the_lake_are_read_as_s3_objects(server: LiveServer, rekognition: Any) -> None:
    s3 = server.client("s3")
    s3.create_bucket(Bucket="vision-photos")
    s3.put_object(Bucket="vision-photos", Key="people/both.jpg", Body=shared_face("multi_face/obama_and_biden.jpg"))
    answer = rekognition.detect_faces(Image={"S3Object": {"Bucket": "vision-photos", "Name": "people/both.jpg"}})
    assert len(answer["FaceDetails"]) == 3
    with pytest.raises(rekognition.exceptions.InvalidS3ObjectException):
        rekognition.detect_faces(Image={"S3Object": {"Bucket": "vision-photos", "Name": "absent.jpg"}})
    with pytest.raises(rekognition.exceptions.InvalidS3ObjectException):
        rekognition.detect_faces(
            Image={"S3Object": {"Bucket": "vision-photos", "Name": "people/both.jpg", "Version": "1"}}
        )
