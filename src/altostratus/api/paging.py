"""Page tokens: where a list's next page starts, handed out as an opaque NextToken and taken back checked.

A position is a small mapping of names to integers (an offset into a sorted list; or, for a list read in
batches, the last record seen and how many of its entries to skip), written as urlsafe base64 of its JSON.
Every json and rest-json handler that pages uses one `PageTokens`, naming its parameter and its error
class, so a token from elsewhere is refused the same way everywhere.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping

from altostratus.core import json_input
from altostratus.core.errors import AltoError

Position = Mapping[str, int | None]
OFFSET = "offset"
# Positions end up as SQL OFFSETs and row ids: anything past a signed 64-bit integer was not handed out.
MAX_POSITION = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class PageTokens:
    """Encodes page positions as tokens and decodes tokens back, refusing any this codec did not write."""

    error: type[AltoError]
    parameter: str = "NextToken"
    keys: frozenset[str] = frozenset({OFFSET})

    def encode(self, position: Position) -> str:
        """The token of `position`, whose names are among `keys`."""
        unknown = sorted(set(position) - self.keys)
        if unknown:
            raise ValueError(f"position names {unknown}; expected some of {sorted(self.keys)}")
        return base64.urlsafe_b64encode(json.dumps(dict(position)).encode()).decode()

    def decode(self, token: str | None) -> dict[str, int | None]:
        """The position `token` names ({} for no token); `error` naming the parameter and token otherwise."""
        if token is None:
            return {}
        try:
            position = json_input.loads(base64.urlsafe_b64decode(token.encode()))
        except ValueError:  # not base64, not UTF-8, not JSON
            position = None
        if isinstance(position, dict) and set(position) <= self.keys and all(map(_is_position, position.values())):
            return position
        raise self.error(f"{self.parameter}={token!r}; expected the {self.parameter} of an earlier answer")

    def next_page(self, offset: int | None) -> dict[str, str]:
        """{parameter: token} for a next page starting at `offset`, or {} when there is none."""
        return {} if offset is None else {self.parameter: self.encode({OFFSET: offset})}

    def offset(self, token: str | None) -> int:
        """The offset `token` names; 0 (the first page) for no token."""
        return self.decode(token).get(OFFSET) or 0


def _is_position(value: object) -> bool:
    # bool is an int to Python, but no token here holds one.
    return value is None or (type(value) is int and 0 <= value <= MAX_POSITION)
