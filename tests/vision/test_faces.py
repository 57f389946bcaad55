"""The face engine on real photos: the shared faces (skipped when absent) and skimage's astronaut."""

from __future__ import annotations

import dataclasses
import itertools
import threading

import cv2
import numpy as np
import pytest

from altostratus.vision.errors import InvalidParameter
from altostratus.vision.faces import FaceAnalyzer, FaceEngine
from altostratus.vision.faces.detector import FULL_RANGE, SHORT_RANGE, confidence, weighted_nms
from altostratus.vision.faces.landmarks import LANDMARK_POINTS
from altostratus.vision.faces.pose import angles
from altostratus.vision.faces.similarity import distance_at, similarity
from altostratus.vision.images import Picture, decode
from altostratus.vision.results import Emotion, Face, FaceVector
from tests.vision_photos import shared_face, skimage_photo

REKOGNITION_LANDMARKS = {
    "eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight", "leftEyeBrowLeft", "leftEyeBrowRight",
    "leftEyeBrowUp", "rightEyeBrowLeft", "rightEyeBrowRight", "rightEyeBrowUp", "leftEyeLeft", "leftEyeRight",
    "leftEyeUp", "leftEyeDown", "rightEyeLeft", "rightEyeRight", "rightEyeUp", "rightEyeDown", "noseLeft",
    "noseRight", "mouthUp", "mouthDown", "leftPupil", "rightPupil", "upperJawlineLeft", "midJawlineLeft",
    "chinBottom", "midJawlineRight", "upperJawlineRight",
}  # fmt: skip
SAME = [
    ("obama/obama.jpg", "obama/obama2.jpg"),
    ("obama/obama.jpg", "partial_face/obama_partial_face.jpg"),
    ("obama/obama2.jpg", "partial_face/obama_partial_face2.jpg"),
    ("biden/biden.jpg", "biden/biden2.jpg"),
]
DIFFERENT = [
    ("obama/obama.jpg", "biden/biden.jpg"),
    ("obama/obama2.jpg", "biden/biden2.jpg"),
    ("partial_face/obama_partial_face.jpg", "biden/biden2.jpg"),
]


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    """One engine for the whole session: its models load once."""
    return FaceAnalyzer()


@pytest.fixture(scope="session")
def astronaut() -> Picture:
    """skimage's astronaut (Eileen Collins), a smiling woman."""
    return decode(skimage_photo("astronaut"))


def photo(relative: str) -> Picture:
    """A shared photo, decoded."""
    return decode(shared_face(relative))


def vector(analyzer: FaceAnalyzer, relative: str) -> FaceVector:
    """The largest face's vector in a shared photo."""
    found = analyzer.vectors(photo(relative), max_faces=1)
    assert len(found) == 1, relative
    return found[0]


def check_box(face: Face) -> None:
    """The box and landmarks are fractions of the image."""
    box = face.box
    assert 0.0 <= box.left <= 1.0 and 0.0 <= box.top <= 1.0
    assert 0.0 < box.width <= 1.0 - box.left + 1e-9 and 0.0 < box.height <= 1.0 - box.top + 1e-9
    assert all(0.0 <= mark.point.x <= 1.0 and 0.0 <= mark.point.y <= 1.0 for mark in face.landmarks)
    assert 0.0 < face.confidence <= 100.0


def test_analyzer_is_a_face_engine(analyzer: FaceAnalyzer) -> None:
    engine: FaceEngine = analyzer
    assert engine is analyzer


def test_astronaut_face_with_landmarks_inside_its_box(analyzer: FaceAnalyzer, astronaut: Picture) -> None:
    faces = analyzer.find(astronaut)
    assert len(faces) == 1
    face = faces[0]
    check_box(face)
    assert face.confidence > 80 and face.attributes is None
    assert {mark.type for mark in face.landmarks} == REKOGNITION_LANDMARKS
    box = face.box
    for mark in face.landmarks:
        assert box.left - 0.01 <= mark.point.x <= box.left + box.width + 0.01, mark
        assert box.top - 0.01 <= mark.point.y <= box.top + box.height + 0.01, mark
    where = {mark.type: mark.point for mark in face.landmarks}
    # Left and right as the viewer sees them; the mouth below the nose below the eyes.
    assert where["eyeLeft"].x < where["nose"].x < where["eyeRight"].x
    assert where["mouthLeft"].x < where["mouthRight"].x
    assert where["eyeLeft"].y < where["nose"].y < where["mouthUp"].y < where["mouthDown"].y < where["chinBottom"].y
    assert abs(face.pose.roll) < 10 and abs(face.pose.yaw) < 20
    assert 30 < face.quality.brightness < 90 and face.quality.sharpness > 30
    assert face.occluded.value is False


