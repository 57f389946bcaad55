"""What a rest-xml handler answers, before the protocol layer turns it into an HTTP response."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator


@dataclasses.dataclass
class Reply:
    """An answer's status, headers and body: bytes sent as one piece, or an iterator of chunks streamed.

    A body-less answer to HEAD names its Content-Length in `headers`; otherwise the length is that of the bytes.
    """

    status: int = 200
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    body: bytes | AsyncIterator[bytes] | Iterator[bytes] = b""
    media_type: str | None = None
