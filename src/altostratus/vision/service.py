"""The vision service: faces found, compared and indexed, labels and text read, from images or the lake.

Collections' own operations (create, list, users, searches by face id) are the FaceCollections'; this
service does what needs an image. Every model call runs in the caller's thread (the wire layer runs
handlers off the event loop); `concurrency` bounds how many run at once, so that a burst of requests
queues here instead of holding a copy of every model per waiting thread.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from altostratus.vision.engines import LabelEngine, TextEngine
from altostratus.vision.errors import InvalidParameter
from altostratus.vision.faces import FaceEngine
from altostratus.vision.images import Picture
from altostratus.vision.labels.filters import LabelFilters
from altostratus.vision.quality import QualityBar, failures
from altostratus.vision.results import Face, FaceVector, ImageProperties, Label, TextDetection
from altostratus.vision.sources import ImageSource, ObjectReader

MAX_FACES = 100


@dataclasses.dataclass(frozen=True)
class FacesFound:
    """The faces of one image, and the rotation its EXIF orientation asked for."""

    faces: list[Face]
    orientation_correction: str | None


@dataclasses.dataclass(frozen=True)
class Match:
    """A face of the target image and its similarity (0-100) to the source face."""

    face: Face
    similarity: float


@dataclasses.dataclass(frozen=True)
class Comparison:
    """CompareFaces: the source face, the target's faces that match it and those that do not."""

    source: Face
    matches: list[Match]
    unmatched: list[Face]
    source_orientation: str | None
    target_orientation: str | None


@dataclasses.dataclass(frozen=True)
class Refused:
    """A face left out of an index, and why (Rekognition's reasons)."""

    face: Face
    reasons: list[str]


@dataclasses.dataclass(frozen=True)
class FacesToIndex:
    """The faces of an image that pass the quality bar, with vectors, and those refused."""

    accepted: list[FaceVector]
    refused: list[Refused]
    orientation_correction: str | None


@dataclasses.dataclass(frozen=True)
class LabelsFound:
    """DetectLabels: labels, image properties when asked, and the orientation correction."""

    labels: list[Label]
    properties: ImageProperties | None
    orientation_correction: str | None


class VisionService:
    """Image analysis over the face, label and text engines."""

    def __init__(
        self,
        faces: FaceEngine,
        labels: LabelEngine,
        text: TextEngine,
        objects: ObjectReader,
        *,
        concurrency: int = 4,
    ) -> None:
        self._faces = faces
        self._labels = labels
        self._text = text
        self._objects = objects
        self._slots = threading.BoundedSemaphore(concurrency)

    @contextmanager
    def _slot(self) -> Iterator[None]:
        with self._slots:
            yield

    def picture(self, source: ImageSource) -> Picture:
        """The decoded image; decoding takes a turn like analysis, since a large canvas costs hundreds of MB."""
        with self._slot():
            return source.load(self._objects)

    def detect_faces(self, source: ImageSource, *, attributes: bool = False) -> FacesFound:
        """Up to 100 faces, largest first, with the default attributes or all of them."""
        picture = self.picture(source)
        with self._slot():
            faces = self._faces.find(picture, attributes=attributes, max_faces=MAX_FACES)
        return FacesFound(faces, picture.orientation_correction)

    def compare_faces(
        self, source: ImageSource, target: ImageSource, *, threshold: float, quality: QualityBar
    ) -> Comparison:
        """The source image's largest face against every face of the target image."""
        source_picture, target_picture = self.picture(source), self.picture(target)
        with self._slot():
            source_faces = self._faces.vectors(source_picture, max_faces=1)
            if not source_faces:
                raise InvalidParameter("There are no faces in the source image")
            target_faces = self._usable(
                self._faces.vectors(target_picture, max_faces=MAX_FACES), target_picture, quality
            )
        reference = source_faces[0]
        matches, unmatched = [], []
        for candidate in target_faces:
            similarity = self._faces.similarity(reference.vector, candidate.vector)
            if similarity >= threshold:
                matches.append(Match(candidate.face, similarity))
            else:
                unmatched.append(candidate.face)
        matches.sort(key=lambda m: m.similarity, reverse=True)
        return Comparison(
            reference.face,
            matches,
            unmatched,
            source_picture.orientation_correction,
            target_picture.orientation_correction,
        )

    def faces_to_index(
        self, source: ImageSource, *, max_faces: int | None, quality: QualityBar, attributes: bool
    ) -> FacesToIndex:
        """The faces of an image to add to a collection: the largest `max_faces` that pass the bar."""
        picture = self.picture(source)
        with self._slot():
            found = self._faces.vectors(picture, attributes=attributes, max_faces=MAX_FACES)
        accepted: list[FaceVector] = []
        refused: list[Refused] = []
        for candidate in found:
            reasons = failures(candidate.face, quality, picture.width, picture.height)
            if not reasons and max_faces is not None and len(accepted) >= max_faces:
                reasons = ["EXCEEDS_MAX_FACES"]
            if reasons:
                refused.append(Refused(candidate.face, reasons))
            else:
                accepted.append(candidate)
        return FacesToIndex(accepted, refused, picture.orientation_correction)

    def face_to_search(self, source: ImageSource, *, quality: QualityBar) -> FacesToIndex:
        """The image's largest face that passes the bar (accepted), and the others (refused, with reasons)."""
        found = self.faces_to_index(source, max_faces=1, quality=quality, attributes=False)
        if not found.accepted:
            passing = "" if quality is QualityBar.NONE else " that passes the quality filter"
            raise InvalidParameter(f"There are no faces in the image{passing}")
        return found

    def detect_labels(
        self,
        source: ImageSource,
        *,
        general: bool,
        properties: bool,
        max_labels: int | None,
        min_confidence: float,
        filters: LabelFilters,
        colours: int = 10,
    ) -> LabelsFound:
        """Labels (GENERAL_LABELS) and image properties (IMAGE_PROPERTIES), as the features ask."""
        picture = self.picture(source)
        with self._slot():
            labels = (
                self._labels.detect(picture, max_labels=max_labels, min_confidence=min_confidence, filters=filters)
                if general
                else []
            )
            found = self._labels.image_properties(picture, colours) if properties else None
        return LabelsFound(labels, found, picture.orientation_correction)

    def detect_text(self, source: ImageSource) -> list[TextDetection]:
        """Every line and word of text, lines first."""
        picture = self.picture(source)
        with self._slot():
            return self._text.read(picture)

    @staticmethod
    def _usable(faces: list[FaceVector], picture: Picture, quality: QualityBar) -> list[FaceVector]:
        return [f for f in faces if not failures(f.face, quality, picture.width, picture.height)]