def test_astronaut_attributes(analyzer: FaceAnalyzer, astronaut: Picture) -> None:
    (face,) = analyzer.find(astronaut, attributes=True)
    attributes = face.attributes
    assert attributes is not None
    assert attributes.gender == "Female" and attributes.gender_confidence > 60
    assert 18 <= attributes.age_low < attributes.age_high <= 70
    assert set(attributes.emotions) == set(Emotion)
    assert sum(attributes.emotions.values()) == pytest.approx(100.0, abs=1.0)
    assert max(attributes.emotions, key=lambda e: attributes.emotions[e]) is Emotion.HAPPY
    assert attributes.smile.value is True and attributes.smile.confidence > 80
    assert attributes.eyes_open.value is True
    assert attributes.eyeglasses.value is False and attributes.sunglasses.value is False
    for judgement in (attributes.eyes_open, attributes.mouth_open, attributes.smile, attributes.eyeglasses):
        assert 50.0 <= judgement.confidence <= 100.0


def with_glasses(picture: Picture, face: Face, *, dark: bool) -> Picture:
    """The picture with black frames (and dark lenses when `dark`) drawn over the face's eyes."""
    pixels = picture.pixels.copy()
    where = {mark.type: (mark.point.x * picture.width, mark.point.y * picture.height) for mark in face.landmarks}
    (lx, ly), (rx, ry) = where["eyeLeft"], where["eyeRight"]
    span = float(np.hypot(where["leftEyeLeft"][0] - where["rightEyeRight"][0], ly - ry))
    thickness, axes = max(2, round(span * 0.035)), (round(span * 0.25), round(span * 0.17))
    for x, y in ((lx, ly), (rx, ry)):
        if dark:
            cv2.ellipse(pixels, (round(x), round(y)), axes, 0, 0, 360, (15, 15, 20), -1)
        cv2.ellipse(pixels, (round(x), round(y)), axes, 0, 0, 360, (20, 20, 20), thickness)
    bridge_y = round((ly + ry) / 2 - span * 0.05)
    cv2.line(pixels, (round(lx + axes[0]), bridge_y), (round(rx - axes[0]), bridge_y), (20, 20, 20), thickness)
    return dataclasses.replace(picture, pixels=pixels)


@pytest.mark.parametrize("dark", [False, True])
def test_drawn_glasses_are_seen(analyzer: FaceAnalyzer, astronaut: Picture, dark: bool) -> None:
    (face,) = analyzer.find(astronaut)
    (glassed,) = analyzer.find(with_glasses(astronaut, face, dark=dark), attributes=True)
    assert glassed.attributes is not None
    assert glassed.attributes.eyeglasses.value is True
    assert glassed.attributes.sunglasses.value is dark


def test_blur_lowers_sharpness_only(analyzer: FaceAnalyzer, astronaut: Picture) -> None:
    blurred = dataclasses.replace(astronaut, pixels=cv2.GaussianBlur(astronaut.pixels, (0, 0), 2.5))
    (sharp,) = analyzer.find(astronaut)
    (soft,) = analyzer.find(blurred)
    assert soft.quality.sharpness < sharp.quality.sharpness / 4
    assert soft.quality.brightness == pytest.approx(sharp.quality.brightness, abs=3)


def test_mirrored_face_mirrors_yaw_and_roll(analyzer: FaceAnalyzer, astronaut: Picture) -> None:
    mirrored = dataclasses.replace(astronaut, pixels=np.ascontiguousarray(astronaut.pixels[:, ::-1]))
    (face,) = analyzer.find(astronaut)
    (flipped,) = analyzer.find(mirrored)
    assert flipped.pose.yaw == pytest.approx(-face.pose.yaw, abs=5)
    assert flipped.pose.roll == pytest.approx(-face.pose.roll, abs=5)


def test_pose_angle_conventions() -> None:
    turn = np.radians(20.0)
    # Turned towards the image's right: the face's forward axis (-z) gains +x.
    yawed = np.array([[np.cos(turn), 0, -np.sin(turn)], [0, 1, 0], [np.sin(turn), 0, np.cos(turn)]])
    assert angles(yawed).yaw == pytest.approx(20.0, abs=0.1)
    clockwise = np.array([[np.cos(turn), -np.sin(turn), 0], [np.sin(turn), np.cos(turn), 0], [0, 0, 1]])
    assert angles(clockwise).roll == pytest.approx(20.0, abs=0.1)
    chin_up = np.array([[1, 0, 0], [0, np.cos(turn), np.sin(turn)], [0, -np.sin(turn), np.cos(turn)]])
    assert angles(chin_up).pitch == pytest.approx(20.0, abs=0.1)


def test_no_face_gives_nothing(analyzer: FaceAnalyzer) -> None:
    assert analyzer.find(decode(skimage_photo("coffee"))) == []
    assert analyzer.vectors(decode(skimage_photo("rocket"))) == []
    grey = Picture(np.full((64, 64, 3), 128, dtype=np.uint8), "PNG", None)
    assert analyzer.find(grey, attributes=True) == []


def test_two_faces_in_the_two_person_photo_largest_first(analyzer: FaceAnalyzer) -> None:
    picture = photo("multi_face/obama_and_biden.jpg")
    faces = analyzer.find(picture)
    # Biden and Obama, and the child at the bottom right, whom only the tiled pass finds.
    assert len(faces) >= 2
    areas = [face.box.area for face in faces]
    assert areas == sorted(areas, reverse=True)
    for face in faces:
        check_box(face)
    biden, obama = sorted(faces[:2], key=lambda face: face.box.left)
    assert biden.box.left + biden.box.width <= obama.box.left
    assert len(analyzer.find(picture, max_faces=1)) == 1
    assert analyzer.find(picture, max_faces=1)[0].box == faces[0].box


