"""Nearest neighbour on raw pixels: the seed's first step, and the baseline every other family must beat.

Fitting only keeps the training images; predicting measures each image's distance to all of them (L2 through
the matmul expansion, L1 by broadcasting in bounded chunks) and lets the k nearest vote.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from altostratus.dl import artifact
from altostratus.dl.classifier import EpochProgress, NotFitted, Progress, accuracy_on
from altostratus.dl.images import ArrayImages, ImageData, InvalidImages, Pixels, all_of, check_pixels, labelled

METRICS = ("l1", "l2")
# The L1 difference tensor (query rows x training rows x pixels) is cut to at most this many float32 values
# (1 MiB), whatever the batch size and the image size: blocks that stay in cache ran 3x faster than 64 MiB ones.
_L1_ELEMENTS = 1 << 18


class NearestNeighbour:
    """k-nearest-neighbour vote on pixels, L1 or L2 distance.

    The training pixels are held flattened as uint8 (a quarter of float32's memory, and exactly what `save`
    writes); `predict_proba` casts them to float32 for the length of one call. The probability of a class is
    its share of the k votes; `predict` breaks a tie between classes with as many votes for the class whose
    member is nearest.
    """

    family = "nearest"

    def __init__(self, *, k: int = 1, metric: str = "l2", batch_size: int = 256) -> None:
        self.k = k
        self.metric = metric
        self.batch_size = batch_size

    def fit(
        self,
        X: Pixels | ImageData,
        y: Sequence[object] | NDArray[Any] | None = None,
        *,
        validation: ImageData | None = None,
        progress: Progress | None = None,
    ) -> NearestNeighbour:
        """Keep the training images and their labels; report the validation accuracy once."""
        started = time.perf_counter()
        data = _training_set(X, y)
        self._check_params(len(data))
        self.classes_ = data.classes
        self.shape_ = data.shape
        flat = data.pixels.reshape(len(data), -1)
        # fit(X, y) would otherwise keep a view of the caller's array, which the caller may go on to change
        self.pixels_ = flat.copy() if y is not None else flat
        self.labels_ = data.labels
        accuracy = None if validation is None else accuracy_on(self.predict, validation, self.batch_size)
        if progress is not None:
            speed = len(data) / max(time.perf_counter() - started, 1e-9)
            progress(EpochProgress(1, 1, None, accuracy, speed))
        return self

    def predict_proba(self, X: Pixels) -> NDArray[np.float32]:
        """N x K: each class's share of the k nearest training images."""
        return self._neighbour_votes(X)[0]

    def predict(self, X: Pixels) -> NDArray[np.str_]:
        """The class with the most of the k votes (a tie goes to the class of the nearest image among them)."""
        votes, ranks = self._neighbour_votes(X)
        # Votes are multiples of 1/k and the tie-break term stays below 1/k, so it only ever separates ties.
        closeness = (self.k - ranks) / (self.k * (self.k + 1))
        names: NDArray[np.str_] = np.asarray(self.classes_)[(votes + closeness).argmax(axis=1)]
        return names

    def save(self) -> bytes:
        """The parameters, classes and training set as an artifact archive."""
        self._check_fitted()
        config = {"k": self.k, "metric": self.metric, "batch_size": self.batch_size}
        config |= {"classes": list(self.classes_), "shape": list(self.shape_)}
        return artifact.pack(self.family, config, {"pixels": self.pixels_, "labels": self.labels_})

    @classmethod
    def load(cls, data: bytes) -> NearestNeighbour:
        """The classifier `save` wrote; artifact.ArtifactInvalid when the bytes are not one of this family."""
        family, config, arrays = artifact.unpack(data)
        if family != cls.family:
            raise artifact.ArtifactInvalid(f"the archive holds family {family!r}, not {cls.family!r}")
        try:
            model = cls(k=int(config["k"]), metric=str(config["metric"]), batch_size=int(config["batch_size"]))
            model.classes_ = tuple(str(name) for name in config["classes"])
            height, width, channels = (int(size) for size in config["shape"])
            model.shape_ = (height, width, channels)
            model.pixels_ = np.asarray(arrays["pixels"], dtype=np.uint8)
            model.labels_ = np.asarray(arrays["labels"], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as error:
            raise artifact.ArtifactInvalid(f"not a {cls.family} classifier: {error!r}") from None
        return model

    def torch_module(self) -> Any:
        """A torch.nn.Module computing `predict_proba` from float32 pixels N x H x W x C (0-255), for ONNX."""
        self._check_fitted()
        return _torch_module(self.pixels_, self.labels_, len(self.classes_), k=self.k, metric=self.metric)

    def _check_params(self, images: int) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= images:
            raise ValueError(f"k={self.k!r}; expected an integer from 1 to the {images} training images")
        if self.metric not in METRICS:
            raise ValueError(f"Unknown metric: {self.metric!r}; expected one of {list(METRICS)}")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size!r}; expected a positive integer")

    def _check_fitted(self) -> None:
        if not hasattr(self, "pixels_"):
            raise NotFitted(f"this {type(self).__name__} is not fitted yet; call fit first")

    def _neighbour_votes(self, X: Pixels) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """N x K vote shares, and N x K the rank (0 nearest) of each class's nearest neighbour (k if none)."""
        self._check_fitted()
        queries = _flat_queries(X, self.shape_)
        training = self.pixels_.astype(np.float32)
        squared = np.einsum("ij,ij->i", training, training)
        votes = np.zeros((len(queries), len(self.classes_)), dtype=np.float32)
        ranks = np.full(votes.shape, self.k, dtype=np.int64)
        for start in range(0, len(queries), self.batch_size):
            batch = queries[start : start + self.batch_size]
            distances = _l2(batch, training, squared) if self.metric == "l2" else _l1(batch, training)
            nearest = _k_smallest(distances, self.k)
            where = (np.arange(start, start + len(batch))[:, None], self.labels_[nearest])
            np.add.at(votes, where, 1.0 / self.k)
            np.minimum.at(ranks, where, np.arange(self.k))
        return votes, ranks


