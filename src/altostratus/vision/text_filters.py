"""DetectText's Filters: words below a confidence or a size, or outside every region of interest, are left out.

A line is kept when any of its words is; a region is a box or a polygon (as fractions of the image), and a
word is inside it when the centre of the word's box is (Rekognition: "text in the region").
"""

from __future__ import annotations

import dataclasses

from altostratus.vision.results import Box, Point, TextDetection, TextType


@dataclasses.dataclass(frozen=True)
class Region:
    """A region of interest: a box, or a polygon of at least three points."""

    box: Box | None = None
    polygon: tuple[Point, ...] = ()

    def contains(self, where: Point) -> bool:
        """Whether the point lies in the region."""
        if self.box is not None:
            b = self.box
            return b.left <= where.x <= b.left + b.width and b.top <= where.y <= b.top + b.height
        return _in_polygon(where, self.polygon)


@dataclasses.dataclass(frozen=True)
class TextFilters:
    """WordFilter's bars (confidence 0-100; height and width as fractions of the image) and the regions."""

    min_confidence: float = 0.0
    min_height: float = 0.0
    min_width: float = 0.0
    regions: tuple[Region, ...] = ()

    def apply(self, detections: list[TextDetection]) -> list[TextDetection]:
        """The lines and words that pass, lines first, as detected."""
        words = [d for d in detections if d.type is TextType.WORD and self._keeps(d)]
        kept_lines = {w.parent_id for w in words}
        lines = [d for d in detections if d.type is TextType.LINE and d.id in kept_lines]
        return lines + words

    def _keeps(self, word: TextDetection) -> bool:
        b = word.box
        if word.confidence < self.min_confidence or b.height < self.min_height or b.width < self.min_width:
            return False
        centre = Point(b.left + b.width / 2, b.top + b.height / 2)
        return not self.regions or any(region.contains(centre) for region in self.regions)


def _in_polygon(where: Point, polygon: tuple[Point, ...]) -> bool:
    # Ray casting: a point is inside when a ray from it crosses the polygon's edges an odd number of times.
    inside = False
    for a, b in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if (a.y > where.y) != (b.y > where.y):
            x = a.x + (where.y - a.y) * (b.x - a.x) / (b.y - a.y)
            if where.x < x:
                inside = not inside
    return inside
