"""dlib's face recognition ResNet: a 128-d descriptor of the face chip aligned on the 5-point shape.

dlib's descriptors are not unit length (their norms vary by a few percent from face to face); they are stored
L2-normalised, as FaceVector asks, and similarity.py is calibrated on distances between normalised vectors.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from altostratus.vision.faces.models import dlib_file

DIMENSION = 128


class FaceEmbedder:
    """The recognition net, one instance per thread: dlib's DNN keeps per-call scratch buffers in the net."""

    def __init__(self) -> None:
        self._path = str(dlib_file("dlib_face_recognition_resnet_model_v1.dat"))
        self._local = threading.local()

    def embed(self, pixels: NDArray[np.uint8], chip_shape: Any) -> NDArray[np.float32]:
        """The unit-length 128-d embedding of the face whose 5-point shape is `chip_shape`."""
        descriptor = np.asarray(self._net().compute_face_descriptor(pixels, chip_shape), dtype=np.float32)
        return normalise(descriptor)

    def _net(self) -> Any:
        net = getattr(self._local, "net", None)
        if net is None:
            import dlib

            net = dlib.face_recognition_model_v1(self._path)
            self._local.net = net
        return net


def normalise(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    """The vector scaled to unit length (a zero vector stays zero)."""
    norm = float(np.linalg.norm(vector))
    scaled: NDArray[np.float32] = (vector / norm if norm > 0 else vector).astype(np.float32)
    return scaled


def to_bytes(vector: NDArray[np.float32]) -> bytes:
    """The vector as little-endian float32 bytes."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes) -> NDArray[np.float32]:
    """The float32 vector stored little-endian in `data`."""
    if len(data) % 4:
        raise ValueError(f"A face vector is float32 values, 4 bytes each; got {len(data)} bytes")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)
