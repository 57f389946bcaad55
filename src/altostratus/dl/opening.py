"""An experiment's data: its sources read (datasets.py), split with its seed, and opened as ImageData.

Built-in sets are in memory. Lake datasets are decoded once, in worker processes, into an on-disk cache
(loaders.py) and streamed from it, so a dataset larger than memory trains too; the test images (a tenth, or the
separate test source) are held in memory for the evaluation and the report. Train, validation and test share one
class list: the training source's.
"""

from __future__ import annotations

import contextlib

import numpy as np

from altostratus.dl.datasets import Dataset, read_dataset, split
from altostratus.dl.errors import DatasetError, DatasetTooSmall
from altostratus.dl.experiment_store import ExperimentSpec
from altostratus.dl.experiments import Splits
from altostratus.dl.images import ArrayImages, ImageData, all_of
from altostratus.dl.loaders import images_of
from altostratus.lake.service import LakeService

# Train, validation and test shares of one source; with a separate test source the test share goes to training.
FRACTIONS = (0.8, 0.1, 0.1)
TWO_WAY = (0.9, 0.1, 0.0)


class DataOpener:
    """Opens an experiment's splits from the lake or the built-in sets."""

    def __init__(self, lake: LakeService, *, workers: int = 2) -> None:
        self._lake = lake
        self._workers = workers

    def open(self, spec: ExperimentSpec) -> Splits:
        """Train, validation and test images; a DatasetError naming what is wrong with the data."""
        caches = contextlib.ExitStack()
        skipped: list[tuple[str, str]] = []
        try:
            train = self._images(read_dataset(spec.train, self._lake), None, caches, skipped)
            if spec.test is None:
                fit, held, tested = split(_labels(train), FRACTIONS, spec.seed, classes=train.classes)
                test = all_of(_subset(train, tested))
            else:
                fit, held, _ = split(_labels(train), TWO_WAY, spec.seed, classes=train.classes)
                tests = self._images(read_dataset(spec.test, self._lake), train.shape, caches, skipped)
                test = _as_classes(all_of(tests), train.classes)
            if len(held) == 0:
                raise DatasetTooSmall(
                    f"{len(train)} images in {len(train.classes)} classes leave none to validate on (a tenth of each "
                    "class is held out to choose the best family): give each class at least 5 images"
                )
            if len(test) == 0:
                raise DatasetError("the test set has no image: give a test source, or more images per class")
        except BaseException:
            caches.close()
            raise
        return Splits(_subset(train, fit), _subset(train, held), test, skipped, caches.close)

    def _images(
        self,
        dataset: Dataset,
        shape: tuple[int, int, int] | None,
        caches: contextlib.ExitStack,
        skipped: list[tuple[str, str]],
    ) -> ImageData:
        """The dataset's images, its cache closed with `caches`; what it skipped joins `skipped`."""
        images, left_out = caches.enter_context(images_of(dataset, self._lake, shape=shape, workers=self._workers))
        skipped.extend(left_out)
        if shape is not None and images.shape != shape:
            raise DatasetError(f"the test images have shape {images.shape}; the training ones {shape}")
        return images


def _labels(images: ImageData) -> np.ndarray:
    if isinstance(images, ArrayImages):
        return images.labels
    return np.asarray(images.labels, dtype=np.int64)  # type: ignore[attr-defined]


def _subset(images: ImageData, indices: np.ndarray) -> ImageData:
    return images.subset(indices)  # type: ignore[attr-defined, no-any-return]


def _as_classes(images: ArrayImages, classes: tuple[str, ...]) -> ArrayImages:
    """The test images relabelled into the training classes; DatasetError for a class training never saw."""
    unknown = sorted(set(images.classes[label] for label in np.unique(images.labels)) - set(classes))
    if unknown:
        raise DatasetError(f"the test set has classes the training set lacks: {unknown}")
    index = np.asarray([classes.index(name) if name in classes else -1 for name in images.classes], dtype=np.int64)
    return ArrayImages(images.pixels, index[images.labels], classes)


def open_test_images(
    lake: LakeService, source: str, shape: tuple[int, int, int], classes: tuple[str, ...]
) -> ArrayImages:
    """A dataset decoded to a trained model's input shape, in memory, relabelled into the model's classes."""
    with images_of(read_dataset(source, lake), lake, shape=shape, workers=0) as (images, _):
        if images.shape != shape:
            raise DatasetError(f"the images have shape {images.shape}; the model takes {shape}")
        return _as_classes(all_of(images), classes)
