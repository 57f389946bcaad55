"""Finding the operation a request names: X-Amz-Target for json services, requestUri patterns for rest ones."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import botocore.loaders

from altostratus.core.errors import MethodNotAllowed, UnknownOperation

# Literal query keys that only some SDKs send; never required to match.
_OPTIONAL_LITERALS = frozenset({"x-id"})


@functools.cache
def service_model(service: str) -> dict[str, Any]:
    """botocore's service model for an AWS service name ("s3", "lambda", "rekognition", ...)."""
    model: dict[str, Any] = botocore.loaders.create_loader().load_service_model(service, "service-2")
    return model


@dataclasses.dataclass(frozen=True)
class RestOperation:
    """How one rest operation is recognised."""

    name: str
    method: str
    pattern: re.Pattern[str]
    literal_query: Mapping[str, str | None]
    required_query: frozenset[str]
    required_headers: frozenset[str]
    literal_length: int

    @property
    def specificity(self) -> tuple[int, int]:
        """More required query keys and headers, then a longer literal path, win."""
        return (len(self.literal_query) + len(self.required_query) + len(self.required_headers), self.literal_length)


@dataclasses.dataclass(frozen=True)
class RouteMatch:
    """The operation and the path parameters (decoded) of a request."""

    operation: str
    path_params: dict[str, str]


class RestRouter:
    """Matches method, path, query keys and headers against every operation's requestUri."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        shapes = model["shapes"]
        self._operations = sorted(
            (_compile(name, op, shapes) for name, op in model["operations"].items()),
            key=lambda o: o.specificity,
            reverse=True,
        )
        # Each method's operations, in the same order: the cheap checks of query and headers run before the path's
        # pattern, which S3's hundred operations made the most of a small request's routing time.
        self._by_method: dict[str, list[RestOperation]] = {}
        for op in self._operations:
            self._by_method.setdefault(op.method, []).append(op)

    def match(self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> RouteMatch:
        """The best operation for the request; MethodNotAllowed or UnknownOperation when none fits."""
        for op in self._by_method.get(method, ()):
            if op.literal_query and not _has_literals(query, op.literal_query):
                continue
            if op.required_query and not op.required_query <= query.keys():
                continue
            if op.required_headers and not op.required_headers <= headers.keys():
                continue
            found = op.pattern.match(raw_path)
            if found is None:
                continue
            return RouteMatch(op.name, {k: unquote(v) for k, v in found.groupdict().items()})
        if any(op.pattern.match(raw_path) for op in self._operations):
            raise MethodNotAllowed(f"The method {method} is not allowed against this resource")
        raise UnknownOperation(f"No operation matches {method} {raw_path}")


def _has_literals(query: Mapping[str, str], literals: Mapping[str, str | None]) -> bool:
    """Whether the query holds each literal key (with its value, where the requestUri names one)."""
    for key, value in literals.items():
        sent = query.get(key)
        if sent is None or (value is not None and sent != value):
            return False
    return True


def _compile(name: str, op: Mapping[str, Any], shapes: Mapping[str, Any]) -> RestOperation:
    http = op["http"]
    path, _, query_text = http["requestUri"].partition("?")
    literal_query: dict[str, str | None] = {}
    for item in filter(None, query_text.split("&")):
        key, sep, value = item.partition("=")
        if key not in _OPTIONAL_LITERALS:
            literal_query[key] = value if sep else None
    regex = ""
    literal_length = 0
    for piece in re.split(r"(\{[^}]+\})", path):
        if piece.startswith("{"):
            label = piece[1:-1]
            greedy = label.endswith("+")
            label = label.rstrip("+")
            regex += f"(?P<{label}>.+)" if greedy else f"(?P<{label}>[^/]+)"
        else:
            regex += re.escape(piece)
            literal_length += len(piece)
    if regex.endswith(")") and not regex.endswith(".+)"):
        regex += "/?"
    query, headers = _required_locations(op, shapes)
    return RestOperation(
        name=name,
        method=http["method"],
        pattern=re.compile(f"^{regex}$"),
        literal_query=literal_query,
        required_query=query,
        required_headers=headers,
        literal_length=literal_length,
    )


def _required_locations(op: Mapping[str, Any], shapes: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    if "input" not in op:
        return frozenset(), frozenset()
    shape = shapes[op["input"]["shape"]]
    required = set(shape.get("required", ()))
    query: set[str] = set()
    headers: set[str] = set()
    for member_name, member in shape.get("members", {}).items():
        if member_name not in required:
            continue
        location = member.get("location")
        if location == "querystring":
            query.add(member["locationName"])
        elif location == "header":
            headers.add(member["locationName"].lower())
    return frozenset(query), frozenset(headers)


def json_operation(target: str, model: Mapping[str, Any]) -> str:
    """The operation an X-Amz-Target header names ("RekognitionService.DetectLabels" -> "DetectLabels")."""
    prefix = model["metadata"].get("targetPrefix", "")
    service, _, operation = target.partition(".")
    if service != prefix or operation not in model["operations"]:
        raise UnknownOperation(f"X-Amz-Target={target!r} names no operation of {prefix}")
    return operation
