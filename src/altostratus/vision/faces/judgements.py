"""Yes/no attributes from the 68 landmarks and the pixels around them: eyes, mouth, smile, glasses, occlusion.

Each measure goes through a logistic curve to a probability p of "yes"; the Judgement is p >= 0.5 with
confidence 100 * max(p, 1 - p). Thresholds were set on the shared photos and skimage's astronaut and cameraman
(open eyes, mouths closed and open, smiles and none), and, for glasses, on the same faces with frames and dark
lenses drawn in at the landmarks. Their reliability is stated with each function.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from altostratus.vision.faces.landmarks import Points
from altostratus.vision.results import Judgement

# Eye aspect ratio (Soukupova and Cech 2016): open eyes measured 0.19-0.36 (0.19 in broad smiles), shut eyes
# are commonly under 0.12.
EYES_OPEN_AT, EYES_SCALE = 0.15, 0.02
# Inner-lip gap over inner mouth width: closed 0.02-0.04, a smile with parted lips 0.15-0.24, speech 0.44.
MOUTH_OPEN_AT, MOUTH_SCALE = 0.09, 0.02
# Mouth corners' lift above the lips' midline over the mouth's width: 0.14-0.17 smiling, -0.02-0.10 not.
SMILE_LIFT_AT, SMILE_LIFT_SCALE = 0.11, 0.015
# Strongest row of vertical gradient on the nose bridge over the face's contrast: 0.40-1.14 bare, 2.2-9.7 with
# frames drawn in (the 150-pixel child's drawn frames: 0.58, missed).
FRAMES_AT, FRAMES_SCALE = 1.6, 0.2
# Eyes' luma over the cheeks' and eyes' texture over the face's: bare 0.49-0.80 and 0.94-1.32 (the child's shaded,
# downcast eyes 0.16 and 0.18); drawn dark lenses 0.075-0.15 and 0-0.014.
SUN_DARK_AT, SUN_DARK_SCALE = 0.3, 0.04
SUN_TEXTURE_AT, SUN_TEXTURE_SCALE = 0.1, 0.02
# Share of the face box outside the image (or of the landmarks, which dlib extrapolates past the border).
CUT_AT, CUT_SCALE = 0.1, 0.025


def judge(probability: float) -> Judgement:
    """A Judgement from the probability of "yes"."""
    probability = min(max(probability, 0.0), 1.0)
    return Judgement(value=probability >= 0.5, confidence=round(100.0 * max(probability, 1.0 - probability), 2))


def logistic(value: float, centre: float, scale: float) -> float:
    """The probability that `value` lies above `centre`, on a logistic curve of width `scale`."""
    return 1.0 / (1.0 + math.exp(-max(min((value - centre) / scale, 60.0), -60.0)))


def eyes_open(points: Points) -> Judgement:
    """Eyes open from the mean eye aspect ratio; reliable on frontal faces, weak on faces turned past 45 degrees."""
    ratio = (_eye_aspect(points[36:42]) + _eye_aspect(points[42:48])) / 2.0
    return judge(logistic(ratio, EYES_OPEN_AT, EYES_SCALE))


def mouth_open(points: Points) -> Judgement:
    """Mouth open (lips parted) from the inner-lip gap over the mouth's inner width."""
    return judge(logistic(_mouth_gap(points), MOUTH_OPEN_AT, MOUTH_SCALE))


def smile(points: Points, happy: float) -> Judgement:
    """Smile from the emotion net's HAPPY (0-100) and the lift of the mouth corners, weighed equally."""
    lift = _distance_y(points[[51, 57]].mean(axis=0), points[[48, 54]].mean(axis=0)) / _span(points, 48, 54)
    geometry = logistic(lift, SMILE_LIFT_AT, SMILE_LIFT_SCALE)
    return judge(0.5 * happy / 100.0 + 0.5 * geometry)


