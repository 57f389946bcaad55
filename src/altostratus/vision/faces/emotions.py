"""Emotions from the fer package's quantized FER-2013 classifier (64 x 64 grey face, 7 classes), via LiteRT.

Preprocessing follows fer's: the face box (fer uses OpenCV's Haar box plus 10 pixels; here the HOG-like square
of landmarks.py grown by 10% a side, which covers the same brow-to-chin area), grey, resized to 64 x 64, scaled
to -1..1. FER-2013's classes map to Rekognition's: angry -> ANGRY, disgust -> DISGUSTED, fear -> FEAR,
happy -> HAPPY, sad -> SAD, surprise -> SURPRISED, neutral -> CALM. FER-2013 has no "confused" class and
nothing in the net's output measures it, so CONFUSED is reported as 0.
"""

from __future__ import annotations

import threading
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from altostratus.vision.faces.models import emotion_file
from altostratus.vision.results import Emotion

INPUT_SIZE = 64
MARGIN = 0.1
CLASSES = (
    Emotion.ANGRY,
    Emotion.DISGUSTED,
    Emotion.FEAR,
    Emotion.HAPPY,
    Emotion.SAD,
    Emotion.SURPRISED,
    Emotion.CALM,
)


class EmotionClassifier:
    """The FER-2013 net; one LiteRT interpreter per thread, since an interpreter is not thread-safe."""

    def __init__(self) -> None:
        self._path = str(emotion_file())
        self._local = threading.local()

    def classify(self, grey: NDArray[np.uint8], square: tuple[int, int, int, int]) -> dict[Emotion, float]:
        """Confidence (0-100) of each of Rekognition's emotions for the face in `square` (left, top, right, bottom)."""
        left, top, right, bottom = square
        margin = round(MARGIN * (right - left))
        height, width = grey.shape
        x0, y0 = max(left - margin, 0), max(top - margin, 0)
        x1, y1 = min(right + margin, width), min(bottom + margin, height)
        if x1 <= x0 or y1 <= y0:
            return {emotion: (100.0 if emotion is Emotion.CALM else 0.0) for emotion in Emotion}
        face = cv2.resize(grey[y0:y1, x0:x1], (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
        tensor = (face.astype(np.float32) / 255.0 - 0.5) * 2.0
        probabilities = self._run(tensor[np.newaxis, :, :, np.newaxis])
        probabilities = probabilities / max(float(probabilities.sum()), 1e-12)
        scores = {emotion: round(float(p) * 100.0, 2) for emotion, p in zip(CLASSES, probabilities, strict=True)}
        scores[Emotion.CONFUSED] = 0.0
        return scores

    def _run(self, tensor: NDArray[np.float32]) -> NDArray[np.float64]:
        interpreter = self._interpreter()
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
        interpreter.invoke()
        output = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
        return np.asarray(output[0], dtype=np.float64)

    def _interpreter(self) -> Any:
        interpreter = getattr(self._local, "interpreter", None)
        if interpreter is None:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=self._path, num_threads=1)
            interpreter.allocate_tensors()
            self._local.interpreter = interpreter
        return interpreter
