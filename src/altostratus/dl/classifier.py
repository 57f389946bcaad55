"""The interface every classifier family shares, scikit-learn's: fit, predict_proba, predict, save and load.

A fit reports each epoch through a `Progress` callback; an experiment turns those reports into the live
progress of its job, and the CLI into progress bars.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Protocol, Self

import numpy as np
from numpy.typing import NDArray

from altostratus.core.errors import BadRequest
from altostratus.dl.images import ImageData, Pixels


@dataclasses.dataclass(frozen=True)
class EpochProgress:
    """One epoch done: its number from 1, how many the fit runs, the mean training loss (None where a family
    has no loss, as nearest neighbour), the validation accuracy (None without validation) and images a second."""

    epoch: int
    epochs: int
    loss: float | None
    validation_accuracy: float | None
    images_per_second: float


Progress = Callable[[EpochProgress], None]


class NotFitted(BadRequest, ValueError):
    """The classifier has not been fitted: call fit first (scikit-learn's NotFittedError is a ValueError too)."""

    code = "ResourceNotReadyException"


class ImageClassifier(Protocol):
    """A classifier of images into the classes it was fitted on."""

    family: str
    classes_: tuple[str, ...]
    shape_: tuple[int, int, int]

    def fit(
        self,
        X: Pixels | ImageData,
        y: Sequence[object] | NDArray[Any] | None = None,
        *,
        validation: ImageData | None = None,
        progress: Progress | None = None,
    ) -> Self:
        """Learn from labelled arrays (X, y) or an ImageData; report each epoch to `progress`."""
        ...

    def predict_proba(self, X: Pixels) -> NDArray[np.float32]:
        """N x K class probabilities in the order of `classes_`."""
        ...

    def predict(self, X: Pixels) -> NDArray[np.str_]:
        """The predicted class name of each image."""
        ...

    def save(self) -> bytes:
        """The fitted classifier as an artifact archive (see dl/artifact.py)."""
        ...

    def torch_module(self) -> Any:
        """A torch.nn.Module from float32 N x H x W x C pixels (0-255) to N x K probabilities, for ONNX."""
        ...


def accuracy_on(predict: Callable[[Pixels], NDArray[np.str_]], validation: ImageData, batch_size: int) -> float:
    """The share of the validation images whose predicted class name is their own, batch by batch."""
    hits, total = 0, 0
    names = np.asarray(validation.classes)
    for pixels, labels in validation.batches(batch_size):
        hits += int((predict(pixels) == names[labels]).sum())
        total += len(labels)
    return hits / total if total else 0.0