def glasses(grey: NDArray[np.uint8], points: Points) -> tuple[Judgement, Judgement]:
    """(eyeglasses, sunglasses): frames from a horizontal edge on the nose bridge, dark lenses from dark,
    textureless eyes. Drawn frames and lenses are found; real thin or rimless frames are mostly missed.
    """
    image = grey.astype(np.float32)
    span = _span(points, 36, 45)
    face = _region(image, points[[0, 16, 19, 8]])
    contrast = float(face.std()) + 1.0 if face.size else 1.0
    frames = logistic(_bridge_edge(image, points, span) / contrast, FRAMES_AT, FRAMES_SCALE)
    eyes = [_patch(image, points[36:42].mean(axis=0), span), _patch(image, points[42:48].mean(axis=0), span)]
    cheeks = [
        _patch(image, points[[41, 31, 2]].mean(axis=0), span, 0.08, 0.08),
        _patch(image, points[[46, 35, 14]].mean(axis=0), span, 0.08, 0.08),
    ]
    if any(patch.size == 0 for patch in eyes + cheeks):
        return judge(frames), judge(0.0)
    darkness = float(np.mean([eye.mean() for eye in eyes])) / (float(np.mean([c.mean() for c in cheeks])) + 1.0)
    texture = float(np.mean([eye.std() for eye in eyes])) / contrast
    dark = 1.0 - logistic(darkness, SUN_DARK_AT, SUN_DARK_SCALE)
    flat = 1.0 - logistic(texture, SUN_TEXTURE_AT, SUN_TEXTURE_SCALE)
    sunglasses = dark * flat
    # Sunglasses are glasses too: Rekognition reports Eyeglasses true for them.
    return judge(max(frames, sunglasses)), judge(sunglasses)


def occluded(box: tuple[float, float, float, float], points: Points, width: int, height: int) -> Judgement:
    """Occluded when the face is cut by the image's border: the share of its box, or of its landmarks, outside.

    Hands, masks or objects in front of a face inside the image are not seen by this measure.
    """
    left, top, right, bottom = box
    area = max((right - left) * (bottom - top), 1e-9)
    inside_w = max(0.0, min(right, width) - max(left, 0.0))
    inside_h = max(0.0, min(bottom, height) - max(top, 0.0))
    cut = 1.0 - inside_w * inside_h / area
    outside = points[:, 0] < 0
    outside |= points[:, 0] >= width
    outside |= points[:, 1] < 0
    outside |= points[:, 1] >= height
    share = max(cut, float(outside.mean()))
    return judge(logistic(share, CUT_AT, CUT_SCALE))


def _eye_aspect(eye: Points) -> float:
    vertical = float(np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4]))
    return vertical / (2.0 * max(float(np.linalg.norm(eye[0] - eye[3])), 1e-9))


def _mouth_gap(points: Points) -> float:
    return float(np.linalg.norm(points[62] - points[66])) / _span(points, 60, 64)


def _span(points: Points, first: int, second: int) -> float:
    return max(float(np.linalg.norm(points[first] - points[second])), 1e-9)


def _distance_y(lower: NDArray[np.float64], upper: NDArray[np.float64]) -> float:
    return float(lower[1] - upper[1])


def _bridge_edge(image: NDArray[np.float32], points: Points, span: float) -> float:
    """The strongest row of |d/dy| between the inner eye corners, from above the eyes down to the nose's top."""
    top = int(min(points[[37, 38, 43, 44], 1]) - 0.12 * span)
    bottom = int(points[28, 1])
    left, right = int(points[39, 0] + 0.05 * span), int(points[42, 0] - 0.05 * span)
    top, left = max(top, 0), max(left, 0)
    bridge = image[top : max(bottom, top + 1), left : max(right, left + 1)]
    if bridge.shape[0] < 3 or bridge.shape[1] < 1:
        return 0.0
    gradient = np.abs(cv2.Sobel(bridge, cv2.CV_32F, 0, 1, ksize=3))[1:-1]
    return float(gradient.mean(axis=1).max()) if gradient.size else 0.0


def _patch(
    image: NDArray[np.float32], centre: NDArray[np.float64], span: float, half_w: float = 0.14, half_h: float = 0.08
) -> NDArray[np.float32]:
    x, y = float(centre[0]), float(centre[1])
    x0, y0 = max(int(x - half_w * span), 0), max(int(y - half_h * span), 0)
    return image[y0 : max(int(y + half_h * span), y0), x0 : max(int(x + half_w * span), x0)]


def _region(image: NDArray[np.float32], corners: Points) -> NDArray[np.float32]:
    """The image between the x of the first two points and the y of the last two."""
    x0, x1 = sorted((int(corners[0, 0]), int(corners[1, 0])))
    y0, y1 = sorted((int(corners[2, 1]), int(corners[3, 1])))
    return image[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)]
