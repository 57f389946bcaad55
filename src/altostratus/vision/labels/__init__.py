"""Image labels (DetectLabels): an ImageNet classifier and a COCO detector over a WordNet label hierarchy.

Importing this package loads no model and imports no torch: the engines load on first use.
"""

from altostratus.vision.labels.classifier import ImageNetClassifier
from altostratus.vision.labels.detector import DEFAULT_MIN_CONFIDENCE, MAX_LABELS, LabelDetector
from altostratus.vision.labels.engines import Classifier, ObjectFinder
from altostratus.vision.labels.filters import LabelFilters
from altostratus.vision.labels.hierarchy import LabelHierarchy, LabelNode, default_hierarchy
from altostratus.vision.labels.objects import CocoDetector, DetectedObject
from altostratus.vision.labels.properties import image_properties

__all__ = [
    "DEFAULT_MIN_CONFIDENCE",
    "MAX_LABELS",
    "Classifier",
    "CocoDetector",
    "DetectedObject",
    "ImageNetClassifier",
    "LabelDetector",
    "LabelFilters",
    "LabelHierarchy",
    "LabelNode",
    "ObjectFinder",
    "default_hierarchy",
    "image_properties",
]
