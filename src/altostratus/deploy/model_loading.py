"""Which runner serves a registry version: the kind of source it was registered from decides.

- `ml-model`: a predict model (its artifact, checked again on load), scored with its score threshold.
- `dl-experiment`: an image classifier's ONNX export, run by ONNX Runtime (image_runner.py).
- `lake`: an object registered from s3:// holds either; it is served as whichever its bytes are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.image_payloads import IMAGE_CONTENT_TYPES
from altostratus.deploy.image_runner import ImageRunner, NotAnImageModel
from altostratus.deploy.payloads import CONTENT_TYPES
from altostratus.deploy.runners import ModelRunner, PredictRunner
from altostratus.predict import ArtifactCorrupt, Predictor
from altostratus.predict.artifacts import load_model

IMAGE_MODEL = "dl-experiment"
LAKE_OBJECT = "lake"


def open_runner(source: Mapping[str, Any], data: bytes, name: str) -> ModelRunner:
    """The runner of a version's artifact (`name`: the version's ARN, for messages); InvalidValue if the artifact
    holds no model of the kind its source says."""
    kind = source.get("kind")
    if kind == IMAGE_MODEL:
        try:
            return ImageRunner.from_artifact(data)
        except NotAnImageModel as error:
            raise InvalidValue(f"ModelPackage {name} does not hold an image model: {error}") from None
    if kind != LAKE_OBJECT:
        return PredictRunner(predictor_of(source, data, name))
    try:
        return PredictRunner(_predictor(source, data))
    except ArtifactCorrupt as not_predict:
        try:
            return ImageRunner.from_artifact(data)
        except NotAnImageModel as not_image:
            raise InvalidValue(
                f"ModelPackage {name} does not hold a predict model ({not_predict.message}) "
                f"nor an image model ({not_image})"
            ) from None


def content_types(source: Mapping[str, Any]) -> list[str]:
    """The request body types a version's kind of model reads (an object from the lake: a predict model's)."""
    return list(IMAGE_CONTENT_TYPES if source.get("kind") == IMAGE_MODEL else CONTENT_TYPES)


def predictor_of(source: Mapping[str, Any], data: bytes, name: str) -> Predictor:
    """The predict model in a version's artifact, with its score threshold; InvalidValue if it holds none."""
    try:
        return _predictor(source, data)
    except ArtifactCorrupt as corrupt:
        raise InvalidValue(f"ModelPackage {name} does not hold a predict model: {corrupt.message}") from None


def _predictor(source: Mapping[str, Any], data: bytes) -> Predictor:
    return Predictor(load_model(data), score_threshold=float(source.get("score_threshold", 0.5)))
