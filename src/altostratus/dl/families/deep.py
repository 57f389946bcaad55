"""What the deep families share: the estimator contract, the fit's inputs, prediction, save, load and export.

A family says how to build its network (`_network`), how to train it (`_train`) and which of its weights an
archive needs (`_stored`); the rest (parameter checks, labelled arrays or a streamed ImageData, the device,
predict_proba in batches, the artifact archive) is written once here.
"""

from __future__ import annotations

import abc
import copy
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Self

import numpy as np
import torch
from numpy.typing import NDArray

from altostratus.dl import artifact
from altostratus.dl.classifier import EpochProgress, NotFitted, Progress
from altostratus.dl.families.pixels import PixelClassifier, shifted
from altostratus.dl.families.training_loop import Checkpoints, Loop, resolve_device
from altostratus.dl.images import ImageData, InvalidImages, Pixels, check_pixels, labelled

Shape = tuple[int, int, int]
MACHINE = ("device", "mixed_precision", "threads")


class DeepClassifier(abc.ABC):
    """The shared half of a deep family; subclasses add their parameters and the three hooks."""

    family: ClassVar[str]
    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float
    patience: int | None
    seed: int
    device: str
    mixed_precision: bool
    threads: int | None
    classes_: tuple[str, ...]
    shape_: Shape
    device_: str
    network_: PixelClassifier
    history_: list[EpochProgress]

    def get_params(self) -> dict[str, Any]:
        """The keyword parameters, as scikit-learn's estimators give them."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def fit(
        self,
        X: Pixels | ImageData,
        y: Sequence[object] | NDArray[Any] | None = None,
        *,
        validation: ImageData | None = None,
        progress: Progress | None = None,
        checkpoint: Checkpoints | None = None,
    ) -> Self:
        """Train on labelled arrays or an ImageData; go on from `checkpoint` when it holds an earlier epoch."""
        data = training_data(X, y)
        if validation is not None and tuple(validation.shape) != tuple(data.shape):
            raise InvalidImages(f"validation images have shape {validation.shape}; the training ones {data.shape}")
        self._check_params()
        device = resolve_device(self.device)
        if self.threads is not None:
            torch.set_num_threads(self.threads)  # process-wide: set only when asked
        # where and how fast it runs is no part of what is learnt: a fit may resume on another machine
        params = {name: value for name, value in _json(self.get_params()).items() if name not in MACHINE}
        identity = {"params": params, "classes": list(data.classes), "images": len(data)}
        loop = Loop(self.epochs, self.patience, self.seed, device, self.mixed_precision, progress, checkpoint, identity)
        self.classes_ = tuple(str(name) for name in data.classes)
        self.shape_ = data.shape
        self.device_ = str(device)
        self.network_, self.history_ = self._train(data, validation, loop)
        return self

    def predict_proba(self, X: Pixels) -> NDArray[np.float32]:
        """N x K class probabilities, in the order of `classes_`."""
        self._check_fitted()
        pixels = check_pixels(X)
        if pixels.shape[1:] != self.shape_:
            raise InvalidImages(f"images have shape {pixels.shape[1:]}; this classifier was fitted on {self.shape_}")
        batch = self._inference_batch(self.network_.mean.device)
        return probabilities(self.network_, pixels, batch, len(self.classes_))

    def predict(self, X: Pixels) -> NDArray[np.str_]:
        """The most probable class of each image."""
        best = self.predict_proba(X).argmax(axis=1)
        names: NDArray[np.str_] = np.asarray(self.classes_)[best]
        return names

    def save(self) -> bytes:
        """Parameters, classes, input shape, normalisation and weights as an artifact archive (no pickle)."""
        self._check_fitted()
        network = self.network_
        config = {"params": _json(self.get_params()), "classes": list(self.classes_), "shape": list(self.shape_)}
        config |= {"mean": network.mean.flatten().tolist(), "scale": network.scale.flatten().tolist()}
        arrays = {name: value.detach().cpu().numpy() for name, value in self._stored().items()}
        return artifact.pack(self.family, config, arrays)

    @classmethod
    def load(cls, data: bytes) -> Self:
        """The classifier `save` wrote; artifact.ArtifactInvalid when the bytes are not one of this family."""
        family, config, arrays = artifact.unpack(data)
        if family != cls.family:
            raise artifact.ArtifactInvalid(f"the archive holds family {family!r}, not {cls.family!r}")
        try:
            model = cls(**config["params"])
            model.classes_ = tuple(str(name) for name in config["classes"])
            height, width, channels = (int(size) for size in config["shape"])
            model.shape_ = (height, width, channels)
            device = resolve_device(model.device)
            network = model._network(channels, len(model.classes_), config["mean"], config["scale"])
            state = {name: torch.from_numpy(np.array(value)) for name, value in arrays.items()}
            model._restore(network, state)
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise artifact.ArtifactInvalid(f"not a {cls.family} classifier: {error!r}") from None
        model.network_, model.device_, model.history_ = network.to(device).eval(), str(device), []
        return model

    def torch_module(self) -> PixelClassifier:
        """A CPU copy of the network, float32 N x H x W x C pixels (0-255) to N x K probabilities, for ONNX."""
        self._check_fitted()
        return copy.deepcopy(self.network_).cpu().eval()

    def _check_params(self) -> None:
        """ValueError naming the first parameter out of its range."""
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("seed", self.seed, 0)
        if self.patience is not None:
            _check_int("patience", self.patience, 1)
        if self.threads is not None:
            _check_int("threads", self.threads, 1)
        if not isinstance(self.learning_rate, int | float) or not self.learning_rate > 0:
            raise ValueError(f"learning_rate={self.learning_rate!r}; expected a positive number")
        if not isinstance(self.weight_decay, int | float) or not self.weight_decay >= 0:
            raise ValueError(f"weight_decay={self.weight_decay!r}; expected a number of at least 0")
        resolve_device(self.device)

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise NotFitted(f"this {type(self).__name__} is not fitted yet; call fit first")

    @abc.abstractmethod
    def _train(
        self, data: ImageData, validation: ImageData | None, loop: Loop
    ) -> tuple[PixelClassifier, list[EpochProgress]]:
        """The trained network (on the loop's device, in eval mode) and each epoch's progress."""

    @abc.abstractmethod
    def _network(self, channels: int, classes: int, mean: list[float], scale: list[float]) -> PixelClassifier:
        """A new network for `channels`-channel images of `classes` classes, on the CPU."""

    def _inference_batch(self, device: torch.device) -> int:
        """Images per forward pass when predicting on `device`."""
        return self.batch_size

    def _stored(self) -> Mapping[str, torch.Tensor]:
        """The tensors an archive holds: the whole state dict unless a family can rebuild part of it."""
        return self.network_.state_dict()

    def _restore(self, network: PixelClassifier, state: Mapping[str, torch.Tensor]) -> None:
        """Load what `_stored` kept into a new network."""
        network.load_state_dict(state)


def training_data(X: Pixels | ImageData, y: Sequence[object] | NDArray[Any] | None) -> ImageData:
    """Labelled arrays as images in memory, or the ImageData as it is (streamed, never read whole here)."""
    if y is not None:
        data: ImageData = labelled(check_pixels(X), y)
    elif isinstance(X, np.ndarray):
        raise InvalidImages("fit(X) without y needs an ImageData; arrays need their labels y")
    else:
        data = X
    if len(data.classes) < 2:
        raise InvalidImages(f"a classifier needs at least 2 classes; the data has {len(data.classes)}")
    return data


def probabilities(
    network: PixelClassifier, pixels: NDArray[np.uint8], batch_size: int, classes: int
) -> NDArray[np.float32]:
    """N x `classes` probabilities of uint8 pixels, batch by batch, in eval and inference mode."""
    device = network.mean.device
    network.eval()
    outputs = [np.zeros((0, classes), dtype=np.float32)]
    with torch.inference_mode():
        for start in range(0, len(pixels), batch_size):
            batch = torch.tensor(pixels[start : start + batch_size]).to(device)  # a copy: views may be read-only
            outputs.append(network(batch).float().cpu().numpy())
    return np.concatenate(outputs)


def validation_accuracy(
    network: PixelClassifier, validation: ImageData | None, batch_size: int, classes: tuple[str, ...]
) -> Callable[[], float] | None:
    """A measure of the network's accuracy on the validation images, or None without them."""
    if validation is None:
        return None
    data, names = validation, np.asarray(classes)

    def measure() -> float:
        hits, total = 0, 0
        truth = np.asarray(data.classes)
        for pixels, labels in data.batches(batch_size):
            predicted = names[probabilities(network, pixels, batch_size, len(names)).argmax(axis=1)]
            hits += int((predicted == truth[labels]).sum())
            total += len(labels)
        return hits / total if total else 0.0

    return measure


def pixel_batches(
    data: ImageData, batch_size: int, seed: int, device: torch.device, *, augment: bool
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An epoch's shuffled batches on the device; moved by up to a tenth of a side and, for colour, mirrored.

    A mirrored digit is another glyph, so grey images are only moved.
    """
    generator = torch.Generator().manual_seed(seed)
    height, width, channels = data.shape
    shift = max(1, min(height, width) // 10)
    for pixels, labels in data.batches(batch_size, shuffle=True, seed=seed):
        inputs = torch.tensor(pixels).to(device, non_blocking=True)  # a copy: views may be read-only
        if augment:
            inputs = shifted(inputs, shift, channels == 3, generator)
        yield inputs, torch.tensor(labels, dtype=torch.int64).to(device, non_blocking=True)


def _check_int(name: str, value: object, least: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"{name}={value!r}; expected an integer of at least {least}")


def _json(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as JSON values (tuples as lists), as archives and checkpoints hold them."""
    return {name: list(value) if isinstance(value, tuple) else value for name, value in params.items()}
