"""DetectLabels' engine: the classifier's probabilities spread over the hierarchy, plus the detector's boxes.

A label's confidence is 100 x the summed probability of the ImageNet classes at or under it (so parents and
leaves are all candidates); an object the detector boxes adds its label, with the box as an instance, and lifts
that label and its parents to at least the detector's confidence, even where the classifier saw nothing.
"""

from __future__ import annotations

import collections

from altostratus.vision.errors import InvalidParameter
from altostratus.vision.images import Picture
from altostratus.vision.labels.classifier import ImageNetClassifier
from altostratus.vision.labels.engines import Classifier, ObjectFinder
from altostratus.vision.labels.filters import LabelFilters
from altostratus.vision.labels.hierarchy import LabelHierarchy, default_hierarchy
from altostratus.vision.labels.objects import CocoDetector
from altostratus.vision.labels.properties import COLOURS, image_properties
from altostratus.vision.results import ImageProperties, Label, LabelInstance

DEFAULT_MIN_CONFIDENCE = 55.0  # Rekognition's default
MAX_LABELS = 1000  # Rekognition's default and upper limit


class LabelDetector:
    """Labels and image properties of a picture, from an image classifier and an object detector."""

    def __init__(
        self,
        *,
        classifier: Classifier | None = None,
        objects: ObjectFinder | None = None,
        hierarchy: LabelHierarchy | None = None,
    ) -> None:
        self._classifier = classifier if classifier is not None else ImageNetClassifier()
        self._objects = objects if objects is not None else CocoDetector()
        self._hierarchy = hierarchy if hierarchy is not None else default_hierarchy()

    def detect(
        self,
        picture: Picture,
        *,
        max_labels: int | None = None,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        filters: LabelFilters | None = None,
        instances: bool = True,
    ) -> list[Label]:
        """The labels found, most confident first, that pass min_confidence (0-100) and the filters."""
        _check(max_labels, min_confidence)
        scores = {
            name: 100.0 * p for name, p in self._hierarchy.scores(self._classifier.probabilities(picture)).items()
        }
        boxes: dict[str, list[LabelInstance]] = collections.defaultdict(list)
        if instances:
            for found in self._objects.detect(picture):
                name = self._hierarchy.objects.get(found.name)
                if name is None:
                    continue
                confidence = 100.0 * found.confidence
                boxes[name].append(LabelInstance(box=found.box, confidence=round(confidence, 3)))
                for label in (name, *self._hierarchy.node(name).parents):
                    scores[label] = max(scores.get(label, 0.0), confidence)
        labels = [self._label(name, score, boxes.get(name, ())) for name, score in scores.items()]
        kept = [x for x in labels if x.confidence >= min_confidence and (filters is None or filters.admits(x))]
        # On a tie the more general label (fewer ancestors) goes first: a cut never keeps a child but not its parent.
        kept.sort(key=lambda x: (-x.confidence, len(x.parents), x.name))
        return kept[: MAX_LABELS if max_labels is None else max_labels]

    def _label(self, name: str, score: float, instances: list[LabelInstance] | tuple[()]) -> Label:
        node = self._hierarchy.node(name)
        return Label(
            name=name,
            confidence=round(min(score, 100.0), 3),
            parents=node.parents,
            aliases=node.aliases,
            categories=node.categories,
            instances=tuple(sorted(instances, key=lambda i: -i.confidence)),
        )

    def image_properties(self, picture: Picture, colours: int = COLOURS) -> ImageProperties:
        """Quality and up to `colours` dominant colours of the whole picture."""
        return image_properties(picture, colours)

    def warm(self) -> None:
        """Load both models now rather than on the first picture."""
        self._classifier.warm()
        self._objects.warm()


def _check(max_labels: int | None, min_confidence: float) -> None:
    if max_labels is not None and not 0 <= max_labels <= MAX_LABELS:
        raise InvalidParameter(f"MaxLabels={max_labels}; expected 0 to {MAX_LABELS}")
    if not 0.0 <= min_confidence <= 100.0:
        raise InvalidParameter(f"MinConfidence={min_confidence}; expected 0 to 100")
