"""The checks on what names a collection's parts and how many of them a call takes, with Rekognition's limits."""

from __future__ import annotations

import re
from collections.abc import Sequence

from altostratus.vision.errors import InvalidParameter

COLLECTION_ID = re.compile(r"[a-zA-Z0-9_.\-]{1,255}")
USER_ID = re.compile(r"[a-zA-Z0-9_.\-:]{1,128}")
EXTERNAL_IMAGE_ID = re.compile(r"[a-zA-Z0-9_.\-:]{1,255}")
FACE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CLIENT_TOKEN = re.compile(r"[a-zA-Z0-9\-_]{1,64}")


def checked_id(name: str, value: str, pattern: re.Pattern[str]) -> str:
    """The value when the whole of it matches the pattern; InvalidParameter naming the field otherwise."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidParameter(f"{name}={value!r}; expected a match of {pattern.pattern}")
    return value


def checked_face_ids(name: str, values: Sequence[str], *, most: int) -> list[str]:
    """1 to `most` face ids, each a lower-case UUID, repeats dropped (first one kept)."""
    if not 1 <= len(values) <= most:
        raise InvalidParameter(f"{name} holds {len(values)} face ids; expected 1 to {most}")
    return list(dict.fromkeys(checked_id(name, value, FACE_ID) for value in values))


def checked_count(name: str, value: int, *, least: int, most: int) -> int:
    """An integer from `least` to `most`."""
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
        raise InvalidParameter(f"{name}={value!r}; expected an integer from {least} to {most}")
    return value


def checked_percent(name: str, value: float) -> float:
    """A number from 0 to 100."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
        raise InvalidParameter(f"{name}={value!r}; expected a number from 0 to 100")
    return float(value)