def test_the_tiled_pass_finds_the_child_and_can_be_turned_off(analyzer: FaceAnalyzer) -> None:
    picture = photo("multi_face/obama_and_biden.jpg")
    assert len(analyzer.find(picture)) == 3
    adults = FaceAnalyzer(small_faces=False).find(picture)
    assert len(adults) == 2 and all(face.confidence > 99 for face in adults)


def test_max_faces_out_of_range_is_refused(analyzer: FaceAnalyzer, astronaut: Picture) -> None:
    for wrong in (0, 101):
        with pytest.raises(InvalidParameter, match="MaxFaces"):
            analyzer.find(astronaut, max_faces=wrong)


@pytest.mark.parametrize("relative", ["partial_face/obama_partial_face.jpg", "partial_face/obama_partial_face2.jpg"])
def test_partial_face_is_found_and_marked_occluded(analyzer: FaceAnalyzer, relative: str) -> None:
    # Both crops cut the face at the image's edge: the face is found, its box clipped to the image.
    faces = analyzer.find(photo(relative), attributes=True)
    assert len(faces) == 1
    check_box(faces[0])
    assert faces[0].occluded.value is True


@pytest.mark.parametrize(("first", "second"), SAME)
def test_same_person_is_similar(analyzer: FaceAnalyzer, first: str, second: str) -> None:
    assert analyzer.similarity(vector(analyzer, first), vector(analyzer, second)) >= 80


@pytest.mark.parametrize(("first", "second"), DIFFERENT)
def test_different_persons_are_not(analyzer: FaceAnalyzer, first: str, second: str) -> None:
    assert analyzer.similarity(vector(analyzer, first), vector(analyzer, second)) < 80


def test_two_person_photo_matches_each_portrait(analyzer: FaceAnalyzer) -> None:
    found = analyzer.vectors(photo("multi_face/obama_and_biden.jpg"), max_faces=2)
    biden, obama = sorted(found, key=lambda v: v.face.box.left)
    assert analyzer.similarity(biden, vector(analyzer, "biden/biden.jpg")) >= 80
    assert analyzer.similarity(obama, vector(analyzer, "obama/obama.jpg")) >= 80
    assert analyzer.similarity(biden.vector, obama.vector) < 80


def test_vectors_are_unit_float32(analyzer: FaceAnalyzer, astronaut: Picture) -> None:
    (found,) = analyzer.vectors(astronaut, attributes=True)
    assert found.dimension == 128 and found.face.attributes is not None
    values = np.frombuffer(found.vector, dtype="<f4")
    assert float(np.linalg.norm(values)) == pytest.approx(1.0, abs=1e-5)
    assert analyzer.similarity(found, found.vector) == pytest.approx(similarity(0.0))
    with pytest.raises(InvalidParameter, match="bytes"):
        analyzer.similarity(found, b"\x00" * 12)


def test_concurrent_threads_agree(analyzer: FaceAnalyzer, astronaut: Picture) -> None:
    expected = analyzer.vectors(astronaut)[0].vector
    results: list[bytes] = []

    def work() -> None:
        results.append(analyzer.vectors(astronaut)[0].vector)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 3
    assert all(np.allclose(np.frombuffer(r, "<f4"), np.frombuffer(expected, "<f4"), atol=1e-5) for r in results)


def test_similarity_curve_is_monotone_with_threshold_at_80() -> None:
    distances = np.linspace(0.0, 2.0, 201)
    values = [similarity(float(d)) for d in distances]
    assert all(a >= b for a, b in itertools.pairwise(values))
    assert values[0] > 99 and values[-1] < 1
    assert similarity(distance_at(80.0)) == pytest.approx(80.0)


def test_confidence_is_monotone_in_the_score() -> None:
    values = [confidence(score) for score in np.linspace(0.0, 1.0, 101)]
    assert all(a < b or b == 100.0 for a, b in itertools.pairwise(values))
    assert confidence(0.5) == pytest.approx(50.0) and confidence(0.82) > 99


def test_anchor_counts_match_the_models() -> None:
    assert FULL_RANGE.anchors().shape == (2304, 2)
    assert SHORT_RANGE.anchors().shape == (896, 2)


def test_weighted_nms_merges_overlapping_boxes() -> None:
    rows = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], dtype=np.float32)
    merged = weighted_nms(rows, np.array([0.9, 0.6, 0.7], dtype=np.float32))
    assert [round(score, 1) for _, score in merged] == [0.9, 0.7]
    assert merged[0][0][0] == pytest.approx(0.4)  # (0 * 0.9 + 1 * 0.6) / 1.5


def test_every_rekognition_landmark_is_mapped() -> None:
    assert set(LANDMARK_POINTS) == REKOGNITION_LANDMARKS
