"""Invocation bodies for image models: images in, class probabilities out.

In (Content-Type):
- `image/jpeg`, `image/png` or `application/x-image` (the type SageMaker's built-in image classifier takes):
  the body is one image.
- `application/json`: `{"instances": [{"b64": "<base64 image>"}, ...]}` for several images (TensorFlow
  Serving's and SageMaker's JSON for binary inputs), or one `{"b64": ...}` object for one.
- no type (or application/octet-stream): JSON if the body starts with `{`, else one image.
Out (Accept): `application/json` (the default): `{"predictions": [...]}`, one object per image; `text/csv`:
one line per image, its label.

Each prediction is `{"label", "probability", "probabilities": {class: p}}`. SageMaker's built-in classifier
answers `{"prediction": [p0, p1, ...]}`, a list by class index whose class names the caller must know from
elsewhere; naming the classes in the answer makes it readable on its own, and `label` / `probability` give
the answer at a glance, as Rekognition's Name / Confidence do. The list is always under `predictions`, for one
image too, so a caller reads every answer the same way.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from altostratus.core import json_input
from altostratus.deploy.errors import InvalidValue
from altostratus.deploy.payloads import CSV, JSON, Formats, UnreadableBody, answer_type, media_type

JPEG = "image/jpeg"
PNG = "image/png"
X_IMAGE = "application/x-image"
IMAGE_TYPES = (JPEG, PNG, X_IMAGE)
IMAGE_CONTENT_TYPES = (*IMAGE_TYPES, JSON)
# A body of 6 MiB (InvokeEndpoint's limit) could hold thousands of tiny images: each is decoded in turn, so
# the count is bounded to keep one request's work bounded.
MAX_IMAGES = 64
_SNIFFED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def image_formats(content_type: str | None, accept: str | None) -> Formats:
    """The body's and the answer's types; InvalidValue naming ContentType or Accept when this model reads neither."""
    answer = answer_type(accept)
    media = media_type(content_type)
    if media in _SNIFFED:
        return Formats("", answer)
    if media not in IMAGE_CONTENT_TYPES:
        raise InvalidValue(f"ContentType={content_type!r}; expected one of {list(IMAGE_CONTENT_TYPES)}")
    return Formats(media, answer)


def read_images(body: bytes, content_type: str) -> list[tuple[str, bytes]]:
    """The encoded images in a body of the given type ("" to tell by its first byte), each with where it was
    ("the body", "instances[2]") for messages."""
    if not body.strip():
        raise UnreadableBody("the request body is empty; expected an image, or JSON with base64 images")
    if not content_type:
        content_type = JSON if body.lstrip()[:1] == b"{" else JPEG
    if content_type != JSON:
        return [("the body", body)]
    try:
        document = json_input.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UnreadableBody(f"the JSON body is not valid JSON: {error}") from None
    if isinstance(document, dict) and "instances" in document:
        instances = document["instances"]
    elif isinstance(document, dict) and "b64" in document:
        instances = [document]
    else:
        raise UnreadableBody('the JSON body must be {"instances": [{"b64": "<base64 image>"}, ...]}')
    if not isinstance(instances, list) or not instances:
        raise UnreadableBody('"instances" must be a non-empty list of {"b64": "<base64 image>"} objects')
    if len(instances) > MAX_IMAGES:
        raise UnreadableBody(f'"instances" holds {len(instances)} images; at most {MAX_IMAGES} a request')
    places = [f"instances[{number}]" for number in range(len(instances))]
    return [(where, _decoded_b64(item, where)) for where, item in zip(places, instances, strict=True)]


def _decoded_b64(item: Any, where: str) -> bytes:
    if not isinstance(item, dict) or not isinstance(item.get("b64"), str):
        raise UnreadableBody(f'{where}={item!r:.60}; expected {{"b64": "<base64 image>"}}')
    try:
        return base64.b64decode(item["b64"], validate=True)
    except (binascii.Error, ValueError):
        raise UnreadableBody(f"{where}.b64 is not base64") from None


def write_image_predictions(predictions: Sequence[dict[str, Any]], answer: str) -> bytes:
    """The answer's body: JSON {"predictions": [...]}, or one CSV line per image with its label."""
    if answer == CSV:
        return "".join(f"{prediction['label']}\n" for prediction in predictions).encode()
    return json.dumps({"predictions": list(predictions)}).encode()
