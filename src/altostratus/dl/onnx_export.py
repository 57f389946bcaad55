"""A classifier as an ONNX model, and the serving side that runs one with ONNX Runtime alone.

`export_onnx` traces the family's `torch_module` (pixels in, probabilities out, the normalisation and any
resize inside) with opset 17 and a dynamic batch, and writes what serving needs into the model's metadata: the
family, the classes (JSON) and the input shape (JSON). `OnnxClassifier` reads it back and needs no torch: torch
and onnx are imported only inside `export_onnx`.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from typing import Any, Protocol

import numpy as np
import onnxruntime
from numpy.typing import NDArray

from altostratus.dl.artifact import ArtifactInvalid
from altostratus.dl.images import InvalidImages, Pixels, check_pixels

OPSET = 17
INPUT = "pixels"
OUTPUT = "probabilities"
METADATA = ("family", "classes", "input_shape")
BATCH = 256  # images per run: bounds the float32 copy of the input


class Exportable(Protocol):
    """A fitted classifier that can give its computation as a torch module."""

    family: str
    classes_: tuple[str, ...]
    shape_: tuple[int, int, int]

    def torch_module(self) -> Any:
        """A torch.nn.Module from float32 N x H x W x C pixels (0-255) to N x K probabilities."""
        ...


def export_onnx(classifier: Exportable) -> bytes:
    """The classifier as ONNX bytes: input "pixels" float32 [N, H, W, C], output "probabilities" [N, K]."""
    import onnx
    import torch

    module = classifier.torch_module()
    example = torch.zeros((2, *classifier.shape_), dtype=torch.float32)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            module.eval(),
            (example,),
            buffer,  # type: ignore[arg-type]  # a file object is accepted, as the docs say
            input_names=[INPUT],
            output_names=[OUTPUT],
            dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load_from_string(buffer.getvalue())
    metadata = {
        "family": classifier.family,
        "classes": json.dumps(list(classifier.classes_)),
        "input_shape": json.dumps(list(classifier.shape_)),
    }
    onnx.helper.set_model_props(model, metadata)
    return model.SerializeToString()  # type: ignore[no-any-return]


class OnnxClassifier:
    """An exported classifier run by ONNX Runtime on the CPU: predict_proba and predict of uint8 N x H x W x C."""

    def __init__(self, model: bytes) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        try:
            self._session = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own unexported exception types
            raise ArtifactInvalid(f"not an ONNX model: {error}") from None
        found = self._session.get_modelmeta().custom_metadata_map
        missing = [key for key in METADATA if key not in found]
        if missing:
            raise ArtifactInvalid(f"the ONNX model lacks the metadata {missing}; export it with export_onnx")
        self.family: str = found["family"]
        self.classes_ = tuple(str(name) for name in json.loads(found["classes"]))
        height, width, channels = (int(size) for size in json.loads(found["input_shape"]))
        self.shape_ = (height, width, channels)

    def predict_proba(self, X: Pixels) -> NDArray[np.float32]:
        """N x K class probabilities, in the order of `classes_`."""
        pixels = check_pixels(X)
        if pixels.shape[1:] != self.shape_:
            raise InvalidImages(f"images have shape {pixels.shape[1:]}; this model takes {self.shape_}")
        outputs = [np.zeros((0, len(self.classes_)), dtype=np.float32)]
        for start in range(0, len(pixels), BATCH):
            batch = pixels[start : start + BATCH].astype(np.float32)
            outputs.append(np.asarray(self._session.run([OUTPUT], {INPUT: batch})[0], dtype=np.float32))
        return np.concatenate(outputs)

    def predict(self, X: Pixels) -> NDArray[np.str_]:
        """The most probable class of each image."""
        names: NDArray[np.str_] = np.asarray(self.classes_)[self.predict_proba(X).argmax(axis=1)]
        return names
