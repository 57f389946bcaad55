"""How one CSV value is read: missing markers, numbers, binary values; and the reading options.

Every value is stripped of surrounding whitespace first (Adult separates its fields with ", ").
- Missing: the value is one of `ReadOptions.missing_markers` (by default the empty string, "?", "NA",
  "N/A", "NaN" and "null"; Amazon ML treats empty values as missing, and "?" is UCI's marker).
- NUMERIC: a finite number as Python's float() reads it ("1e3", "-0.5"); anything else is invalid.
- BINARY: one of 1/0, true/false, yes/no, y/n, t/f in any case, read as 1 or 0; anything else is invalid.
Invalid values count as missing, and are reported per attribute; a datasource where more than
`max_invalid_fraction` of an attribute's values are invalid fails, naming the first invalid row.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection

from altostratus.predict.errors import InvalidInput

DEFAULT_MISSING_MARKERS = ("", "?", "NA", "N/A", "NaN", "null")
DEFAULT_MAX_BYTES = 1024**3
DEFAULT_MAX_INVALID_FRACTION = 0.01
BINARY_VALUES = {
    "1": 1.0,
    "0": 0.0,
    "true": 1.0,
    "false": 0.0,
    "yes": 1.0,
    "no": 0.0,
    "y": 1.0,
    "n": 0.0,
    "t": 1.0,
    "f": 0.0,
}


@dataclasses.dataclass(frozen=True)
class ReadOptions:
    """How a datasource's CSV is read: missing markers, the size limit, and how many invalid values are tolerated."""

    missing_markers: Collection[str] = DEFAULT_MISSING_MARKERS
    max_bytes: int = DEFAULT_MAX_BYTES
    max_invalid_fraction: float = DEFAULT_MAX_INVALID_FRACTION

    def __post_init__(self) -> None:
        markers = self.missing_markers
        if isinstance(markers, str) or not all(isinstance(marker, str) for marker in markers):
            raise InvalidInput(f"missing_markers={markers!r}; expected a list of strings")
        object.__setattr__(self, "missing_markers", frozenset(marker.strip() for marker in markers))
        if not isinstance(self.max_bytes, int) or self.max_bytes < 1:
            raise InvalidInput(f"max_bytes={self.max_bytes!r}; expected a positive number of bytes")
        if not 0.0 <= self.max_invalid_fraction <= 1.0:
            raise InvalidInput(f"max_invalid_fraction={self.max_invalid_fraction!r}; expected a fraction from 0 to 1")


def parse_number(value: str) -> float | None:
    """The value as a finite float; None when it is not one."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_binary(value: str) -> float | None:
    """1.0 or 0.0 for a binary value (1/0, true/false, yes/no, y/n, t/f, any case); None when it is not one."""
    return BINARY_VALUES.get(value.lower())
