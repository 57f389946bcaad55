"""DetectLabels and DetectText with unmodified boto3: skimage's photos and a rendered image of text."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from tests.live_server import LiveServer
from tests.vision_photos import rendered_text, skimage_photo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rekognition(server: LiveServer) -> Any:
    return server.client("rekognition")


def names(answer: dict[str, Any]) -> list[str]:
    return [label["Name"] for label in answer["Labels"]]


def test_the_cat_is_a_cat_and_an_animal(rekognition: Any) -> None:
    answer = rekognition.detect_labels(Image={"Bytes": skimage_photo("chelsea")})
    found = {label["Name"]: label for label in answer["Labels"]}
    assert "Cat" in found and "Animal" in found
    assert "Animal" in {p["Name"] for p in found["Cat"]["Parents"]}
    assert found["Animal"]["Confidence"] >= found["Cat"]["Confidence"]
    assert "Animals and Pets" in {c["Name"] for c in found["Cat"]["Categories"]}
    confidences = [label["Confidence"] for label in answer["Labels"]]
    assert confidences == sorted(confidences, reverse=True) and min(confidences) >= 55
    assert answer["LabelModelVersion"]


def test_the_coffee_is_a_cup(rekognition: Any) -> None:
    found = names(rekognition.detect_labels(Image={"Bytes": skimage_photo("coffee")}, MinConfidence=30))
    assert any(word in name.lower() for name in found for word in ("cup", "mug", "coffee", "espresso"))


def test_the_rocket_is_a_rocket(rekognition: Any) -> None:
    found = names(rekognition.detect_labels(Image={"Bytes": skimage_photo("rocket")}, MinConfidence=20))
    assert any(word in name.lower() for name in found for word in ("rocket", "missile", "space shuttle", "projectile"))


def test_the_astronaut_is_a_person_with_a_box(rekognition: Any) -> None:
    answer = rekognition.detect_labels(Image={"Bytes": skimage_photo("astronaut")}, MinConfidence=40)
    found = {label["Name"]: label for label in answer["Labels"]}
    assert "Person" in found
    [instance, *_] = found["Person"]["Instances"]
    assert 0 < instance["BoundingBox"]["Width"] <= 1 and instance["Confidence"] > 40


def test_max_labels_min_confidence_and_filters(rekognition: Any) -> None:
    image = {"Bytes": skimage_photo("chelsea")}
    assert len(rekognition.detect_labels(Image=image, MaxLabels=2)["Labels"]) == 2
    high = rekognition.detect_labels(Image=image, MinConfidence=90)["Labels"]
    assert all(label["Confidence"] >= 90 for label in high)
    only_cats = rekognition.detect_labels(Image=image, Settings={"GeneralLabels": {"LabelInclusionFilters": ["Cat"]}})
    assert names(only_cats) == ["Cat"]
    no_animals = rekognition.detect_labels(
        Image=image, Settings={"GeneralLabels": {"LabelCategoryExclusionFilters": ["Animals and Pets"]}}
    )
    assert "Cat" not in names(no_animals)


def test_image_properties_are_measured(rekognition: Any) -> None:
    red = io.BytesIO()
    Image.new("RGB", (320, 240), (220, 20, 20)).save(red, "PNG")
    answer = rekognition.detect_labels(Image={"Bytes": red.getvalue()}, Features=["IMAGE_PROPERTIES"])
    assert answer["Labels"] == []
    properties = answer["ImageProperties"]
    [colour, *_] = properties["DominantColors"]
    assert colour["SimplifiedColor"] == "red" and colour["PixelPercent"] > 90
    assert colour["HexCode"].startswith("#")
    assert set(properties["Quality"]) == {"Brightness", "Sharpness", "Contrast"}


def test_detect_text_reads_lines_and_words(rekognition: Any) -> None:
    answer = rekognition.detect_text(Image={"Bytes": rendered_text(["HELLO WORLD", "ALTOSTRATUS 2026"])})
    detections = answer["TextDetections"]
    lines = [d for d in detections if d["Type"] == "LINE"]
    words = [d for d in detections if d["Type"] == "WORD"]
    assert [line["DetectedText"] for line in lines] == ["HELLO WORLD", "ALTOSTRATUS 2026"]
    assert [w["DetectedText"] for w in words] == ["HELLO", "WORLD", "ALTOSTRATUS", "2026"]
    line_ids = {line["DetectedText"]: line["Id"] for line in lines}
    assert [w["ParentId"] for w in words] == [line_ids["HELLO WORLD"]] * 2 + [line_ids["ALTOSTRATUS 2026"]] * 2
    for found in detections:
        assert len(found["Geometry"]["Polygon"]) == 4
        assert all(0 <= p["X"] <= 1 and 0 <= p["Y"] <= 1 for p in found["Geometry"]["Polygon"])
        assert found["Confidence"] > 50


def test_detect_text_filters_words(rekognition: Any) -> None:
    image = {"Bytes": rendered_text(["HELLO WORLD", "ALTOSTRATUS 2026"])}
    top_half = {"RegionsOfInterest": [{"BoundingBox": {"Left": 0, "Top": 0, "Width": 1, "Height": 0.45}}]}
    found = rekognition.detect_text(Image=image, Filters=top_half)["TextDetections"]
    assert [d["DetectedText"] for d in found if d["Type"] == "LINE"] == ["HELLO WORLD"]
    strict = rekognition.detect_text(Image=image, Filters={"WordFilter": {"MinBoundingBoxWidth": 0.9}})
    assert strict["TextDetections"] == []
