"""Text in images (DetectText): RapidOCR's PP-OCRv4 detector and recogniser (ONNX Runtime, models in its package).

RapidOCR finds text segments (a line, or a part of one where words stand far apart) and, with
return_word_box, a box for every character, spaces included. Words are the runs of characters between
spaces; segments on the same row and close together are joined into one line, as Rekognition's LINE is.
Rekognition reads at most 100 words in an image; so does this reader, lines top first.

RapidOCR's __call__ writes its thresholds onto the shared object, so each thread has its own reader (loaded once
per thread, about 0.2 s); ONNX Runtime releases the GIL while it runs.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from altostratus.vision.images import Picture
from altostratus.vision.results import Box, Point, TextDetection, TextType

MAX_WORDS = 100  # Rekognition's limit
# No legible text fits in fewer pixels; and RapidOCR scales a picture's short side up to 30 px and letterboxes it to
# at most 8:1, so a 1-pixel strip W wide would cost it a canvas of about 30W x 30W (gigabytes at W = 2,000).
MIN_SIDE = 16
LONG_SIDE = 2000  # RapidOCR's max_side_len
MIN_SCORE = 0.5  # RapidOCR's default text_score
ROW_OVERLAP = 0.5  # two segments share a row when their heights overlap by half the smaller one
GAP_HEIGHTS = 1.5  # ... and one starts within 1.5 line heights of where the other ends

Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclasses.dataclass(frozen=True)
class Word:
    """A word in pixels: its text, its quadrilateral (clockwise from top left) and its confidence 0-100."""

    text: str
    quad: Quad
    confidence: float


@dataclasses.dataclass(frozen=True)
class Segment:
    """What RapidOCR found as one piece: its quadrilateral in pixels and its words."""

    quad: Quad
    words: tuple[Word, ...]

    @property
    def top(self) -> float:
        """The highest y of its corners."""
        return min(y for _, y in self.quad)

    @property
    def bottom(self) -> float:
        """The lowest y of its corners."""
        return max(y for _, y in self.quad)

    @property
    def left(self) -> float:
        """The smallest x of its corners."""
        return min(x for x, _ in self.quad)

    @property
    def right(self) -> float:
        """The largest x of its corners."""
        return max(x for x, _ in self.quad)


class TextReader:
    """Lines and words of text in a picture, from RapidOCR."""

    def __init__(self, *, min_score: float = MIN_SCORE, max_words: int = MAX_WORDS) -> None:
        self._min_score = min_score
        self._max_words = max_words
        self._local = threading.local()

    def _engine(self) -> Any:
        engine = getattr(self._local, "engine", None)
        if engine is None:
            from rapidocr_onnxruntime import RapidOCR

            engine = RapidOCR(print_verbose=False)
            self._local.engine = engine
        return engine

    def warm(self) -> None:
        """Load this thread's reader now rather than on the first picture."""
        self._engine()

    def read(self, picture: Picture) -> list[TextDetection]:
        """Every line (ids 0..n-1), then the words of each line (ParentId: the line's id)."""
        short, long = sorted((picture.width, picture.height))
        # RapidOCR brings the long side down to LONG_SIDE first: the short side must still be legible after.
        # (and rounds it to a multiple of 32, so it must stay 32 or more).
        if short < MIN_SIDE or short * LONG_SIDE / long < 32:
            return []
        bgr = cv2.cvtColor(picture.pixels, cv2.COLOR_RGB2BGR)  # RapidOCR takes arrays as OpenCV's BGR
        found, _ = self._engine()(bgr, return_word_box=True, text_score=self._min_score)
        segments = [_segment(row) for row in found or ()]
        lines = _limit(_lines([s for s in segments if s.words]), self._max_words)
        return _detections(lines, picture.width, picture.height)


