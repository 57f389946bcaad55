"""Parsing JSON that comes from outside: request bodies, documents inside them, what functions answer."""

from __future__ import annotations

import json
from typing import Any


class JsonTooDeep(ValueError):
    """A JSON document nests arrays and objects deeper than the parser can follow."""


def loads(data: str | bytes | bytearray) -> Any:
    """json.loads, with a document nested too deeply reported as a ValueError like any other unreadable JSON.

    The standard parser recurses once per level and raises RecursionError (not a ValueError) after about a
    thousand, so `[[[[...` from a client would otherwise escape every `except ValueError` as a server error.
    """
    try:
        return json.loads(data)
    except RecursionError:
        raise JsonTooDeep("the JSON document nests arrays or objects too deeply (at most about 900 levels)") from None
