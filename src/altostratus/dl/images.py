"""Images as every family reads them: uint8 pixels N x H x W x C with class indices, in memory or streamed.

`ImageData` is what a fit reads: its class names, the shape of one image, its length, and batches in a seeded
order. `ArrayImages` is the one in memory; the lake's loaders give others that decode as they stream, so a
dataset larger than memory trains too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, TypeAlias

import numpy as np
from numpy.typing import NDArray

from altostratus.core.errors import InvalidArgument

Pixels: TypeAlias = NDArray[np.uint8]
"""N x H x W x C pixels, 0-255; C is 1 (grey) or 3 (RGB)."""
Labels: TypeAlias = NDArray[np.int64]
"""N class indices into an ImageData's `classes`."""
Shape: TypeAlias = tuple[int, int, int]

CHANNELS = (1, 3)


class InvalidImages(InvalidArgument, ValueError):
    """Pixels or labels a classifier cannot take: the wrong shape or type, or too few classes."""


class ImageData(Protocol):
    """Labelled images of one shape, read batch by batch."""

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names; a label is an index into them."""
        ...

    @property
    def shape(self) -> Shape:
        """Height, width and channels of every image."""
        ...

    def __len__(self) -> int:
        """How many images there are."""
        ...

    def batches(self, size: int, shuffle: bool = False, seed: int = 0) -> Iterator[tuple[Pixels, Labels]]:
        """Every image once, `size` at a time (the last batch may be smaller), shuffled by `seed` when asked."""
        ...


class ArrayImages:
    """Images held in memory: pixels N x H x W x C uint8 and labels indexing `classes`."""

    def __init__(self, pixels: Pixels, labels: NDArray[Any], classes: Sequence[str]) -> None:
        self.pixels = check_pixels(pixels)
        self.labels = np.asarray(labels, dtype=np.int64)
        self._classes = tuple(str(name) for name in classes)
        if self.labels.shape != (len(self.pixels),):
            raise InvalidImages(f"{len(self.pixels)} images but labels of shape {self.labels.shape}")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= len(self._classes)):
            raise InvalidImages(f"labels must index the {len(self._classes)} classes")

    @property
    def classes(self) -> tuple[str, ...]:
        return self._classes

    @property
    def shape(self) -> Shape:
        height, width, channels = self.pixels.shape[1:]
        return (int(height), int(width), int(channels))

    def __len__(self) -> int:
        return len(self.pixels)

    def batches(self, size: int, shuffle: bool = False, seed: int = 0) -> Iterator[tuple[Pixels, Labels]]:
        """Views of the arrays in order, or copies in a seeded random order."""
        if size < 1:
            raise ValueError(f"batch size {size!r}; expected a positive integer")
        order = np.random.default_rng(seed).permutation(len(self)) if shuffle else None
        for start in range(0, len(self), size):
            if order is None:
                yield self.pixels[start : start + size], self.labels[start : start + size]
            else:
                chosen = order[start : start + size]
                yield self.pixels[chosen], self.labels[chosen]

    def subset(self, indices: Sequence[int] | NDArray[Any]) -> ArrayImages:
        """The images at `indices`, with the same classes (some may have no image left)."""
        chosen = np.asarray(indices, dtype=np.int64)
        return ArrayImages(self.pixels[chosen], self.labels[chosen], self._classes)


def check_pixels(X: Any) -> Pixels:
    """`X` as uint8 N x H x W x C (C 1 or 3); N x H x W is grey. InvalidImages naming what is wrong."""
    if not isinstance(X, np.ndarray):
        raise InvalidImages(f"images must be a numpy array N x H x W x C, not {type(X).__name__}")
    if X.ndim == 3:
        X = X[..., None]
    if X.ndim != 4 or X.shape[3] not in CHANNELS or 0 in X.shape[1:]:
        raise InvalidImages(f"images have shape {X.shape}; expected N x H x W x C with C 1 or 3")
    if X.dtype == np.uint8:
        return np.asarray(X, dtype=np.uint8)
    if not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)):
        raise InvalidImages(f"pixels of dtype {X.dtype}; expected uint8 (0-255)")
    if X.size and (not np.isfinite(X).all() or X.min() < 0 or X.max() > 255):
        raise InvalidImages("pixels must lie from 0 to 255")
    return np.asarray(np.rint(X), dtype=np.uint8)


def labelled(pixels: Pixels, y: Sequence[object] | NDArray[Any]) -> ArrayImages:
    """Pixels with one label each, as ArrayImages whose classes are the labels' names, sorted.

    Labels are named by their string form, so the integers 0-9 become the classes "0" to "9"; integers sort
    by value, not as text.
    """
    values = np.asarray(y)
    if values.ndim != 1 or len(values) != len(pixels):
        raise InvalidImages(f"{len(pixels)} images but labels of shape {values.shape}")
    if np.issubdtype(values.dtype, np.integer):
        numbers, labels = np.unique(values, return_inverse=True)
        classes = [str(int(number)) for number in numbers]
    else:
        names = np.asarray([str(value) for value in values.tolist()])
        unique, labels = np.unique(names, return_inverse=True)
        classes = [str(name) for name in unique]
    if len(classes) < 2:
        raise InvalidImages(f"a classifier needs images of at least 2 classes; the labels name {len(classes)}")
    return ArrayImages(pixels, labels.reshape(-1), classes)


def all_of(data: ImageData, batch_size: int = 1024) -> ArrayImages:
    """Every image of `data` in memory, in its order."""
    if isinstance(data, ArrayImages):
        return data
    height, width, channels = data.shape
    pixels: list[Pixels] = [np.zeros((0, height, width, channels), dtype=np.uint8)]
    labels: list[Labels] = [np.zeros(0, dtype=np.int64)]
    for batch, batch_labels in data.batches(batch_size):
        pixels.append(batch)
        labels.append(batch_labels)
    return ArrayImages(np.concatenate(pixels), np.concatenate(labels), data.classes)
