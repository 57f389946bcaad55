"""The linear family: MNIST accuracy for both losses, their gradients, thresholds, save/load and ONNX export."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from altostratus.dl.classifier import EpochProgress, NotFitted
from altostratus.dl.families import load_classifier
from altostratus.dl.families.linear import LinearClassifier, _hinge_gradient, _softmax_gradient
from altostratus.dl.images import InvalidImages
from tests.dl.conftest import OnnxProbabilities, Split

Gradient = Callable[[NDArray[np.float32], NDArray[np.int64]], tuple[float, NDArray[np.float32]]]


@pytest.fixture(scope="module")
def mnist_softmax(mnist: Split) -> LinearClassifier:
    return LinearClassifier().fit(mnist[0])


def names(data: Split) -> np.ndarray:
    test = data[1]
    return np.asarray(test.classes)[test.labels]


@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_mnist_accuracy(mnist: Split, loss: str) -> None:
    train, test = mnist
    started = time.perf_counter()
    model = LinearClassifier(loss=loss).fit(train.pixels, np.asarray(train.classes)[train.labels])
    fitted = time.perf_counter()
    found = float((model.predict(test.pixels) == names(mnist)).mean())
    print(
        f"linear {loss}: accuracy {found:.3f}, fit {fitted - started:.3f} s, predict 1,000 "
        f"{time.perf_counter() - fitted:.4f} s"
    )
    assert found >= 0.88


@pytest.mark.parametrize("gradient", [_softmax_gradient, _hinge_gradient])
def test_gradients_match_finite_differences(gradient: Gradient) -> None:
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((6, 4)).astype(np.float32)
    labels = rng.integers(0, 4, 6)
    _, analytic = gradient(scores, labels)
    numeric = np.zeros_like(scores)
    for index in np.ndindex(scores.shape):
        step = np.zeros_like(scores)
        step[index] = 1e-2  # float32 scores: a smaller step drowns in rounding
        numeric[index] = (gradient(scores + step, labels)[0] - gradient(scores - step, labels)[0]) / 2e-2
    np.testing.assert_allclose(analytic, numeric, atol=1e-3)


def test_progress_each_epoch_with_a_falling_loss(digits: Split) -> None:
    seen: list[EpochProgress] = []
    LinearClassifier(epochs=5).fit(digits[0], progress=seen.append)
    assert [report.epoch for report in seen] == [1, 2, 3, 4, 5]
    assert all(report.epochs == 5 and report.validation_accuracy is None for report in seen)
    assert seen[0].loss is not None and seen[-1].loss is not None and seen[-1].loss < seen[0].loss


def test_validation_keeps_the_best_epoch_and_stops_early(digits: Split) -> None:
    train, test = digits
    seen: list[EpochProgress] = []
    model = LinearClassifier(epochs=200, patience=2).fit(train, validation=test, progress=seen.append)
    assert len(seen) < 200
    best = max(report.validation_accuracy or 0.0 for report in seen)
    assert float((model.predict(test.pixels) == names(digits)).mean()) == pytest.approx(best)


def test_standardisation_is_the_mean_image_and_one_scale(digits: Split) -> None:
    train = digits[0]
    model = LinearClassifier(epochs=1).fit(train)
    flat = train.pixels.reshape(len(train), -1).astype(np.float64)
    np.testing.assert_allclose(model.mean_, flat.mean(axis=0), rtol=1e-5)
    assert model.scale_ == pytest.approx((flat - flat.mean(axis=0)).std(), rel=1e-5)


def test_probabilities_are_a_softmax_whose_argmax_is_predict(digits: Split) -> None:
    model = LinearClassifier(loss="svm", epochs=3).fit(digits[0])
    probabilities = model.predict_proba(digits[1].pixels)
    assert probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        np.asarray(model.classes_)[probabilities.argmax(axis=1)], model.predict(digits[1].pixels)
    )


def test_default_thresholds_detect_the_predicted_class(digits: Split) -> None:
    model = LinearClassifier(epochs=3).fit(digits[0])
    detected = model.detect(digits[1].pixels)
    np.testing.assert_array_equal(
        detected, np.asarray(model.classes_)[None, :] == model.predict(digits[1].pixels)[:, None]
    )


def test_raising_a_threshold_lowers_recall_and_false_positives(mnist: Split, mnist_softmax: LinearClassifier) -> None:
    truth = names(mnist) == "8"
    recalls, false_positives = [], []
    for threshold in (0.2, 0.5, 0.9):
        detected = mnist_softmax.set_thresholds({"8": threshold}).detect(mnist[1].pixels)[
            :, mnist_softmax.classes_.index("8")
        ]
        recalls.append(float(detected[truth].mean()))
        false_positives.append(int(detected[~truth].sum()))
    mnist_softmax.set_thresholds({"8": 0.0})
    assert recalls == sorted(recalls, reverse=True) and recalls[0] > recalls[-1]
    assert false_positives == sorted(false_positives, reverse=True) and false_positives[0] > false_positives[-1]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"cat": 0.5}, r"'cat'.*\['0', '1'"),
        ({"3": 1.5}, r"'3' is 1.5"),
        ({"3": -0.1}, "from 0 to 1"),
        ({"3": "high"}, "'high'"),
    ],
)
def test_bad_thresholds_are_named(digits: Split, mapping: dict[str, object], message: str) -> None:
    model = LinearClassifier(epochs=1).fit(digits[0])
    with pytest.raises(ValueError, match=message):
        model.set_thresholds({"1": 0.5, **mapping})  # type: ignore[dict-item]
    assert not model.thresholds_.any()


def test_save_and_load_give_the_same_probabilities_and_thresholds(digits: Split) -> None:
    train, test = digits
    model = LinearClassifier(loss="svm", epochs=3).fit(train).set_thresholds({"4": 0.3})
    loaded = load_classifier(model.save())
    assert isinstance(loaded, LinearClassifier)
    assert (loaded.loss, loaded.epochs, loaded.classes_, loaded.shape_) == ("svm", 3, model.classes_, (8, 8, 1))
    np.testing.assert_array_equal(loaded.predict_proba(test.pixels), model.predict_proba(test.pixels))
    np.testing.assert_array_equal(loaded.detect(test.pixels), model.detect(test.pixels))


def test_predict_save_and_thresholds_before_fit_raise_not_fitted(digits: Split) -> None:
    model = LinearClassifier()
    for call in (lambda: model.predict(digits[1].pixels), model.save, lambda: model.set_thresholds({"1": 0.5})):
        with pytest.raises(NotFitted):
            call()


def test_images_of_another_shape_are_invalid(digits: Split) -> None:
    model = LinearClassifier(epochs=1).fit(digits[0])
    with pytest.raises(InvalidImages, match=r"\(8, 8, 1\)"):
        model.detect(np.zeros((2, 28, 28, 1), dtype=np.uint8))


def test_a_single_class_is_invalid(digits: Split) -> None:
    with pytest.raises(InvalidImages, match="2 classes"):
        LinearClassifier().fit(digits[0].pixels[:10], ["7"] * 10)
    with pytest.raises(InvalidImages, match="2 classes"):
        LinearClassifier().fit(digits[0].subset(np.flatnonzero(digits[0].labels == 7)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"loss": "hinge"}, r"'hinge'.*\['softmax', 'svm'\]"),
        ({"learning_rate": -1.0}, "learning_rate=-1.0"),
        ({"epochs": 0}, "epochs=0"),
        ({"momentum": 1.0}, "momentum"),
        ({"seed": 1.5}, "seed=1.5"),
    ],
)
def test_bad_parameters_are_named_in_fit(digits: Split, params: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LinearClassifier(**params).fit(digits[0])  # type: ignore[arg-type]


@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_onnx_export_gives_the_same_probabilities(
    digits: Split, onnx_probabilities: OnnxProbabilities, loss: str
) -> None:
    model = LinearClassifier(loss=loss, epochs=3).fit(digits[0])
    pixels = digits[1].pixels[:20]
    np.testing.assert_allclose(onnx_probabilities(model.torch_module(), pixels), model.predict_proba(pixels), atol=1e-4)


def test_importing_the_family_does_not_import_torch() -> None:
    code = "import sys, altostratus.dl.families.linear; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
