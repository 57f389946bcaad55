"""Checking request parameters and encoding response values by botocore's shape definitions."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from altostratus.core.errors import AltoError, ValidationError

_NUMBERS = {"integer", "long", "float", "double"}


class ShapeCodec:
    """Validates decoded JSON against input shapes and encodes output values for the wire."""

    def __init__(
        self,
        model: Mapping[str, Any],
        error: type[AltoError] = ValidationError,
        *,
        too_long: Mapping[str, type[AltoError]] | None = None,
        open_enums: Collection[str] = (),
    ) -> None:
        self._shapes: Mapping[str, Any] = model["shapes"]
        self._error = error
        # Shapes whose values past their maximum length get the service's own error (Rekognition's ImageBlob:
        # ImageTooLargeException), not the validation error.
        self._too_long = dict(too_long or {})
        # Shapes whose enum lists AWS's values where this server has its own (Polly's VoiceId: our voices too);
        # the handler checks those values itself.
        self._open_enums = frozenset(open_enums)

    def shape(self, name: str) -> Mapping[str, Any]:
        """The shape definition called name."""
        shape: Mapping[str, Any] = self._shapes[name]
        return shape

    def decode(self, shape_name: str, value: Any, path: str) -> Any:
        """value checked against the shape and converted (base64 blobs to bytes, timestamps to datetimes)."""
        shape = self._shapes[shape_name]
        if shape_name in self._open_enums:
            shape = {key: item for key, item in shape.items() if key != "enum"}
        kind = shape["type"]
        decoder = getattr(self, f"_decode_{kind}", None)
        if decoder is None:
            return value
        return decoder(shape, value, path)

    def encode(self, shape_name: str, value: Any) -> Any:
        """value made JSON-ready for the shape (bytes to base64, datetimes to epoch seconds)."""
        shape = self._shapes[shape_name]
        kind = shape["type"]
        if value is None:
            return None
        if kind == "structure":
            members = shape.get("members", {})
            return {
                name: self.encode(members[name]["shape"], item)
                for name, item in value.items()
                if name in members and item is not None
            }
        if kind == "list":
            return [self.encode(shape["member"]["shape"], item) for item in value]
        if kind == "map":
            return {str(k): self.encode(shape["value"]["shape"], v) for k, v in value.items()}
        if kind == "blob" and isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode()
        if kind == "timestamp" and isinstance(value, dt.datetime):
            return value.timestamp()
        return value

    def _fail(self, path: str, value: Any, expected: str) -> AltoError:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return self._error(f"{path}={shown}: expected {expected}")

    def _decode_structure(self, shape: Mapping[str, Any], value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self._fail(path, value, "an object")
        members = shape.get("members", {})
        missing = [name for name in shape.get("required", ()) if value.get(name) is None]
        if missing:
            where = f" in {path}" if path else ""
            raise self._error(f"{missing[0]} is required{where} but was not given")
        return {
            name: self.decode(members[name]["shape"], item, f"{path}.{name}" if path else name)
            for name, item in value.items()
            if name in members and item is not None
        }

    def _decode_list(self, shape: Mapping[str, Any], value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self._fail(path, value, "a list")
        self._check_length(shape, len(value), path, "items")
        return [self.decode(shape["member"]["shape"], item, f"{path}[{i}]") for i, item in enumerate(value)]

    def _decode_map(self, shape: Mapping[str, Any], value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self._fail(path, value, "an object")
        return {k: self.decode(shape["value"]["shape"], v, f"{path}.{k}") for k, v in value.items()}

    def _decode_string(self, shape: Mapping[str, Any], value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise self._fail(path, value, "a string")
        if "enum" in shape and value not in shape["enum"]:
            raise self._fail(path, value, f"one of {list(shape['enum'])}")
        self._check_length(shape, len(value), path, "characters")
        return value

    def _decode_boolean(self, shape: Mapping[str, Any], value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self._fail(path, value, "true or false")
        return value

    def _decode_number(self, shape: Mapping[str, Any], value: Any, path: str) -> int | float:
        whole = shape["type"] in ("integer", "long")
        ok = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise self._fail(path, value, "a whole number" if whole else "a number")
        if "min" in shape and value < shape["min"]:
            raise self._fail(path, value, f"at least {shape['min']}")
        if "max" in shape and value > shape["max"]:
            raise self._fail(path, value, f"at most {shape['max']}")
        return value  # type: ignore[no-any-return]

    _decode_integer = _decode_long = _decode_float = _decode_double = _decode_number

    def _decode_blob(self, shape: Mapping[str, Any], value: Any, path: str) -> bytes:
        if isinstance(value, bytes):
            return value
        if not isinstance(value, str):
            raise self._fail(path, value, "base64-encoded bytes")
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise self._fail(path, value, "base64-encoded bytes") from None
        self._check_length(shape, len(data), path, "bytes")
        return data

    def _too_long_error(self, shape: Mapping[str, Any]) -> type[AltoError]:
        for name, error in self._too_long.items():
            if self._shapes.get(name) is shape:
                return error
        return self._error

    def _decode_timestamp(self, shape: Mapping[str, Any], value: Any, path: str) -> dt.datetime:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, dt.UTC)
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                pass
            else:
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        raise self._fail(path, value, "a timestamp (epoch seconds or ISO 8601)")

    def _check_length(self, shape: Mapping[str, Any], size: int, path: str, unit: str) -> None:
        if "min" in shape and size < shape["min"]:
            raise self._error(f"{path} has {size} {unit}; expected at least {shape['min']}")
        if "max" in shape and size > shape["max"]:
            raise self._too_long_error(shape)(f"{path} has {size} {unit}; expected at most {shape['max']}")


def decode_scalar(codec: ShapeCodec, shape_name: str, text: str, path: str) -> Any:
    """A value from a URI, query string or header (always text on the wire) converted to its shape's type."""
    kind = codec.shape(shape_name)["type"]
    value: Any = text
    try:
        if kind in ("integer", "long"):
            value = int(text)
        elif kind in _NUMBERS:
            value = float(text)
        elif kind == "boolean":
            value = {"true": True, "false": False}[text.lower()]
    except (KeyError, ValueError):
        raise codec._fail(path, text, f"a {kind}") from None
    if kind == "list":
        value = [text]
    if kind == "blob":
        return text.encode()
    return codec.decode(shape_name, value, path)
