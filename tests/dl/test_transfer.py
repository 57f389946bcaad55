"""The transfer family: frozen and fine-tuned EfficientNet-Lite0 on digits and CIFAR-10, archives, resume."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from altostratus.dl import artifact
from altostratus.dl.classifier import EpochProgress, NotFitted
from altostratus.dl.families import load_classifier
from altostratus.dl.families.cnn import ConvNet
from altostratus.dl.families.transfer import TransferClassifier, efficientnet_lite0
from altostratus.dl.images import ArrayImages, InvalidImages
from tests.dl.conftest import MemoryCheckpoints, Split, Trained, split

CIFAR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "images" / "cifar10_subset" / "train"


class Interrupted(Exception):
    """What the progress callback raises to stop a fit."""


def accuracy(model: TransferClassifier | ConvNet, test: ArrayImages) -> float:
    return float((model.predict(test.pixels) == np.asarray(test.classes)[test.labels]).mean())


@pytest.fixture(scope="module")
def cifar() -> Split:
    """The 2,000 CIFAR-10 JPEGs (200 a class, 32 x 32): 1,600 to train, 400 to test, stratified."""
    if not CIFAR.is_dir():
        pytest.skip(f"the CIFAR-10 subset is not at {CIFAR} (the shared data folder is absent)")
    folders = sorted(path for path in CIFAR.iterdir() if path.is_dir())
    pixels, labels = [], []
    for label, folder in enumerate(folders):
        for path in sorted(folder.glob("*.jpg")):
            with Image.open(path) as image:
                pixels.append(np.asarray(image.convert("RGB")))
            labels.append(label)
    return split(np.stack(pixels), np.asarray(labels), 400)


def test_frozen_features_learn_the_digits(digits: Split, digits_transfer: Trained) -> None:
    found = accuracy(digits_transfer.model, digits[1])
    print(f"transfer frozen, size 96, digits: accuracy {found:.3f}, fit {digits_transfer.seconds:.1f} s")
    assert found >= 0.93
    assert digits_transfer.model.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_frozen_archive_holds_the_head_alone_and_loads_the_same(digits: Split, digits_transfer: Trained) -> None:
    model = digits_transfer.model
    data = model.save()
    _, config, arrays = artifact.unpack(data)
    assert sorted(arrays) == ["mean", "network.head.1.bias", "network.head.1.weight", "scale"]
    assert (config["mean"], config["scale"], config["shape"]) == ([127.0] * 3, [128.0] * 3, [8, 8, 1])
    loaded = load_classifier(data)
    assert isinstance(loaded, TransferClassifier)
    pixels = digits[1].pixels
    np.testing.assert_array_equal(loaded.predict_proba(pixels), model.predict_proba(pixels))


def test_fine_tuning_changes_the_backbone_and_the_archive_keeps_it(digits: Split) -> None:
    train, test = digits
    model = TransferClassifier(size=32, fine_tune=True, epochs=1, batch_size=32, threads=2)
    model.fit(train.subset(np.arange(256)))
    original = efficientnet_lite0(32).state_dict()
    tuned = model.torch_module().network.backbone.state_dict()
    assert not torch.equal(original["_conv_stem.weight"], tuned["_conv_stem.weight"])
    # the batch norms keep ImageNet's statistics
    assert torch.equal(original["_bn0.running_mean"], tuned["_bn0.running_mean"])
    loaded = load_classifier(model.save())
    np.testing.assert_array_equal(loaded.predict_proba(test.pixels[:64]), model.predict_proba(test.pixels[:64]))


def test_an_interrupted_frozen_fit_resumes_from_its_checkpoint(digits: Split) -> None:
    train, test = digits[0].subset(np.arange(400)), digits[1]
    params = {"size": 32, "epochs": 6, "learning_rate": 0.01, "threads": 2}
    checkpoints = MemoryCheckpoints()

    def stop_after_two(report: EpochProgress) -> None:
        if report.epoch == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        TransferClassifier(**params).fit(train, progress=stop_after_two, checkpoint=checkpoints)  # type: ignore[arg-type]
    seen: list[EpochProgress] = []
    resumed = TransferClassifier(**params).fit(train, progress=seen.append, checkpoint=checkpoints)  # type: ignore[arg-type]
    assert [report.epoch for report in seen] == [3, 4, 5, 6]
    whole = TransferClassifier(**params).fit(train)  # type: ignore[arg-type]
    np.testing.assert_allclose(resumed.predict_proba(test.pixels), whole.predict_proba(test.pixels), atol=1e-5)


def test_grey_images_enter_the_backbone_as_three_equal_channels(digits_transfer: Trained) -> None:
    module = digits_transfer.model.torch_module()
    grey = torch.arange(64, dtype=torch.float32).reshape(1, 8, 8, 1) * 4
    prepared = module.prepare(grey)
    assert prepared.shape == (1, 3, 96, 96)
    assert torch.equal(prepared[:, 0], prepared[:, 1]) and torch.equal(prepared[:, 0], prepared[:, 2])
    assert float(prepared.min()) == pytest.approx(-127 / 128)


def test_predict_before_fit_raises_not_fitted_and_shapes_are_checked(digits_transfer: Trained) -> None:
    with pytest.raises(NotFitted):
        TransferClassifier().predict(np.zeros((1, 8, 8, 1), dtype=np.uint8))
    with pytest.raises(InvalidImages, match=r"\(8, 8, 1\)"):
        digits_transfer.model.predict(np.zeros((1, 8, 8, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"size": 16}, "size=16"),
        ({"dropout": 1.0}, "dropout=1.0"),
        ({"backbone_learning_rate": 0.0}, "backbone_learning_rate=0.0"),
        ({"epochs": 0}, "epochs=0"),
        ({"device": "gpu"}, "device='gpu'"),
    ],
)
def test_bad_parameters_are_named_in_fit(digits: Split, params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TransferClassifier(**params).fit(digits[0])  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_cifar_fine_tuned_transfer_beats_frozen_features_and_the_cnn(cifar: Split) -> None:
    train, test = cifar
    found: dict[str, float] = {}
    for name, model in [
        ("transfer frozen, size 128", TransferClassifier(size=128, threads=2)),
        ("transfer fine-tuned, size 128", TransferClassifier(size=128, fine_tune=True, epochs=4, batch_size=32)),
        ("cnn (32, 64, 128)", ConvNet(epochs=10, threads=2)),
    ]:
        started = time.perf_counter()
        model.fit(train)
        found[name] = accuracy(model, test)
        print(f"{name}, CIFAR-10 1,600/400: accuracy {found[name]:.3f}, fit {time.perf_counter() - started:.0f} s")
    assert found["transfer fine-tuned, size 128"] >= 0.80
    assert found["transfer frozen, size 128"] >= 0.65
    assert found["cnn (32, 64, 128)"] < found["transfer fine-tuned, size 128"]
