"""A linear classifier on standardised pixels, softmax or multiclass SVM: the seed's second step.

Trained with minibatch SGD and momentum in numpy, streaming the training set: one pass learns the mean image and
the scale, then every epoch reads it again in a shuffled order, so an `ImageData` larger than memory trains too.
Per-class thresholds on its probabilities trade more detections of a class against more false positives.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits

from altostratus.dl import artifact
from altostratus.dl.classifier import EpochProgress, NotFitted, Progress, accuracy_on
from altostratus.dl.images import ImageData, InvalidImages, Labels, Pixels, check_pixels, labelled

LOSSES = ("softmax", "svm")
# The minibatch products (128 x 784 by 784 x 10 for MNIST) are too small for BLAS threads to pay: with two
# threads on a busy two-core machine a fit took 5 s, with one 0.16 s.
_TRAINING_THREADS = 1
_PARAMS = ("loss", "regularization", "learning_rate", "momentum", "epochs", "batch_size", "patience", "seed")


class LinearClassifier:
    """Scores `W x + b` on standardised pixels, trained on the softmax loss or the Weston-Watkins hinge.

    `predict_proba` is the softmax of the scores for both losses; for the SVM that is a softmax of margins,
    ordered like the scores but not calibrated. The L2 penalty is `regularization / 2 * ||W||^2`. With
    `validation`, training keeps the weights of the epoch with the best validation accuracy and stops after
    `patience` epochs without a better one.
    """

    family = "linear"

    def __init__(
        self,
        *,
        loss: str = "softmax",
        regularization: float = 0.01,
        learning_rate: float = 0.001,
        momentum: float = 0.9,
        epochs: int = 30,
        batch_size: int = 128,
        patience: int = 5,
        seed: int = 0,
    ) -> None:
        self.loss = loss
        self.regularization = regularization
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.epochs = epochs
        self.batch_size = batch_size
        self.patience = patience
        self.seed = seed

    def fit(
        self,
        X: Pixels | ImageData,
        y: Sequence[object] | NDArray[Any] | None = None,
        *,
        validation: ImageData | None = None,
        progress: Progress | None = None,
    ) -> LinearClassifier:
        """Learn the standardisation, then the weights, one progress report per epoch."""
        self._check_params()
        data = labelled(check_pixels(X), y) if y is not None else _dataset(X)
        self.classes_ = tuple(data.classes)
        self.shape_ = data.shape
        self.mean_, self.scale_ = _standardisation(data, self.batch_size)
        rng = np.random.default_rng(self.seed)
        features, classes = self.mean_.size, len(self.classes_)
        self.weights_ = (0.001 * rng.standard_normal((features, classes))).astype(np.float32)
        self.bias_ = np.zeros(classes, dtype=np.float32)
        self.thresholds_ = np.zeros(classes, dtype=np.float32)
        with threadpool_limits(_TRAINING_THREADS, user_api="blas"):
            self._train(data, validation, progress)
        return self

    def predict_proba(self, X: Pixels) -> NDArray[np.float32]:
        """N x K: the softmax of the scores (for the SVM loss, of its margins: not calibrated)."""
        return _softmax(self._scores(X))

    def predict(self, X: Pixels) -> NDArray[np.str_]:
        """The class with the highest score."""
        best = self._scores(X).argmax(axis=1)
        names: NDArray[np.str_] = np.asarray(self.classes_)[best]
        return names

    def detect(self, X: Pixels) -> NDArray[np.bool_]:
        """N x K: the classes each image is detected as.

        A class with a threshold above 0 is detected wherever its probability reaches the threshold (so an
        image may be detected as several classes, or none); a class left at 0 wherever it is the argmax.
        """
        probabilities = self.predict_proba(X)
        top = probabilities.argmax(axis=1)[:, None] == np.arange(len(self.classes_))[None, :]
        return np.where(self.thresholds_ > 0, probabilities >= self.thresholds_, top)

    def set_thresholds(self, mapping: Mapping[str, float]) -> LinearClassifier:
        """Set the thresholds of the named classes (from 0 to 1); ValueError naming a bad class or value."""
        self._check_fitted()
        for name, value in mapping.items():
            if name not in self.classes_:
                raise ValueError(f"Unknown class: {name!r}; expected one of {list(self.classes_)}")
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold of class {name!r} is {value!r}; expected a number from 0 to 1")
        for name, value in mapping.items():
            self.thresholds_[self.classes_.index(name)] = value
        return self

    def save(self) -> bytes:
        """The parameters, standardisation, weights and thresholds as an artifact archive."""
        self._check_fitted()
        config = {name: getattr(self, name) for name in _PARAMS}
        config |= {"classes": list(self.classes_), "shape": list(self.shape_), "scale": self.scale_}
        arrays = {"mean": self.mean_, "weights": self.weights_, "bias": self.bias_, "thresholds": self.thresholds_}
        return artifact.pack(self.family, config, arrays)

    @classmethod
    def load(cls, data: bytes) -> LinearClassifier:
        """The classifier `save` wrote; artifact.ArtifactInvalid when the bytes are not one of this family."""
        family, config, arrays = artifact.unpack(data)
        if family != cls.family:
            raise artifact.ArtifactInvalid(f"the archive holds family {family!r}, not {cls.family!r}")
        try:
            model = cls(**{name: config[name] for name in _PARAMS})
            model.classes_ = tuple(str(name) for name in config["classes"])
            height, width, channels = (int(size) for size in config["shape"])
            model.shape_ = (height, width, channels)
            model.scale_ = float(config["scale"])
            for name in ("mean", "weights", "bias", "thresholds"):
                setattr(model, f"{name}_", np.asarray(arrays[name], dtype=np.float32))
        except (KeyError, TypeError, ValueError) as error:
            raise artifact.ArtifactInvalid(f"not a {cls.family} classifier: {error!r}") from None
        return model

    def torch_module(self) -> Any:
        """A torch.nn.Module computing `predict_proba` from float32 pixels N x H x W x C (0-255), for ONNX."""
        self._check_fitted()
        return _torch_module(self.mean_, self.scale_, self.weights_, self.bias_)

    def _check_params(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"Unknown loss: {self.loss!r}; expected one of {list(LOSSES)}")
        for name in ("regularization", "learning_rate", "momentum"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                raise ValueError(f"{name}={value!r}; expected a number >= 0")
        if self.learning_rate == 0 or self.momentum >= 1:
            raise ValueError("learning_rate must be above 0 and momentum below 1")
        for name in ("epochs", "batch_size", "patience"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r}; expected a positive integer")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(f"seed={self.seed!r}; expected an integer")

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise NotFitted(f"this {type(self).__name__} is not fitted yet; call fit first")

    def _features(self, pixels: Pixels) -> NDArray[np.float32]:
        flat = pixels.reshape(len(pixels), -1).astype(np.float32)
        return np.asarray((flat - self.mean_) / self.scale_, dtype=np.float32)

    def _scores(self, X: Pixels) -> NDArray[np.float32]:
        self._check_fitted()
        pixels = check_pixels(X)
        if pixels.shape[1:] != self.shape_:
            raise InvalidImages(f"images have shape {pixels.shape[1:]}; this classifier was fitted on {self.shape_}")
        return self._features(pixels) @ self.weights_ + self.bias_

    def _train(self, data: ImageData, validation: ImageData | None, progress: Progress | None) -> None:
        """Epochs of SGD with momentum; with validation, the best epoch's weights and early stopping."""
        velocity = (np.zeros_like(self.weights_), np.zeros_like(self.bias_))
        best, best_weights, stale = -1.0, (self.weights_.copy(), self.bias_.copy()), 0
        for epoch in range(1, self.epochs + 1):
            started = time.perf_counter()
            loss = self._epoch(data, epoch, velocity)
            accuracy = None if validation is None else accuracy_on(self.predict, validation, self.batch_size)
            if progress is not None:
                speed = len(data) / max(time.perf_counter() - started, 1e-9)
                progress(EpochProgress(epoch, self.epochs, loss, accuracy, speed))
            if accuracy is None:
                continue
            if accuracy > best:
                best, best_weights, stale = accuracy, (self.weights_.copy(), self.bias_.copy()), 0
            else:
                stale += 1
            if stale >= self.patience:
                break
        if validation is not None:
            self.weights_, self.bias_ = best_weights

    def _epoch(self, data: ImageData, epoch: int, velocity: tuple[NDArray[np.float32], NDArray[np.float32]]) -> float:
        """One shuffled pass of minibatch updates; the mean loss of its batches, penalty included."""
        losses = []
        for pixels, labels in data.batches(self.batch_size, shuffle=True, seed=self.seed + epoch):
            features = self._features(pixels)
            gradient = _softmax_gradient if self.loss == "softmax" else _hinge_gradient
            loss, scores_gradient = gradient(features @ self.weights_ + self.bias_, labels)
            penalty = 0.5 * self.regularization * float(np.sum(self.weights_ * self.weights_))
            losses.append(loss + penalty)
            weights_gradient = features.T @ scores_gradient + self.regularization * self.weights_
            gradients = (weights_gradient, scores_gradient.sum(axis=0))
            for value, step, grad in zip((self.weights_, self.bias_), velocity, gradients, strict=True):
                step *= self.momentum
                step -= self.learning_rate * grad
                value += step
        return float(np.mean(losses))


