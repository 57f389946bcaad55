"""Decoding `Content-Encoding: aws-chunked` bodies: signed chunks (SigV4 streaming) and trailing checksums."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable

from altostratus.api.signing import chunk_signature, same_digest
from altostratus.api.sigv4 import STREAMING_SIGNED, Verified
from altostratus.core.errors import BadRequest, SignatureDoesNotMatch

MAX_CHUNK_HEADER = 4096


class IncompleteBody(BadRequest):
    """The request body ended before the aws-chunked encoding said it would."""

    code = "IncompleteBody"


@dataclasses.dataclass
class Trailers:
    """Headers sent after the last chunk (x-amz-checksum-*), filled in once the body is read."""

    values: dict[str, str] = dataclasses.field(default_factory=dict)


async def decode(stream: AsyncIterator[bytes], verified: Verified | None, trailers: Trailers) -> AsyncIterator[bytes]:
    """Yield the payload inside an aws-chunked body, checking each chunk's signature when it is signed."""
    buffer = bytearray()
    # Only STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER) bodies sign their chunks; unsigned-trailer ones do not.
    previous = ""
    if verified is not None and verified.signing_key and verified.payload_hash.startswith(STREAMING_SIGNED):
        previous = verified.seed_signature
    source = stream.__aiter__()

    async def fill(n: int) -> None:
        while len(buffer) < n:
            try:
                buffer.extend(await source.__anext__())
            except StopAsyncIteration:
                raise IncompleteBody("The request body ended inside an aws-chunked chunk") from None

    async def line() -> bytes:
        while b"\r\n" not in buffer:
            if len(buffer) > MAX_CHUNK_HEADER:
                raise BadRequest("aws-chunked chunk header is too long")
            await fill(len(buffer) + 1)
        at = buffer.index(b"\r\n")
        text = bytes(buffer[:at])
        del buffer[: at + 2]
        return text

    while True:
        size, signature = _chunk_header(await line())
        data = b""
        # The last chunk (size 0) is followed by the trailers, not by its own CRLF.
        if size:
            await fill(size + 2)
            data = bytes(buffer[:size])
            if buffer[size : size + 2] != b"\r\n":
                raise BadRequest("aws-chunked chunk is not followed by CRLF")
            del buffer[: size + 2]
        if previous and verified is not None and verified.credential is not None:
            expected = chunk_signature(verified.signing_key, verified.amz_date, verified.credential, previous, data)
            if not same_digest(expected, signature):
                raise SignatureDoesNotMatch("The signature of an aws-chunked chunk does not match")
            previous = expected
        if size == 0:
            await _read_trailers(line, trailers)
            return
        yield data


def _chunk_header(text: bytes) -> tuple[int, str]:
    size_text, _, extension = text.partition(b";")
    try:
        size = int(size_text, 16)
    except ValueError:
        raise BadRequest(f"aws-chunked chunk size {size_text[:20]!r} is not hexadecimal") from None
    if size < 0:
        raise BadRequest(f"aws-chunked chunk size {size_text[:20]!r} is negative")
    signature = extension.partition(b"=")[2].decode("ascii", "replace")
    return size, signature


async def _read_trailers(line: Callable[[], Awaitable[bytes]], trailers: Trailers) -> None:
    # The trailer section ends at an empty line, or simply at the end of the body.
    while True:
        try:
            text = await line()
        except IncompleteBody:
            return
        if not text:
            return
        name, _, value = text.decode("latin-1").partition(":")
        trailers.values[name.strip().lower()] = value.strip()
