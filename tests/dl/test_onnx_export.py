"""ONNX export of the deep families and the serving side: the same probabilities from ONNX Runtime, no torch."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from altostratus.dl.artifact import ArtifactInvalid
from altostratus.dl.families.cnn import ConvNet
from altostratus.dl.images import InvalidImages
from altostratus.dl.onnx_export import OnnxClassifier, export_onnx
from tests.dl.conftest import Split, Trained

SERVE = """
import sys
import numpy as np
from altostratus.dl.onnx_export import OnnxClassifier
model = OnnxClassifier(open(sys.argv[1], "rb").read())
pixels = np.load(sys.argv[2])
np.save(sys.argv[3], model.predict_proba(pixels))
sys.exit(3 if "torch" in sys.modules else 0)
"""


def per_image(predict: Callable[[Any], Any], pixels: np.ndarray) -> float:
    """Milliseconds an image, one image a call, after a first call that warms up."""
    predict(pixels[:1])
    started = time.perf_counter()
    for index in range(len(pixels)):
        predict(pixels[index : index + 1])
    return (time.perf_counter() - started) * 1000 / len(pixels)


@pytest.fixture(scope="module")
def exported(small_cnn: ConvNet, digits_transfer: Trained) -> dict[str, Any]:
    return {"cnn": small_cnn, "transfer": digits_transfer.model}


@pytest.mark.parametrize("family", ["cnn", "transfer"])
def test_onnx_runtime_gives_torch_probabilities(digits: Split, exported: dict[str, Any], family: str) -> None:
    model = exported[family]
    serving = OnnxClassifier(export_onnx(model))
    pixels = digits[1].pixels
    np.testing.assert_allclose(serving.predict_proba(pixels), model.predict_proba(pixels), atol=1e-4)
    np.testing.assert_array_equal(serving.predict(pixels), model.predict(pixels))
    sample = pixels[:20]
    print(
        f"{family}: torch {per_image(model.predict_proba, sample):.2f} ms an image, "
        f"onnxruntime {per_image(serving.predict_proba, sample):.2f} ms"
    )


@pytest.mark.parametrize("family", ["cnn", "transfer"])
def test_the_metadata_names_family_classes_and_shape(exported: dict[str, Any], family: str) -> None:
    model = exported[family]
    serving = OnnxClassifier(export_onnx(model))
    assert (serving.family, serving.classes_, serving.shape_) == (family, model.classes_, (8, 8, 1))


def test_the_batch_is_dynamic_and_shapes_are_checked(digits: Split, small_cnn: ConvNet) -> None:
    serving = OnnxClassifier(export_onnx(small_cnn))
    for count in (0, 1, 300):
        pixels = np.resize(digits[1].pixels, (count, 8, 8, 1))
        assert serving.predict_proba(pixels).shape == (count, 10)
    with pytest.raises(InvalidImages, match=r"\(8, 8, 1\)"):
        serving.predict(np.zeros((1, 28, 28, 1), dtype=np.uint8))


def test_bytes_that_are_not_an_exported_model_are_refused() -> None:
    with pytest.raises(ArtifactInvalid, match="not an ONNX model"):
        OnnxClassifier(b"not onnx")


def test_serving_runs_without_torch(digits: Split, small_cnn: ConvNet, tmp_path: Path) -> None:
    model, pixels, found = tmp_path / "model.onnx", tmp_path / "pixels.npy", tmp_path / "found.npy"
    model.write_bytes(export_onnx(small_cnn))
    np.save(pixels, digits[1].pixels[:10])
    command = [sys.executable, "-c", SERVE, str(model), str(pixels), str(found)]
    assert subprocess.run(command, check=False).returncode == 0
    np.testing.assert_allclose(np.load(found), small_cnn.predict_proba(digits[1].pixels[:10]), atol=1e-4)
