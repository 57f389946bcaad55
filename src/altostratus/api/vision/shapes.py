"""Our nouns as Rekognition's shapes: FaceDetail, ComparedFace, Label, TextDetection and their parts."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from altostratus.vision.results import (
    Box,
    DominantColor,
    Face,
    ImageProperties,
    Judgement,
    Label,
    Point,
    TextDetection,
)

# DetectFaces' Attributes: the FaceDetail members each one asks for (DEFAULT's are always there).
ATTRIBUTE_MEMBERS = {
    "AGE_RANGE": "AgeRange",
    "BEARD": "Beard",
    "EMOTIONS": "Emotions",
    "EYEGLASSES": "Eyeglasses",
    "EYES_OPEN": "EyesOpen",
    "GENDER": "Gender",
    "MOUTH_OPEN": "MouthOpen",
    "MUSTACHE": "Mustache",
    "FACE_OCCLUDED": "FaceOccluded",
    "SMILE": "Smile",
    "SUNGLASSES": "Sunglasses",
}


def box(value: Box) -> dict[str, float]:
    """A BoundingBox."""
    return {"Width": value.width, "Height": value.height, "Left": value.left, "Top": value.top}


def point(value: Point) -> dict[str, float]:
    """A Point of a Polygon."""
    return {"X": value.x, "Y": value.y}


def judgement(value: Judgement) -> dict[str, Any]:
    """Smile, EyesOpen and the other Value/Confidence pairs."""
    return {"Value": value.value, "Confidence": value.confidence}


def face_detail(face: Face, members: Collection[str] | None = None) -> dict[str, Any]:
    """A FaceDetail: the default members, and of the others those in `members` (None: every one measured)."""
    detail: dict[str, Any] = {
        "BoundingBox": box(face.box),
        "Landmarks": [{"Type": m.type, "X": m.point.x, "Y": m.point.y} for m in face.landmarks],
        "Pose": {"Roll": face.pose.roll, "Yaw": face.pose.yaw, "Pitch": face.pose.pitch},
        "Quality": {"Brightness": face.quality.brightness, "Sharpness": face.quality.sharpness},
        "Confidence": face.confidence,
    }
    if face.attributes is None:
        return detail
    found = _attributes(face)
    wanted = set(found) if members is None else set(members)
    detail.update({name: value for name, value in found.items() if name in wanted})
    return detail


def _attributes(face: Face) -> dict[str, Any]:
    a = face.attributes
    assert a is not None
    found: dict[str, Any] = {
        "AgeRange": {"Low": a.age_low, "High": a.age_high},
        "Smile": judgement(a.smile),
        "Eyeglasses": judgement(a.eyeglasses),
        "Sunglasses": judgement(a.sunglasses),
        "Gender": {"Value": a.gender, "Confidence": a.gender_confidence},
        "EyesOpen": judgement(a.eyes_open),
        "MouthOpen": judgement(a.mouth_open),
        "Emotions": [
            {"Type": str(kind), "Confidence": confidence}
            for kind, confidence in sorted(a.emotions.items(), key=lambda item: -item[1])
        ],
        "FaceOccluded": judgement(face.occluded),
    }
    if a.beard is not None:
        found["Beard"] = judgement(a.beard)
    if a.mustache is not None:
        found["Mustache"] = judgement(a.mustache)
    return found


def compared_face(face: Face) -> dict[str, Any]:
    """A ComparedFace: box, confidence, landmarks, pose, quality (and emotions and smile when measured)."""
    found = face_detail(face, members=("Emotions", "Smile"))
    return {
        k: found[k]
        for k in ("BoundingBox", "Confidence", "Landmarks", "Pose", "Quality", "Emotions", "Smile")
        if k in found
    }


def label(value: Label) -> dict[str, Any]:
    """A Label with its instances, parents, aliases and categories."""
    return {
        "Name": value.name,
        "Confidence": value.confidence,
        "Instances": [{"BoundingBox": box(i.box), "Confidence": i.confidence} for i in value.instances],
        "Parents": [{"Name": name} for name in value.parents],
        "Aliases": [{"Name": name} for name in value.aliases],
        "Categories": [{"Name": name} for name in value.categories],
    }


def dominant_color(value: DominantColor) -> dict[str, Any]:
    """A DominantColor."""
    return {
        "Red": value.red,
        "Green": value.green,
        "Blue": value.blue,
        "HexCode": value.hex_code,
        "CSSColor": value.css_color,
        "SimplifiedColor": value.simplified_color,
        "PixelPercent": value.pixel_percent,
    }


def image_properties(value: ImageProperties) -> dict[str, Any]:
    """DetectLabels' ImageProperties: quality and dominant colours of the whole image."""
    quality = value.quality
    return {
        "Quality": {"Brightness": quality.brightness, "Sharpness": quality.sharpness, "Contrast": quality.contrast},
        "DominantColors": [dominant_color(c) for c in value.dominant_colors],
    }


def text_detection(value: TextDetection) -> dict[str, Any]:
    """A TextDetection; a LINE has no ParentId."""
    found: dict[str, Any] = {
        "DetectedText": value.text,
        "Type": str(value.type),
        "Id": value.id,
        "Confidence": value.confidence,
        "Geometry": {"BoundingBox": box(value.box), "Polygon": [point(p) for p in value.polygon]},
    }
    if value.parent_id is not None:
        found["ParentId"] = value.parent_id
    return found
