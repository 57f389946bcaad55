"""What the label detector asks of its two models: small Protocols, so tests can hand it other engines."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from altostratus.vision.images import Picture
from altostratus.vision.labels.objects import DetectedObject


class Classifier(Protocol):
    """Class probabilities of a whole picture, in the order of the hierarchy's classes."""

    def probabilities(self, picture: Picture) -> NDArray[np.float32]:
        """The softmax over the classes."""
        ...

    def warm(self) -> None:
        """Load the model now."""
        ...


class ObjectFinder(Protocol):
    """Objects in a picture, boxed, named by the detector's own class names."""

    def detect(self, picture: Picture) -> list[DetectedObject]:
        """The objects found, most confident first."""
        ...

    def warm(self) -> None:
        """Load the model now."""
        ...
