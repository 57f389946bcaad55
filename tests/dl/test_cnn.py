"""The CNN family: MNIST accuracy, the device, streaming, early stopping, checkpoints and resume, save/load."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from numpy.typing import NDArray

from altostratus.dl import artifact
from altostratus.dl.classifier import EpochProgress, NotFitted
from altostratus.dl.families import load_classifier
from altostratus.dl.families.cnn import ConvNet
from altostratus.dl.images import ArrayImages, InvalidImages
from tests.dl.conftest import MemoryCheckpoints, Split, Trained

SMALL = {"widths": (8, 16), "epochs": 3, "batch_size": 64, "threads": 2}


class Interrupted(Exception):
    """What the progress callback raises to stop a fit, as a killed process would."""


class Streamed:
    """An ImageData that only hands out batches, and notes each pass it is asked for."""

    def __init__(self, data: ArrayImages) -> None:
        self._data = data
        self.classes = data.classes
        self.shape = data.shape
        self.passes: list[tuple[int, bool, int]] = []

    def __len__(self) -> int:
        return len(self._data)

    def batches(
        self, size: int, shuffle: bool = False, seed: int = 0
    ) -> Iterator[tuple[NDArray[np.uint8], NDArray[np.int64]]]:
        self.passes.append((size, shuffle, seed))
        return self._data.batches(size, shuffle=shuffle, seed=seed)


def accuracy(model: Any, test: ArrayImages) -> float:
    return float((model.predict(test.pixels) == np.asarray(test.classes)[test.labels]).mean())


@pytest.mark.slow
def test_mnist_accuracy_and_the_device(mnist: Split, mnist_cnn: Trained) -> None:
    found = accuracy(mnist_cnn.model, mnist[1])
    print(f"cnn: accuracy {found:.3f}, fit {mnist_cnn.seconds:.1f} s on {mnist_cnn.model.device_}")
    assert found >= 0.97
    assert mnist_cnn.model.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.slow
def test_progress_each_epoch_with_a_falling_loss(mnist_cnn: Trained) -> None:
    seen = mnist_cnn.history
    assert [report.epoch for report in seen] == list(range(1, 11))
    assert all(report.epochs == 10 and report.validation_accuracy is None for report in seen)
    assert seen[0].loss is not None and seen[-1].loss is not None and seen[-1].loss < seen[0].loss / 5
    assert all(report.images_per_second > 0 for report in seen)


def test_a_streamed_dataset_is_read_batch_by_batch_with_a_seed_per_epoch(digits: Split) -> None:
    data = Streamed(digits[0])
    model = ConvNet(**SMALL, seed=7).fit(data)  # type: ignore[arg-type]
    # one pass for the normalisation, then one shuffled pass per epoch seeded by seed + epoch
    assert data.passes == [(64, True, 7), (64, True, 7), (64, True, 8), (64, True, 9)]
    assert accuracy(model, digits[1]) > 0.5


def test_validation_keeps_the_best_epoch_and_stops_early(digits: Split) -> None:
    train, test = digits
    seen: list[EpochProgress] = []
    model = ConvNet(**{**SMALL, "epochs": 30}, learning_rate=0.05, patience=1)
    model.fit(train, validation=test, progress=seen.append)
    assert len(seen) < 30
    best = max(report.validation_accuracy or 0.0 for report in seen)
    assert accuracy(model, test) == pytest.approx(best)


def test_an_interrupted_fit_resumes_from_its_checkpoint(digits: Split) -> None:
    train, test = digits
    params = {**SMALL, "epochs": 4}
    checkpoints = MemoryCheckpoints()

    def stop_after_two(report: EpochProgress) -> None:
        if report.epoch == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        ConvNet(**params).fit(train, validation=test, progress=stop_after_two, checkpoint=checkpoints)
    assert checkpoints.saves == 2
    seen: list[EpochProgress] = []
    resumed = ConvNet(**params).fit(train, validation=test, progress=seen.append, checkpoint=checkpoints)
    assert [report.epoch for report in seen] == [3, 4]
    assert [report.epoch for report in resumed.history_] == [1, 2, 3, 4]
    assert accuracy(resumed, test) > 0.8
    # every draw is seeded by the epoch: the resumed fit is the uninterrupted one
    whole = ConvNet(**params).fit(train, validation=test)
    np.testing.assert_allclose(resumed.predict_proba(test.pixels), whole.predict_proba(test.pixels), atol=1e-5)


def test_a_finished_fit_resumed_trains_no_more(digits: Split) -> None:
    checkpoints = MemoryCheckpoints()
    first = ConvNet(**SMALL).fit(digits[0], checkpoint=checkpoints)
    seen: list[EpochProgress] = []
    again = ConvNet(**SMALL).fit(digits[0], progress=seen.append, checkpoint=checkpoints)
    assert seen == [] and checkpoints.saves == 3
    pixels = digits[1].pixels
    np.testing.assert_array_equal(again.predict_proba(pixels), first.predict_proba(pixels))


def test_a_checkpoint_of_another_fit_is_refused(digits: Split) -> None:
    checkpoints = MemoryCheckpoints()
    ConvNet(**{**SMALL, "epochs": 1}).fit(digits[0], checkpoint=checkpoints)
    with pytest.raises(artifact.ArtifactInvalid, match="another fit"):
        ConvNet(**{**SMALL, "epochs": 1, "widths": (8, 8)}).fit(digits[0], checkpoint=checkpoints)


def test_save_and_load_give_the_same_probabilities(digits: Split, small_cnn: ConvNet) -> None:
    loaded = load_classifier(small_cnn.save())
    assert isinstance(loaded, ConvNet)
    assert (loaded.widths, loaded.classes_, loaded.shape_) == ([8, 16], small_cnn.classes_, (8, 8, 1))
    pixels = digits[1].pixels
    np.testing.assert_array_equal(loaded.predict_proba(pixels), small_cnn.predict_proba(pixels))


def test_the_torch_module_computes_predict_proba(digits: Split, small_cnn: ConvNet) -> None:
    pixels = digits[1].pixels[:50]
    with torch.inference_mode():
        found = small_cnn.torch_module()(torch.from_numpy(pixels.astype(np.float32))).numpy()
    np.testing.assert_allclose(found, small_cnn.predict_proba(pixels), atol=1e-6)
    np.testing.assert_allclose(found.sum(axis=1), 1.0, rtol=1e-5)


def test_the_normalisation_is_measured_per_channel(digits: Split, small_cnn: ConvNet) -> None:
    flat = digits[0].pixels.astype(np.float64).ravel()
    network = small_cnn.torch_module()
    assert network.mean.flatten().tolist() == pytest.approx([flat.mean()], rel=1e-4)
    assert network.scale.flatten().tolist() == pytest.approx([flat.std()], rel=1e-4)


def test_init_only_stores_and_predict_before_fit_raises_not_fitted(digits: Split) -> None:
    model = ConvNet(widths=(), epochs=-1)
    assert model.get_params()["widths"] == () and model.epochs == -1
    with pytest.raises(NotFitted):
        ConvNet().predict(digits[1].pixels)
    with pytest.raises(NotFitted):
        ConvNet().save()


def test_images_of_another_shape_are_invalid(digits: Split, mnist: Split, small_cnn: ConvNet) -> None:
    with pytest.raises(InvalidImages, match=r"\(8, 8, 1\)"):
        small_cnn.predict(np.zeros((2, 28, 28, 1), dtype=np.uint8))
    with pytest.raises(InvalidImages, match=r"validation images have shape \(28, 28, 1\)"):
        ConvNet(**SMALL).fit(digits[0], validation=mnist[1])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"widths": ()}, "widths=()"),
        ({"widths": (8, 0)}, r"widths=\(8, 0\)"),
        ({"blocks_per_stage": 0}, "blocks_per_stage=0"),
        ({"epochs": 0}, "epochs=0"),
        ({"batch_size": 1.5}, "batch_size=1.5"),
        ({"learning_rate": 0}, "learning_rate=0"),
        ({"weight_decay": -1}, "weight_decay=-1"),
        ({"patience": 0}, "patience=0"),
        ({"device": "tpu"}, r"device='tpu'.*'auto', 'cpu', 'cuda'"),
        ({"threads": 0}, "threads=0"),
    ],
)
def test_bad_parameters_are_named_in_fit(digits: Split, params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConvNet(**params).fit(digits[0])  # type: ignore[arg-type]


def test_a_single_class_is_invalid(digits: Split) -> None:
    with pytest.raises(InvalidImages, match="2 classes"):
        ConvNet().fit(digits[0].pixels[:10], ["7"] * 10)
