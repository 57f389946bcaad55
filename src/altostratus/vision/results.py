"""What the vision engines find, in our own nouns: boxes and points are fractions of the image's width and height.

The wire layer (altostratus.api.vision) turns these into Rekognition's shapes; the engines never see them.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum


@dataclasses.dataclass(frozen=True)
class Box:
    """An axis-aligned box, as fractions of the image: left and top of its corner, width and height."""

    left: float
    top: float
    width: float
    height: float

    @property
    def area(self) -> float:
        """The share of the image the box covers."""
        return self.width * self.height


@dataclasses.dataclass(frozen=True)
class Point:
    """A point, as fractions of the image's width (x) and height (y)."""

    x: float
    y: float


@dataclasses.dataclass(frozen=True)
class Landmark:
    """A named facial landmark (Rekognition's types: eyeLeft, nose, mouthRight, chinBottom, ...)."""

    type: str
    point: Point


@dataclasses.dataclass(frozen=True)
class Pose:
    """The head's rotation in degrees: roll (in the image plane), yaw (left-right), pitch (up-down), each -180..180."""

    roll: float
    yaw: float
    pitch: float


@dataclasses.dataclass(frozen=True)
class Quality:
    """Brightness and sharpness, 0-100 (higher is brighter, sharper)."""

    brightness: float
    sharpness: float


@dataclasses.dataclass(frozen=True)
class Judgement:
    """A yes/no attribute with the confidence (0-100) of the answer."""

    value: bool
    confidence: float


class Emotion(StrEnum):
    """Rekognition's emotion types."""

    HAPPY = "HAPPY"
    SAD = "SAD"
    ANGRY = "ANGRY"
    CONFUSED = "CONFUSED"
    DISGUSTED = "DISGUSTED"
    SURPRISED = "SURPRISED"
    CALM = "CALM"
    FEAR = "FEAR"


@dataclasses.dataclass(frozen=True)
class FaceAttributes:
    """What facial analysis measures beyond the default attributes (Attributes=["ALL"])."""

    age_low: int
    age_high: int
    gender: str  # "Male" | "Female"
    gender_confidence: float
    emotions: dict[Emotion, float]  # confidence 0-100 for every type, summing to about 100
    eyes_open: Judgement
    mouth_open: Judgement
    smile: Judgement
    eyeglasses: Judgement
    sunglasses: Judgement
    beard: Judgement | None = None
    mustache: Judgement | None = None


@dataclasses.dataclass(frozen=True)
class Face:
    """One face found in an image, with the default attributes and, when asked, the others."""

    box: Box
    confidence: float  # 0-100
    landmarks: tuple[Landmark, ...]
    pose: Pose
    quality: Quality
    occluded: Judgement
    attributes: FaceAttributes | None = None


@dataclasses.dataclass(frozen=True)
class FaceVector:
    """A face and its embedding (unit length, float32), the only thing a collection keeps of an image."""

    face: Face
    vector: bytes  # float32 little-endian

    @property
    def dimension(self) -> int:
        """The embedding's length."""
        return len(self.vector) // 4


@dataclasses.dataclass(frozen=True)
class LabelInstance:
    """One object of a label's class, boxed."""

    box: Box
    confidence: float


@dataclasses.dataclass(frozen=True)
class Label:
    """A label with its confidence (0-100), its ancestors in the hierarchy, aliases, categories and instances."""

    name: str
    confidence: float
    parents: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    instances: tuple[LabelInstance, ...] = ()


@dataclasses.dataclass(frozen=True)
class DominantColor:
    """A colour that covers a share of the image."""

    red: int
    green: int
    blue: int
    hex_code: str
    css_color: str
    simplified_color: str
    pixel_percent: float


@dataclasses.dataclass(frozen=True)
class ImageQuality:
    """Brightness, sharpness and contrast, each 0-100."""

    brightness: float
    sharpness: float
    contrast: float


@dataclasses.dataclass(frozen=True)
class ImageProperties:
    """The IMAGE_PROPERTIES feature: quality and dominant colours of the whole image."""

    quality: ImageQuality
    dominant_colors: tuple[DominantColor, ...]


class TextType(StrEnum):
    """A detection is a line of text or one word of a line."""

    LINE = "LINE"
    WORD = "WORD"


@dataclasses.dataclass(frozen=True)
class TextDetection:
    """A line or a word of text: its id, the line's id for a word, the box and the polygon (4 corners, clockwise)."""

    text: str
    type: TextType
    id: int
    parent_id: int | None
    confidence: float
    box: Box
    polygon: tuple[Point, ...]
