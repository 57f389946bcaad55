"""The runner for image models: a registered ONNX export of a trained image classifier, run by ONNX Runtime.

Serving needs no torch: the artifact is the family's ONNX export (altostratus.dl.onnx_export), whose metadata
names its classes and the image shape it takes; every uploaded image is decoded the way training decoded its
images (altostratus.dl.decoding), so a served prediction is the one the experiment measured.

The label of each image is its most probable class. The per-class thresholds chosen in training are recorded
with the version (its parameters) for detection-style callers, as Custom Labels uses them for MinConfidence;
a classifier endpoint answers the class, and the probabilities let a caller apply its own threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from altostratus.deploy.image_payloads import image_formats, read_images, write_image_predictions
from altostratus.deploy.payloads import Formats, UnreadableBody
from altostratus.deploy.runners import Answer
from altostratus.dl.artifact import ArtifactInvalid
from altostratus.dl.decoding import decode_image
from altostratus.dl.errors import UnreadableImage
from altostratus.dl.onnx_export import OnnxClassifier


class NotAnImageModel(ValueError):
    """The bytes are not an ONNX image classifier exported by altostratus.dl."""


class ImageRunner:
    """An ONNX image classifier answering image bodies with each image's label and class probabilities."""

    def __init__(self, classifier: OnnxClassifier) -> None:
        self._classifier = classifier

    @classmethod
    def from_artifact(cls, data: bytes) -> ImageRunner:
        """The runner of an ONNX export's bytes; NotAnImageModel saying why they are not one."""
        try:
            return cls(OnnxClassifier(data))
        except ArtifactInvalid as invalid:
            raise NotAnImageModel(invalid.message) from None

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names the model tells apart."""
        return self._classifier.classes_

    def formats(self, content_type: str | None, accept: str | None) -> Formats:
        """The request's body type (an image or JSON of base64 images) and the answer's type."""
        return image_formats(content_type, accept)

    def answer(self, body: bytes, formats: Formats) -> Answer:
        """Each image's prediction, in the answer's type; the predicted labels are the outcomes."""
        predictions = self.predict(read_images(body, formats.body))
        labels: list[str | float] = [prediction["label"] for prediction in predictions]
        return Answer(write_image_predictions(predictions, formats.answer), formats.answer, labels)

    def predict(self, images: Sequence[tuple[str, bytes]]) -> list[dict[str, Any]]:
        """The label, its probability and every class's probability of each encoded image (with where it came
        from in the request, for messages), scored together."""
        shape = self._classifier.shape_
        pixels = []
        for where, image in images:
            try:
                pixels.append(decode_image(image, shape))
            except UnreadableImage as unreadable:
                raise UnreadableBody(f"{where} is not an image: {unreadable.message}") from None
        probabilities = self._classifier.predict_proba(np.stack(pixels))
        classes = self._classifier.classes_
        predictions = []
        for row in probabilities:
            best = int(row.argmax())
            predictions.append(
                {
                    "label": classes[best],
                    "probability": float(row[best]),
                    "probabilities": {name: float(p) for name, p in zip(classes, row, strict=True)},
                }
            )
        return predictions
