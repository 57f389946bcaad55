"""What a handler gets: the parsed request, who sent it, and its body as a checked stream."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator, Mapping

from starlette.requests import Request

from altostratus.api import aws_chunked, sigv4
from altostratus.auth.keys import AccessKey
from altostratus.core.errors import BadRequest, RequestTooLarge
from altostratus.lake.model import Caller


class ContentSha256Mismatch(BadRequest):
    """The provided 'x-amz-content-sha256' header does not match what was computed."""

    code = "XAmzContentSHA256Mismatch"


class Body:
    """The request body, decoded from aws-chunked when needed, hashed against its signature, size-limited."""

    def __init__(
        self, request: Request, verified: sigv4.Verified | None, limit: int, preloaded: bytes | None = None
    ) -> None:
        self._request = request
        self._preloaded = preloaded
        self._verified = verified
        self._limit = limit
        self.trailers = aws_chunked.Trailers()
        payload = verified.payload_hash if verified else ""
        self._expected_sha256 = payload if len(payload) == 64 else ""
        encoding = request.headers.get("content-encoding", "")
        self._chunked = "aws-chunked" in encoding or payload.startswith("STREAMING-")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the payload bytes; raise at the end if they do not hash to what was signed."""
        if self._preloaded is not None:
            yield self._preloaded
            return
        stream: AsyncIterator[bytes] = self._request.stream()
        if self._chunked:
            stream = aws_chunked.decode(stream, self._verified, self.trailers)
        digest = hashlib.sha256() if self._expected_sha256 else None
        received = 0
        async for chunk in stream:
            if not chunk:
                continue
            received += len(chunk)
            if received > self._limit:
                raise RequestTooLarge(f"Your proposed upload exceeds the maximum allowed size of {self._limit} bytes")
            if digest is not None:
                digest.update(chunk)
            yield chunk
        if digest is not None and not sigv4.same_digest(digest.hexdigest(), self._expected_sha256):
            raise ContentSha256Mismatch("The provided 'x-amz-content-sha256' header does not match what was computed.")

    async def read(self) -> bytes:
        """The whole body (for small bodies: XML and JSON documents)."""
        return b"".join([chunk async for chunk in self])


@dataclasses.dataclass
class Call:
    """One request on its way to a handler."""

    request: Request
    request_id: str
    operation: str
    path_params: dict[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Body
    key: AccessKey | None
    caller: Caller
