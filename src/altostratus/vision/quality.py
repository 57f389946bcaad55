"""Rekognition's QualityFilter: which faces are too small, dark, blurred, turned or uncertain to compare or index.

Rekognition does not publish its bars; these are ours, strictest at HIGH, and AUTO is MEDIUM (Rekognition says
AUTO "chooses the quality bar"). A face is measured on its box in pixels (shorter side), the detector's
confidence, the head's yaw and pitch, and the face's brightness and sharpness (0-100 each).
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum

from altostratus.vision.errors import InvalidParameter
from altostratus.vision.results import Face


class QualityBar(StrEnum):
    """The levels of QualityFilter."""

    NONE = "NONE"
    AUTO = "AUTO"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


@dataclasses.dataclass(frozen=True)
class Bar:
    """The least a face must measure to pass."""

    side_pixels: float
    confidence: float
    max_angle: float
    brightness: float
    sharpness: float


BARS = {
    QualityBar.LOW: Bar(side_pixels=20, confidence=50, max_angle=70, brightness=5, sharpness=2),
    QualityBar.MEDIUM: Bar(side_pixels=40, confidence=80, max_angle=50, brightness=12, sharpness=5),
    QualityBar.HIGH: Bar(side_pixels=64, confidence=95, max_angle=35, brightness=25, sharpness=12),
}
BARS[QualityBar.AUTO] = BARS[QualityBar.MEDIUM]


def parse_bar(value: str | None, default: QualityBar) -> QualityBar:
    """The QualityBar named by value; InvalidParameter naming the allowed levels otherwise."""
    if value is None:
        return default
    try:
        return QualityBar(value)
    except ValueError:
        raise InvalidParameter(f"QualityFilter={value!r}; expected one of {[b.value for b in QualityBar]}") from None


def failures(face: Face, bar: QualityBar, width: int, height: int) -> list[str]:
    """Rekognition's reasons (SMALL_BOUNDING_BOX, LOW_CONFIDENCE, ...) the face fails the bar for; [] if it passes."""
    if bar is QualityBar.NONE:
        return []
    need = BARS[bar]
    reasons = []
    if min(face.box.width * width, face.box.height * height) < need.side_pixels:
        reasons.append("SMALL_BOUNDING_BOX")
    if face.confidence < need.confidence:
        reasons.append("LOW_CONFIDENCE")
    if max(abs(face.pose.yaw), abs(face.pose.pitch)) > need.max_angle:
        reasons.append("EXTREME_POSE")
    if face.quality.brightness < need.brightness:
        reasons.append("LOW_BRIGHTNESS")
    if face.quality.sharpness < need.sharpness:
        reasons.append("LOW_SHARPNESS")
    return reasons