def _segment(row: Sequence[Any]) -> Segment:
    """One RapidOCR result row: quad, text, score, and (with return_word_box) character boxes, characters, scores."""
    quad = _quad(row[0])
    text, score = str(row[1]), float(row[2])
    boxes, chars, scores = (row[3], row[4], row[5]) if len(row) >= 6 else ([], [], [])
    if not boxes or len(boxes) != len(chars):
        # No character boxes: share the segment's width among the characters.
        chars = list(text)
        width = (quad[1][0] - quad[0][0]) / max(1, len(chars))
        boxes = [[[quad[0][0] + i * width, 0], [quad[0][0] + (i + 1) * width, 0]] for i in range(len(chars))]
        scores = [score] * len(chars)
    words: list[Word] = []
    run: list[int] = []
    for i, char in enumerate([*chars, " "]):
        if char.strip():
            run.append(i)
        elif run:
            xs = [float(p[0]) for j in run for p in boxes[j]]
            text_of_run = "".join(chars[j] for j in run)
            confidence = 100.0 * float(np.mean([float(scores[j]) for j in run]))
            words.append(Word(text_of_run, _slice(quad, min(xs), max(xs)), round(confidence, 3)))
            run = []
    return Segment(quad, tuple(words))


def _quad(points: Sequence[Sequence[float]]) -> Quad:
    (a, b), (c, d), (e, f), (g, h) = ((float(p[0]), float(p[1])) for p in points[:4])
    return ((a, b), (c, d), (e, f), (g, h))


def _slice(quad: Quad, x0: float, x1: float) -> Quad:
    """The part of a segment's quadrilateral between x0 and x1, following its slant."""
    (tlx, _), (trx, _), (brx, _), (blx, _) = quad
    start = (tlx + blx) / 2
    span = max(1e-6, ((trx - tlx) + (brx - blx)) / 2)
    top_left, bottom_left = _across(quad, (x0 - start) / span)
    top_right, bottom_right = _across(quad, (x1 - start) / span)
    return (top_left, top_right, bottom_right, bottom_left)


def _across(quad: Quad, t: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """The points a fraction t of the way along the quadrilateral's top and bottom edges."""
    t = min(1.0, max(0.0, t))
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = quad
    return (tlx + t * (trx - tlx), tly + t * (try_ - tly)), (blx + t * (brx - blx), bly + t * (bry - bly))


def _same_row(line: list[Segment], segment: Segment) -> bool:
    last = line[-1]
    overlap = min(last.bottom, segment.bottom) - max(last.top, segment.top)
    height = min(last.bottom - last.top, segment.bottom - segment.top)
    gap = segment.left - last.right
    return overlap >= ROW_OVERLAP * height and -height <= gap <= GAP_HEIGHTS * height


def _lines(segments: list[Segment]) -> list[list[Segment]]:
    """Segments joined into lines, each left to right; lines top first."""
    lines: list[list[Segment]] = []
    for segment in sorted(segments, key=lambda s: s.left):
        line = next((line for line in lines if _same_row(line, segment)), None)
        if line is None:
            lines.append([segment])
        else:
            line.append(segment)
    return sorted(lines, key=lambda line: (min(s.top for s in line), line[0].left))


def _limit(lines: list[list[Segment]], max_words: int) -> list[list[Segment]]:
    kept: list[list[Segment]] = []
    count = 0
    for line in lines:
        words = sum(len(s.words) for s in line)
        if count + words > max_words:
            break
        kept.append(line)
        count += words
    return kept


def _geometry(quad: Quad, width: int, height: int) -> tuple[Box, tuple[Point, ...]]:
    points = tuple(Point(min(1.0, max(0.0, x / width)), min(1.0, max(0.0, y / height))) for x, y in quad)
    left, top = min(p.x for p in points), min(p.y for p in points)
    right, bottom = max(p.x for p in points), max(p.y for p in points)
    return Box(left=left, top=top, width=right - left, height=bottom - top), points


def _detections(lines: list[list[Segment]], width: int, height: int) -> list[TextDetection]:
    found: list[TextDetection] = []
    words: list[TextDetection] = []
    for line_id, line in enumerate(lines):
        members = [w for s in line for w in s.words]
        quad: Quad = (line[0].quad[0], line[-1].quad[1], line[-1].quad[2], line[0].quad[3])
        box, polygon = _geometry(quad, width, height)
        confidence = round(float(np.mean([w.confidence for w in members])), 3)
        text = " ".join(w.text for w in members)
        found.append(TextDetection(text, TextType.LINE, line_id, None, confidence, box, polygon))
        for word in members:
            box, polygon = _geometry(word.quad, width, height)
            words.append(TextDetection(word.text, TextType.WORD, 0, line_id, word.confidence, box, polygon))
    first = len(found)
    return found + [dataclasses.replace(w, id=first + i) for i, w in enumerate(words)]
