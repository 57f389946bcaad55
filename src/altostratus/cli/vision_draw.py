"""`--draw out.jpg`: a copy of the image with the answer's boxes, landmarks, labels and text drawn on it."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageOps

FACE_COLOUR = (255, 196, 0)
MATCH_COLOUR = (0, 200, 83)
OTHER_COLOUR = (229, 57, 53)
LABEL_COLOUR = (41, 121, 255)


def upright(data: bytes) -> Image.Image:
    """The image as the server saw it: EXIF orientation applied, in RGB."""
    image = Image.open(io.BytesIO(data))
    return (ImageOps.exif_transpose(image) or image).convert("RGB")


def _rectangle(image: Image.Image, box: Mapping[str, float]) -> tuple[float, float, float, float]:
    left, top = box["Left"] * image.width, box["Top"] * image.height
    return left, top, left + box["Width"] * image.width, top + box["Height"] * image.height


def _boxed(
    draw: ImageDraw.ImageDraw, image: Image.Image, box: Mapping[str, float], colour: tuple[int, int, int], caption: str
) -> None:
    corners = _rectangle(image, box)
    width = max(2, round(min(image.size) / 200))
    draw.rectangle(corners, outline=colour, width=width)
    if caption:
        draw.text((corners[0] + width, max(0.0, corners[1] - 12)), caption, fill=colour)


def draw_faces(
    image: Image.Image,
    faces: Sequence[Mapping[str, Any]],
    colour: tuple[int, int, int] = FACE_COLOUR,
    captions: Sequence[str] = (),
) -> Image.Image:
    """Each face's box and landmarks."""
    draw = ImageDraw.Draw(image)
    radius = max(2, round(min(image.size) / 250))
    for index, face in enumerate(faces):
        _boxed(draw, image, face["BoundingBox"], colour, captions[index] if index < len(captions) else "")
        for landmark in face.get("Landmarks", ()):
            x, y = landmark["X"] * image.width, landmark["Y"] * image.height
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    return image


def draw_labels(image: Image.Image, labels: Sequence[Mapping[str, Any]]) -> Image.Image:
    """Each instance's box with its label, and the top labels' names in the corner."""
    draw = ImageDraw.Draw(image)
    for found in labels:
        for instance in found.get("Instances", ()):
            _boxed(draw, image, instance["BoundingBox"], LABEL_COLOUR, f"{found['Name']} {instance['Confidence']:.0f}%")
    for row, found in enumerate(labels[:10]):
        draw.text((6, 6 + 12 * row), f"{found['Name']} {found['Confidence']:.0f}%", fill=LABEL_COLOUR)
    return image


def draw_text(image: Image.Image, detections: Sequence[Mapping[str, Any]]) -> Image.Image:
    """Each line's polygon and its text."""
    draw = ImageDraw.Draw(image)
    for found in detections:
        if found["Type"] != "LINE":
            continue
        points = [(p["X"] * image.width, p["Y"] * image.height) for p in found["Geometry"]["Polygon"]]
        draw.polygon(points, outline=LABEL_COLOUR, width=2)
        draw.text((points[0][0], max(0.0, points[0][1] - 12)), found["DetectedText"], fill=LABEL_COLOUR)
    return image


def save(image: Image.Image, path: Path) -> None:
    """Write the drawing; the format follows the file's suffix (JPEG or PNG)."""
    image.save(path, quality=92) if path.suffix.lower() in (".jpg", ".jpeg") else image.save(path)
