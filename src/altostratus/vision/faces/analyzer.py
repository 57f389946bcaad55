"""FaceAnalyzer: faces found, described and embedded, in the vision service's nouns (results.py).

The models load lazily, each once per analyzer, under a lock taken only for that first load. After that no lock
is held during inference: the LiteRT interpreters and dlib's recognition net are kept one per thread, the
shape predictors and the ONNX Runtime sessions are shared (both are safe to call from many threads).
Inference runs in the caller's thread; the API layer keeps it off the event loop.

Boxes and landmarks are fractions of the image, clipped to 0..1: a face cut by the border keeps the visible
part of its box (Rekognition may report such a box past the border), and FaceOccluded tells it was cut.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

import cv2
import numpy as np
from numpy.typing import NDArray

from altostratus.vision.errors import InvalidParameter
from altostratus.vision.faces import judgements
from altostratus.vision.faces.demographics import DemographicsEstimator
from altostratus.vision.faces.detector import BlazeFace, Detection, confidence
from altostratus.vision.faces.embedding import DIMENSION, FaceEmbedder, from_bytes, normalise, to_bytes
from altostratus.vision.faces.emotions import EmotionClassifier
from altostratus.vision.faces.landmarks import Shape, ShapeFitter
from altostratus.vision.faces.pose import estimate_pose
from altostratus.vision.faces.quality import crop, measure_quality
from altostratus.vision.faces.similarity import similarity as similarity_of
from altostratus.vision.images import Picture
from altostratus.vision.results import Box, Emotion, Face, FaceAttributes, FaceVector, Landmark, Point

MAX_FACES = 100
T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built on first use, once, however many threads ask for it at the same time."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """The value, built now if this is the first call."""
        value = self._value
        if value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
                value = self._value
        return value


class FaceAnalyzer:
    """Detection (BlazeFace), landmarks and pose (dlib 68 points), attributes and embeddings (dlib ResNet)."""

    def __init__(self, *, small_faces: bool = True) -> None:
        # small_faces=False skips the detector's tiled pass: faces under about a tenth of the image's side
        # (the child in the shared two-person photo) are then missed, for about 15 ms less per photo.
        self._detector = Lazy(lambda: BlazeFace(tiles=small_faces))
        self._fitter = Lazy(ShapeFitter)
        self._embedder = Lazy(FaceEmbedder)
        self._demographics = Lazy(DemographicsEstimator)
        self._emotions = Lazy(EmotionClassifier)

    def find(self, picture: Picture, *, attributes: bool = False, max_faces: int = MAX_FACES) -> list[Face]:
        """The faces in the picture, largest first, at most `max_faces`; all attributes when `attributes`."""
        return [face for face, _ in self._analyse(_pixels(picture), attributes, max_faces)]

    def vectors(self, picture: Picture, *, attributes: bool = False, max_faces: int = MAX_FACES) -> list[FaceVector]:
        """The faces in the picture with their unit 128-d embeddings, largest first, at most `max_faces`."""
        pixels = _pixels(picture)
        embedder = self._embedder.get()
        return [
            FaceVector(face, to_bytes(embedder.embed(pixels, shape.chip_shape)))
            for face, shape in self._analyse(pixels, attributes, max_faces)
        ]

    def similarity(self, a: FaceVector | bytes, b: FaceVector | bytes) -> float:
        """Similarity (0-100) of two faces' embeddings; see similarity.py for the calibration."""
        first, second = _vector(a, "a"), _vector(b, "b")
        return similarity_of(float(np.linalg.norm(first - second)))

    def _analyse(self, pixels: NDArray[np.uint8], attributes: bool, max_faces: int) -> list[tuple[Face, Shape]]:
        if not 1 <= max_faces <= MAX_FACES:
            raise InvalidParameter(f"MaxFaces={max_faces!r}; expected an integer from 1 to {MAX_FACES}")
        detections = sorted(self._detector.get().detect(pixels), key=lambda d: d.width * d.height, reverse=True)
        detections = detections[:max_faces]
        if not detections:
            return []
        fitter = self._fitter.get()
        grey = np.asarray(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), dtype=np.uint8) if attributes else None
        results = []
        for detection in detections:
            shape = fitter.fit(pixels, detection)
            square = fitter.rectangle(detection)
            extra = None
            if grey is not None:
                bounds = (square.left(), square.top(), square.right(), square.bottom())
                extra = self._attributes(pixels, grey, shape, bounds)
            results.append((_face(pixels, detection, shape, extra), shape))
        return results

    def _attributes(
        self, pixels: NDArray[np.uint8], grey: NDArray[np.uint8], shape: Shape, square: tuple[int, int, int, int]
    ) -> FaceAttributes:
        emotions = self._emotions.get().classify(grey, square)
        people = self._demographics.get().estimate(pixels, shape.chip_shape)
        eyeglasses, sunglasses = judgements.glasses(grey, shape.points)
        return FaceAttributes(
            age_low=people.age_low,
            age_high=people.age_high,
            gender=people.gender,
            gender_confidence=people.gender_confidence,
            emotions=emotions,
            eyes_open=judgements.eyes_open(shape.points),
            mouth_open=judgements.mouth_open(shape.points),
            smile=judgements.smile(shape.points, emotions[Emotion.HAPPY]),
            eyeglasses=eyeglasses,
            sunglasses=sunglasses,
        )


def _face(pixels: NDArray[np.uint8], detection: Detection, shape: Shape, extra: FaceAttributes | None) -> Face:
    height, width = pixels.shape[:2]
    edges = (detection.left, detection.top, detection.right, detection.bottom)
    left, right = _fraction(detection.left, width), _fraction(detection.right, width)
    top, bottom = _fraction(detection.top, height), _fraction(detection.bottom, height)
    landmarks = tuple(
        Landmark(name, Point(_fraction(x, width), _fraction(y, height))) for name, (x, y) in shape.named().items()
    )
    return Face(
        box=Box(left=left, top=top, width=right - left, height=bottom - top),
        confidence=round(confidence(detection.score), 3),
        landmarks=landmarks,
        pose=estimate_pose(shape.points, width, height),
        quality=measure_quality(crop(pixels, *edges)),
        occluded=judgements.occluded(edges, shape.points, width, height),
        attributes=extra,
    )


def _fraction(value: float, size: int) -> float:
    return min(max(value / size, 0.0), 1.0)


def _pixels(picture: Picture) -> NDArray[np.uint8]:
    # dlib and LiteRT read the buffer directly: they need C-contiguous uint8 RGB.
    return np.ascontiguousarray(picture.pixels, dtype=np.uint8)


def _vector(value: FaceVector | bytes, name: str) -> NDArray[np.float32]:
    data = value.vector if isinstance(value, FaceVector) else value
    if len(data) != DIMENSION * 4:
        raise InvalidParameter(
            f"Face vector {name} has {len(data)} bytes; expected {DIMENSION * 4} ({DIMENSION} float32 values)"
        )
    return normalise(from_bytes(data))
