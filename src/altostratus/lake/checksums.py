"""Digests computed while bytes stream in, checked against what the writer claimed."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Mapping
from typing import Protocol

from altostratus.lake.errors import BadDigest, InvalidDigest

SUPPORTED = ("CRC32", "SHA1", "SHA256")


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self.value = 0

    def update(self, data: bytes, /) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def _new(algorithm: str) -> _Digest:
    if algorithm == "CRC32":
        return _Crc32()
    return hashlib.new(algorithm.lower())


class Checksums:
    """Running checksums for the algorithms asked for; verify() compares them with the claimed values."""

    def __init__(self, algorithms: set[str], expected: Mapping[str, str]) -> None:
        unknown = sorted((algorithms | set(expected)) - set(SUPPORTED))
        if unknown:
            raise InvalidDigest(f"checksum algorithms {unknown} are not supported; expected some of {list(SUPPORTED)}")
        self._expected = dict(expected)
        self._digests = {name: _new(name) for name in algorithms | set(expected)}

    def update(self, chunk: bytes) -> None:
        """Feed bytes."""
        for digest in self._digests.values():
            digest.update(chunk)

    def expect(self, algorithm: str, value: str) -> None:
        """Check the running checksum of `algorithm` against value at the end (a trailer sent it late)."""
        if algorithm not in self._digests:
            raise InvalidDigest(f"trailer checksum {algorithm} was not announced in x-amz-trailer")
        self._expected[algorithm] = value

    def values(self) -> dict[str, str]:
        """The base64 checksums, by algorithm."""
        return {name: base64.b64encode(d.digest()).decode() for name, d in self._digests.items()}

    def verify(self) -> dict[str, str]:
        """The checksums; BadDigest if one differs from what the writer claimed."""
        values = self.values()
        for name, claimed in self._expected.items():
            if values[name] != claimed:
                raise BadDigest(f"The {name} you specified did not match the calculated checksum.")
        return values


def check_content_md5(claimed_b64: str | None, actual_hex: str) -> None:
    """BadDigest when a Content-MD5 header disagrees with the MD5 of the bytes received."""
    if claimed_b64 is None:
        return
    try:
        claimed = base64.b64decode(claimed_b64, validate=True)
    except ValueError:
        raise InvalidDigest(f"Content-MD5={claimed_b64!r} is not valid base64") from None
    if len(claimed) != 16:
        raise InvalidDigest(f"Content-MD5={claimed_b64!r} is not a 16-byte MD5 digest")
    if claimed.hex() != actual_hex:
        raise BadDigest("The Content-MD5 you specified did not match what we received.")
