"""IMAGE_PROPERTIES: the quality (brightness, sharpness, contrast) and the dominant colours of a picture.

Formulas, each 0-100:
- Brightness: the mean luma (ITU-R BT.601: 0.299 R + 0.587 G + 0.114 B) as a percentage of white.
- Sharpness: the variance V of the Laplacian of the grey picture resized to 256 x 256 (so it does not grow with
  the pixel count), mapped by 100 * (1 - exp(-V / 300)), as the face engine measures faces: 0 for a flat
  picture; scikit-image's photos give 63-99, a 3-pixel Gaussian blur of them under 2.
- Contrast: the RMS contrast, the standard deviation of luma as a percentage of 127.5 (the largest it can be,
  half the pixels black and half white).
Dominant colours: k-means (k = MaxDominantColors, 10 unless asked; k-means++ seeded, so the answer does not
change) over the picture resized to at most 64 x 64; each cluster's mean colour with its share of the pixels,
largest first. Foreground and background colours (Rekognition's Foreground/Background) are not computed.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from altostratus.vision.images import Picture
from altostratus.vision.labels.colors import css_name, hex_code, simplified_name
from altostratus.vision.results import DominantColor, ImageProperties, ImageQuality

LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
SHARPNESS_SIZE = 256
SHARPNESS_SCALE = 300.0
COLOURS = 10  # Rekognition's default MaxDominantColors
COLOUR_SIZE = 64
ITERATIONS = 12
SEED = 20161130  # the day Rekognition launched: any fixed seed keeps the answer stable


def measure_quality(pixels: NDArray[np.uint8]) -> ImageQuality:
    """Brightness, sharpness and contrast of an RGB picture."""
    grey = (pixels.astype(np.float32) @ LUMA).astype(np.float32)
    brightness = float(grey.mean()) / 255.0 * 100.0
    small = cv2.resize(grey, (SHARPNESS_SIZE, SHARPNESS_SIZE), interpolation=cv2.INTER_AREA)
    variance = float(cv2.Laplacian(small, cv2.CV_32F).var())
    sharpness = 100.0 * (1.0 - math.exp(-variance / SHARPNESS_SCALE))
    contrast = min(100.0, float(grey.std()) / 127.5 * 100.0)
    return ImageQuality(brightness=round(brightness, 2), sharpness=round(sharpness, 2), contrast=round(contrast, 2))


def _sample(pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
    height, width = pixels.shape[:2]
    scale = min(1.0, COLOUR_SIZE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else pixels
    return small.reshape(-1, 3).astype(np.float32)


def _kmeans(points: NDArray[np.float32], k: int) -> tuple[NDArray[np.float32], NDArray[np.intp]]:
    """Centres and assignments; k-means++ seeding with a fixed seed, then Lloyd's iterations."""
    rng = np.random.default_rng(SEED)
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        distance = ((points[:, None, :] - np.array(centres)[None]) ** 2).sum(axis=2).min(axis=1)
        centres.append(points[rng.choice(len(points), p=distance / distance.sum())])
    means = np.array(centres, dtype=np.float32)
    for _ in range(ITERATIONS):
        assigned = ((points[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
        for c in range(k):
            members = points[assigned == c]
            if len(members):
                means[c] = members.mean(axis=0)
    assigned = ((points[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
    return means, assigned


def dominant_colors(pixels: NDArray[np.uint8], k: int = COLOURS) -> tuple[DominantColor, ...]:
    """The picture's main colours, the largest share first."""
    points = _sample(pixels)
    distinct = np.unique(points, axis=0)
    if len(distinct) <= k:
        # Few colours (a flat or drawn picture): they are the clusters, no k-means needed.
        means = distinct
        assigned = np.array([np.flatnonzero((distinct == p).all(axis=1))[0] for p in points], dtype=np.intp)
    else:
        means, assigned = _kmeans(points, k)
    counts = np.bincount(assigned, minlength=len(means))
    found = []
    for c in np.argsort(-counts, kind="stable"):
        if counts[c] == 0:
            continue
        r, g, b = (round(float(v)) for v in means[c])
        rgb = (min(255, max(0, r)), min(255, max(0, g)), min(255, max(0, b)))
        percent = round(100.0 * float(counts[c]) / len(points), 2)
        found.append(DominantColor(*rgb, hex_code(rgb), css_name(rgb), simplified_name(rgb), percent))
    return tuple(found)


def image_properties(picture: Picture, colours: int = COLOURS) -> ImageProperties:
    """Quality and up to `colours` dominant colours (k-means clusters) of the whole picture."""
    found = dominant_colors(picture.pixels, colours) if colours > 0 else ()
    return ImageProperties(quality=measure_quality(picture.pixels), dominant_colors=found)
