"""Brightness and sharpness of a face crop, each 0-100.

Brightness is the crop's mean luma (ITU-R BT.601) as a percentage of white. Sharpness is the variance V of the
Laplacian of the grey crop resized to 128 x 128 (so it does not grow with the face's pixel size), mapped by
100 * (1 - exp(-V / 300)): monotone, 0 for a flat crop, 50 at V = 208, 90 at V = 691. Measured: the shared
portraits and the astronaut give V = 276-677 (60-90), the small, soft face of the child in obama_and_biden.jpg
105 (30), the astronaut blurred (Gaussian, sigma 2.5) 4 (1.4).
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from altostratus.vision.results import Quality

SHARPNESS_SIZE = 128
SHARPNESS_SCALE = 300.0
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def crop(pixels: NDArray[np.uint8], left: float, top: float, right: float, bottom: float) -> NDArray[np.uint8]:
    """The part of the image inside the box (clipped to the image); at least one pixel."""
    height, width = pixels.shape[:2]
    x0 = min(max(int(left), 0), width - 1)
    y0 = min(max(int(top), 0), height - 1)
    x1 = max(min(math.ceil(right), width), x0 + 1)
    y1 = max(min(math.ceil(bottom), height), y0 + 1)
    return pixels[y0:y1, x0:x1]


def measure_quality(face: NDArray[np.uint8]) -> Quality:
    """Brightness and sharpness of a face crop (RGB)."""
    grey = (face.astype(np.float32) @ LUMA).astype(np.float32)
    brightness = float(grey.mean()) / 255.0 * 100.0
    small = cv2.resize(grey, (SHARPNESS_SIZE, SHARPNESS_SIZE), interpolation=cv2.INTER_AREA)
    variance = float(cv2.Laplacian(small, cv2.CV_32F).var())
    sharpness = 100.0 * (1.0 - math.exp(-variance / SHARPNESS_SCALE))
    return Quality(brightness=round(brightness, 2), sharpness=round(sharpness, 2))
