"""Digests computed while bytes stream in, checked against what the writer claimed."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from awscrt import checksums as crt

from altostratus.core.errors import BadRequest
from altostratus.lake.errors import BadDigest, InvalidDigest

SUPPORTED = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
# How a multipart object's checksum is made of its parts' (S3's x-amz-checksum-type).
COMPOSITE = "COMPOSITE"
FULL_OBJECT = "FULL_OBJECT"
# The checksum types each algorithm allows on a multipart upload, the default first.
MULTIPART_TYPES = {
    "CRC32": (COMPOSITE, FULL_OBJECT),
    "CRC32C": (COMPOSITE, FULL_OBJECT),
    "CRC64NVME": (FULL_OBJECT,),
    "SHA1": (COMPOSITE,),
    "SHA256": (COMPOSITE,),
}


class _Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A running CRC of `width` bytes, computed by `step(data, previous)`."""

    def __init__(self, step: Callable[[bytes, int], int], width: int) -> None:
        self._step = step
        self._width = width
        self.value = 0

    def update(self, data: bytes, /) -> None:
        self.value = self._step(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(self._width, "big")


# Each CRC: its running step, its width in bytes, and how two CRCs combine (crc(a), crc(b), len(b)) -> crc(a + b).
_CRCS: dict[str, tuple[Callable[[bytes, int], int], int, Callable[[int, int, int], int]]] = {
    "CRC32": (zlib.crc32, 4, crt.combine_crc32),
    "CRC32C": (crt.crc32c, 4, crt.combine_crc32c),
    "CRC64NVME": (crt.crc64nvme, 8, crt.combine_crc64nvme),
}


def _new(algorithm: str) -> _Digest:
    if algorithm in _CRCS:
        step, width, _ = _CRCS[algorithm]
        return _Crc(step, width)
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


class InvalidChecksumRequest(BadRequest):
    """A checksum algorithm or type that the request may not use."""


def multipart_checksum_type(algorithm: str | None, checksum_type: str | None) -> str | None:
    """The checksum type of a new multipart upload (x-amz-checksum-algorithm, x-amz-checksum-type), checked."""
    if algorithm is None:
        if checksum_type is not None:
            raise InvalidChecksumRequest(
                f"x-amz-checksum-type={checksum_type!r} needs x-amz-checksum-algorithm: the type says how the "
                "algorithm's part checksums make the object's"
            )
        return None
    if algorithm not in MULTIPART_TYPES:
        raise InvalidChecksumRequest(
            f"x-amz-checksum-algorithm={algorithm!r}; expected one of {sorted(MULTIPART_TYPES)}"
        )
    allowed = MULTIPART_TYPES[algorithm]
    if checksum_type is None:
        return allowed[0]
    if checksum_type not in allowed:
        raise InvalidChecksumRequest(
            f"x-amz-checksum-type={checksum_type!r} cannot be used with the {algorithm} checksum algorithm; "
            f"expected one of {list(allowed)}"
        )
    return checksum_type


def check_part_algorithm(expected: str, sent: set[str]) -> None:
    """InvalidRequest when a part of an upload created with one checksum algorithm carries another's checksum."""
    if sent and expected not in sent:
        raise InvalidChecksumRequest(
            f"Checksum Type mismatch occurred, expected checksum Type: {expected.lower()}, actual checksum Type: "
            f"{', '.join(sorted(sent)).lower()}"
        )


def combined_checksum(algorithm: str, checksum_type: str, parts: Sequence[tuple[int, str]]) -> str:
    """A multipart object's checksum from its parts' (size, base64 checksum), in order.

    COMPOSITE: the checksum of the parts' checksums concatenated, then "-<number of parts>".
    FULL_OBJECT (CRCs only): the CRC of the whole object, combined from the parts' CRCs.
    """
    raw = [(size, base64.b64decode(value)) for size, value in parts]
    if checksum_type == COMPOSITE:
        digest = _new(algorithm)
        for _, value in raw:
            digest.update(value)
        return f"{base64.b64encode(digest.digest()).decode()}-{len(raw)}"
    _, width, combine = _CRCS[algorithm]
    total = 0
    for size, value in raw:
        total = combine(total, int.from_bytes(value, "big"), size)
    return base64.b64encode(total.to_bytes(width, "big")).decode()


def checksum_type_of(value: str) -> str:
    """The type of a stored checksum: COMPOSITE values end in -<number of parts>."""
    return COMPOSITE if "-" in value else FULL_OBJECT
