"""What a handler gets: the parsed request, who sent it, and its body as a checked stream."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping

from altostratus.api import aws_chunked, signing, sigv4
from altostratus.api.operations import RouteMatch
from altostratus.auth.keys import AccessKey
from altostratus.core.caller import Caller
from altostratus.core.errors import AltoError, BadRequest, RequestTooLarge


class ContentSha256Mismatch(BadRequest):
    """The provided 'x-amz-content-sha256' header does not match what was computed."""

    code = "XAmzContentSHA256Mismatch"


@dataclasses.dataclass(frozen=True)
class BodyLimit:
    """The most bytes an operation's request body may hold, and the error for one that holds more."""

    max_bytes: int
    too_large: type[AltoError] = RequestTooLarge
    case: str = ""  # which requests of the operation the limit is for (" with InvocationType=Event")

    def refuse(self, operation: str, header: str = "", size: int | None = None) -> AltoError:
        """The error for a body the header declares `size` bytes long (no size: found too long while read)."""
        sent = f"; {header} is {size}" if size is not None else ""
        return self.too_large(
            f"Request must be at most {self.max_bytes} bytes for the {operation} operation{self.case}{sent}"
        )

    def check_length(self, operation: str, headers: Mapping[str, str]) -> None:
        """Refuse at once a body declared longer than the limit, before reading any of it."""
        # An aws-chunked body's payload is x-amz-decoded-content-length long; Content-Length counts its framing too.
        name = "x-amz-decoded-content-length" if "x-amz-decoded-content-length" in headers else "content-length"
        length = headers.get(name, "")
        if length.isascii() and length.isdigit() and int(length) > self.max_bytes:
            raise self.refuse(operation, name, int(length))


class Body:
    """The request body, decoded from aws-chunked when needed, hashed against its signature, size-limited.

    `stream` opens the body's bytes as they arrive; it is called once, when the handler first reads, and not at
    all for a body the gateway has read already (`preloaded`).
    """

    def __init__(
        self,
        stream: Callable[[], AsyncIterator[bytes]],
        headers: Mapping[str, str],
        verified: sigv4.Verified | None,
        limit: BodyLimit,
        operation: str,
        preloaded: bytes | None = None,
    ) -> None:
        self._stream = stream
        self._preloaded = preloaded
        self._verified = verified
        self._limit = limit
        self._operation = operation
        self.trailers = aws_chunked.Trailers()
        payload = verified.payload_hash if verified else ""
        self._expected_sha256 = payload if len(payload) == 64 else ""
        # The declared payload says whether the body is aws-chunked framing: a plain body may be sent with
        # Content-Encoding: aws-chunked (S3 takes it, and stores the object without that encoding).
        declared = payload or headers.get("x-amz-content-sha256", "")
        self._chunked = declared.startswith("STREAMING-")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """Yield the payload bytes; raise at the end if they do not hash to what was signed."""
        if self._preloaded is not None:
            yield self._preloaded
            return
        stream = self._stream()
        if self._chunked:
            stream = aws_chunked.decode(stream, self._verified, self.trailers)
        digest = hashlib.sha256() if self._expected_sha256 else None
        received = 0
        async for chunk in stream:
            if not chunk:
                continue
            received += len(chunk)
            if received > self._limit.max_bytes:
                raise self._limit.refuse(self._operation)
            if digest is not None:
                digest.update(chunk)
            yield chunk
        if digest is not None and not signing.same_digest(digest.hexdigest(), self._expected_sha256):
            raise ContentSha256Mismatch("The provided 'x-amz-content-sha256' header does not match what was computed.")

    async def read(self) -> bytes:
        """The whole body (for small bodies: XML and JSON documents)."""
        return b"".join([chunk async for chunk in self])


@dataclasses.dataclass
class Call:
    """One request on its way to a handler."""

    base_url: str  # the server's root as the request addressed it: "http://host:port/"
    request_id: str
    operation: str
    path_params: dict[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Body
    key: AccessKey | None
    caller: Caller
    # Whether the caller may take an IAM action on a resource the request names in its body (DeleteObjects' keys);
    # the gateway checks what the path and headers name before the handler runs.
    allows: Callable[[str, str], bool] = lambda action, resource: True
    # For a request whose body names who sends it (a browser form upload's fields carry a key and its signature of
    # the form's policy): the server's verifier, to check that signature (None: the server checks no signatures),
    # and the S3 authorizer, holding that key (None: anonymous) to its role and access for the operation named.
    verifier: sigv4.Verifier | None = None
    authorize_as: Callable[[AccessKey | None, RouteMatch, Mapping[str, str]], Callable[[str, str], bool]] | None = None
    # Whether the request came over TLS (to a trusted proxy in front of this plain-HTTP server): customer keys
    # (SSE-C) are taken only then, unless a setting allows plain HTTP.
    secure: bool = False


async def read_at_most(chunks: AsyncIterable[bytes], limit: int, refuse: Callable[[], Exception]) -> bytes:
    """A request's whole body, or refuse() raised as soon as it passes limit bytes (nothing more is read)."""
    data = bytearray()
    async for chunk in chunks:
        data.extend(chunk)
        if len(data) > limit:
            raise refuse()
    return bytes(data)