def _training_set(X: Pixels | ImageData, y: Sequence[object] | NDArray[Any] | None) -> ArrayImages:
    """Arrays with their labels, or a dataset alone, as images in memory with at least two classes."""
    if y is not None:
        return labelled(check_pixels(X), y)
    if isinstance(X, np.ndarray):
        raise InvalidImages("fit(X) without y needs an ImageData; arrays need their labels y")
    data = all_of(X)
    present = len(np.unique(data.labels))
    if present < 2:
        raise InvalidImages(f"a classifier needs images of at least 2 classes; the dataset has {present}")
    return data


def _flat_queries(X: Pixels, shape: tuple[int, int, int]) -> NDArray[np.float32]:
    """The images as float32 rows; InvalidImages when their shape is not the training images'."""
    pixels = check_pixels(X)
    if pixels.shape[1:] != shape:
        raise InvalidImages(f"images have shape {pixels.shape[1:]}; this classifier was fitted on {shape}")
    return pixels.reshape(len(pixels), -1).astype(np.float32)


def _l2(queries: NDArray[np.float32], training: NDArray[np.float32], squared: NDArray[np.float32]) -> Any:
    """Squared L2 distances, queries x training, as ||a||^2 - 2ab + ||b||^2 (one matmul, no difference tensor)."""
    own = np.einsum("ij,ij->i", queries, queries)
    return np.maximum(own[:, None] - 2.0 * (queries @ training.T) + squared[None, :], 0.0)


def _l1(queries: NDArray[np.float32], training: NDArray[np.float32]) -> NDArray[np.float32]:
    """L1 distances, queries x training, broadcast over chunks of at most _L1_ELEMENTS differences."""
    width = training.shape[1]
    columns = max(1, min(len(training), _L1_ELEMENTS // width))
    rows = max(1, _L1_ELEMENTS // (columns * width))
    distances = np.empty((len(queries), len(training)), dtype=np.float32)
    for row in range(0, len(queries), rows):
        block = queries[row : row + rows, None, :]
        for column in range(0, len(training), columns):
            difference = block - training[None, column : column + columns, :]
            distances[row : row + rows, column : column + columns] = np.abs(difference, out=difference).sum(axis=2)
    return distances


def _k_smallest(distances: NDArray[np.float32], k: int) -> NDArray[np.intp]:
    """Per row, the column indices of the k smallest distances, nearest first."""
    if k < distances.shape[1]:
        candidates = np.argpartition(distances, k - 1, axis=1)[:, :k]
    else:
        candidates = np.broadcast_to(np.arange(distances.shape[1]), distances.shape)
    order = np.take_along_axis(distances, candidates, axis=1).argsort(axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1)


def _torch_module(pixels: Pixels, labels: NDArray[np.int64], classes: int, *, k: int, metric: str) -> Any:
    """The vote as a torch.nn.Module, the training set in buffers (torch is imported here, only when asked)."""
    import torch

    class NearestModule(torch.nn.Module):
        reference: torch.Tensor
        squared: torch.Tensor
        votes: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            reference = torch.from_numpy(pixels.astype(np.float32))
            self.register_buffer("reference", reference)
            self.register_buffer("squared", (reference * reference).sum(1))
            one_hot = torch.nn.functional.one_hot(torch.from_numpy(labels), classes)
            self.register_buffer("votes", one_hot.to(torch.float32) / k)

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            queries = images.flatten(1)
            if metric == "l2":
                own = (queries * queries).sum(1, keepdim=True)
                distances = own - 2.0 * queries @ self.reference.T + self.squared
            else:
                distances = (queries[:, None, :] - self.reference[None]).abs().sum(2)
            nearest = torch.topk(distances, k, dim=1, largest=False).indices
            return self.votes[nearest].sum(1)

    return NearestModule()
