"""What the vision service asks of its label and text models (the face engine's is vision.faces.FaceEngine)."""

from __future__ import annotations

from typing import Protocol

from altostratus.vision.images import Picture
from altostratus.vision.labels.filters import LabelFilters
from altostratus.vision.results import ImageProperties, Label, TextDetection


class LabelEngine(Protocol):
    """Names what is in a picture and measures the picture itself."""

    def detect(
        self, picture: Picture, *, max_labels: int | None, min_confidence: float, filters: LabelFilters
    ) -> list[Label]:
        """The labels found, most confident first."""
        ...

    def image_properties(self, picture: Picture, colours: int = ...) -> ImageProperties:
        """Quality and up to `colours` dominant colours of the whole picture."""
        ...


class TextEngine(Protocol):
    """Reads the text in a picture."""

    def read(self, picture: Picture) -> list[TextDetection]:
        """Lines, then the words of each line."""
        ...