def _dataset(X: Pixels | ImageData) -> ImageData:
    if isinstance(X, np.ndarray):
        raise InvalidImages("fit(X) without y needs an ImageData; arrays need their labels y")
    if len(X.classes) < 2:
        raise InvalidImages(f"a classifier needs at least 2 classes; the dataset has {len(X.classes)}")
    return X


def _standardisation(data: ImageData, batch: int) -> tuple[NDArray[np.float32], float]:
    """The mean image and one scale for all pixels (their standard deviation about it), in one streamed pass.

    A single scale, not one per pixel: MNIST's border pixels are always 0, and dividing by their deviation
    would blow up any ink that reaches them at test time.
    """
    total, squares, count = 0.0, 0.0, 0
    seen = np.zeros(len(data.classes), dtype=np.int64)
    for pixels, labels in data.batches(batch):
        flat = pixels.reshape(len(pixels), -1).astype(np.float64)
        total, squares, count = total + flat.sum(0), squares + (flat * flat).sum(0), count + len(flat)
        seen += np.bincount(labels, minlength=len(seen))
    if count == 0 or np.count_nonzero(seen) < 2:
        raise InvalidImages(f"a classifier needs images of at least 2 classes; got {np.count_nonzero(seen)}")
    mean = np.asarray(total) / count
    variance = float(np.mean(np.asarray(squares) / count - mean * mean))
    return mean.astype(np.float32), float(np.sqrt(variance)) if variance > 0 else 1.0


