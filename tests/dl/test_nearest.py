"""Nearest neighbour on pixels: MNIST accuracy, the estimator contract, the vote, save/load and ONNX export."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from altostratus.dl.classifier import EpochProgress, NotFitted
from altostratus.dl.families import load_classifier
from altostratus.dl.families.nearest import NearestNeighbour
from altostratus.dl.images import InvalidImages
from tests.dl.conftest import OnnxProbabilities, Split


def accuracy(model: NearestNeighbour, data: Split) -> float:
    test = data[1]
    return float((model.predict(test.pixels) == np.asarray(test.classes)[test.labels]).mean())


@pytest.mark.parametrize(("k", "metric", "least"), [(1, "l2", 0.93), (3, "l2", 0.93), (1, "l1", 0.9)])
def test_mnist_accuracy(mnist: Split, k: int, metric: str, least: float) -> None:
    train, _ = mnist
    started = time.perf_counter()
    model = NearestNeighbour(k=k, metric=metric).fit(train.pixels, np.asarray(train.classes)[train.labels])
    fitted = time.perf_counter()
    found = accuracy(model, mnist)
    print(
        f"nearest k={k} {metric}: accuracy {found:.3f}, fit {fitted - started:.3f} s, predict 1,000 "
        f"{time.perf_counter() - fitted:.3f} s"
    )
    assert found >= least


@pytest.mark.parametrize("metric", ["l1", "l2"])
@pytest.mark.parametrize("k", [1, 5])
def test_votes_match_scikit_learn(digits: Split, k: int, metric: str) -> None:
    train, test = digits
    ours = NearestNeighbour(k=k, metric=metric, batch_size=100).fit(train)
    theirs = KNeighborsClassifier(n_neighbors=k, p=1 if metric == "l1" else 2)
    theirs.fit(train.pixels.reshape(len(train), -1), train.labels)
    expected = theirs.predict_proba(test.pixels.reshape(len(test), -1))
    # Exact ties in distance may be ordered differently; on digits they change almost nothing.
    assert np.mean(np.abs(ours.predict_proba(test.pixels) - expected).max(axis=1) < 1e-6) > 0.99


def test_a_tied_vote_goes_to_the_nearest_class() -> None:
    pixels = np.array([0, 10, 100, 110], dtype=np.uint8).reshape(4, 1, 1, 1)
    model = NearestNeighbour(k=2).fit(pixels, ["a", "b", "b", "a"])
    queries = np.array([1, 9, 101, 109], dtype=np.uint8).reshape(4, 1, 1, 1)
    np.testing.assert_array_equal(model.predict_proba(queries), np.full((4, 2), 0.5, dtype=np.float32))
    assert model.predict(queries).tolist() == ["a", "b", "b", "a"]


def test_fit_takes_arrays_or_image_data_alike(digits: Split) -> None:
    train, test = digits
    from_data = NearestNeighbour().fit(train)
    from_arrays = NearestNeighbour().fit(train.pixels, np.asarray(train.classes)[train.labels])
    assert from_data.classes_ == from_arrays.classes_ == tuple(str(digit) for digit in range(10))
    np.testing.assert_array_equal(from_data.predict_proba(test.pixels), from_arrays.predict_proba(test.pixels))


def test_progress_is_one_pass_with_the_validation_accuracy(digits: Split) -> None:
    train, test = digits
    seen: list[EpochProgress] = []
    NearestNeighbour().fit(train, validation=test, progress=seen.append)
    assert len(seen) == 1
    assert (seen[0].epoch, seen[0].epochs, seen[0].loss) == (1, 1, None)
    assert seen[0].validation_accuracy is not None and seen[0].validation_accuracy > 0.95
    assert seen[0].images_per_second > 0


def test_save_and_load_give_the_same_probabilities(digits: Split) -> None:
    train, test = digits
    model = NearestNeighbour(k=3, metric="l1").fit(train)
    loaded = load_classifier(model.save())
    assert isinstance(loaded, NearestNeighbour)
    assert (loaded.k, loaded.metric, loaded.classes_, loaded.shape_) == (3, "l1", model.classes_, (8, 8, 1))
    np.testing.assert_array_equal(loaded.predict_proba(test.pixels), model.predict_proba(test.pixels))


def test_predict_and_save_before_fit_raise_not_fitted(digits: Split) -> None:
    model = NearestNeighbour()
    with pytest.raises(NotFitted):
        model.predict(digits[1].pixels)
    with pytest.raises(NotFitted):
        model.save()


def test_images_of_another_shape_are_invalid(digits: Split) -> None:
    model = NearestNeighbour().fit(digits[0])
    with pytest.raises(InvalidImages, match=r"\(8, 8, 1\)"):
        model.predict_proba(np.zeros((2, 8, 8, 3), dtype=np.uint8))


def test_a_single_class_is_invalid(digits: Split) -> None:
    with pytest.raises(InvalidImages, match="2 classes"):
        NearestNeighbour().fit(np.zeros((4, 8, 8, 1), dtype=np.uint8), ["7"] * 4)
    with pytest.raises(InvalidImages, match="2 classes"):
        NearestNeighbour().fit(digits[0].subset(np.flatnonzero(digits[0].labels == 7)))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"metric": "cosine"}, r"'cosine'.*\['l1', 'l2'\]"),
        ({"k": 0}, "k=0"),
        ({"k": 9}, "k=9"),
        ({"batch_size": 0}, "batch_size=0"),
    ],
)
def test_bad_parameters_are_named_in_fit(params: dict[str, object], message: str) -> None:
    model = NearestNeighbour(**params)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        model.fit(np.zeros((8, 2, 2, 1), dtype=np.uint8), ["a", "b"] * 4)


@pytest.mark.parametrize(("k", "metric"), [(3, "l2"), (1, "l1")])
def test_onnx_export_gives_the_same_probabilities(
    digits: Split, onnx_probabilities: OnnxProbabilities, k: int, metric: str
) -> None:
    train, test = digits
    model = NearestNeighbour(k=k, metric=metric).fit(train)
    pixels = test.pixels[:20]
    np.testing.assert_allclose(onnx_probabilities(model.torch_module(), pixels), model.predict_proba(pixels), atol=1e-4)


def test_importing_the_family_does_not_import_torch() -> None:
    code = "import sys, altostratus.dl.families.nearest; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