def _softmax(scores: NDArray[np.float32]) -> NDArray[np.float32]:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=np.float32)


def _softmax_gradient(scores: NDArray[np.float32], labels: Labels) -> tuple[float, NDArray[np.float32]]:
    """The mean cross-entropy of the batch and its gradient with respect to the scores."""
    rows = np.arange(len(labels))
    probabilities = _softmax(scores)
    loss = -float(np.mean(np.log(np.maximum(probabilities[rows, labels], 1e-12))))
    probabilities[rows, labels] -= 1.0
    probabilities /= len(labels)
    return loss, probabilities


def _hinge_gradient(scores: NDArray[np.float32], labels: Labels) -> tuple[float, NDArray[np.float32]]:
    """The mean Weston-Watkins hinge (margin 1 against every wrong class) and its gradient (CS231n's)."""
    rows = np.arange(len(labels))
    margins = np.maximum(0.0, scores - scores[rows, labels][:, None] + 1.0)
    margins[rows, labels] = 0.0
    active = (margins > 0).astype(np.float32)
    active[rows, labels] = -active.sum(axis=1)
    active /= len(labels)
    return float(margins.sum() / len(labels)), active


def _torch_module(mean: NDArray[np.float32], scale: float, weights: NDArray[np.float32], bias: Any) -> Any:
    """Standardise, matmul, softmax as a torch.nn.Module (torch is imported here, only when asked)."""
    import torch

    class LinearModule(torch.nn.Module):
        mean: torch.Tensor
        weights: torch.Tensor
        bias: torch.Tensor

        def __init__(self) -> None:
            super().__init__()
            for name, value in (("mean", mean), ("weights", weights), ("bias", bias)):
                self.register_buffer(name, torch.from_numpy(np.array(value, dtype=np.float32)))

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            features = (images.flatten(1) - self.mean) / scale
            return torch.softmax(features @ self.weights + self.bias, dim=1)

    return LinearModule()
