"""Encryption at rest: per-object data keys, their wrapping, and the sealed-chunk format with its range math.

Every encrypted object has a random 256-bit data key, wrapped (AES key wrap, RFC 3394) by the server's master
key (SSE-S3) or by the customer's own key (SSE-C, never stored: only a salted HMAC of it, to tell a wrong key).
Its bytes are one or more segments (one for an object written whole, one per part of a multipart object); a
segment is an 8-byte random nonce prefix, then its plaintext in chunks of `chunk_size` bytes, each sealed on its
own with AES-256-GCM. A chunk's nonce is the prefix and the chunk's number; its associated data names the
segment, the chunk and whether the chunk is the segment's last, so chunks cannot be reordered, moved between
segments, or cut off the end without opening failing. A ranged read opens only the chunks it needs.

An empty segment still holds one (empty) last chunk: every segment ends in a chunk sealed as its last.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import hmac
import os
import struct
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from altostratus.core.errors import AccessDenied, AltoError, BadRequest, ConfigurationError, NotImplementedOperation
from altostratus.storage.blobs import BlobInfo, BlobWriter

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
PREFIX_SIZE = 8
KEY_SIZE = 32
FORMAT = "AES256-GCM-CHUNKED-1"
_AAD = struct.Struct(">10sIIB")  # format tag, segment id, chunk number, last-chunk flag
_AAD_TAG = b"alto-sse/1"
_CHECK_LABEL = b"altostratus sse-c key check"
_KEY_ID_LABEL = b"altostratus lake master key id"

# Reads a blob's bytes [start, end) as a stream.
BlobReader = Callable[[int, int], Iterator[bytes]]


class EncryptionKind(enum.Enum):
    """Who holds the key that wraps an object's data key."""

    SSE_S3 = "AES256"  # the server's master key
    SSE_C = "SSE-C"  # the customer's key, sent with every request that reads or writes the bytes


class MissingCustomerKey(BadRequest):
    """The object was stored using a form of Server Side Encryption; the correct parameters must be provided."""


class WrongCustomerKey(AccessDenied):
    """The customer-provided key is not the key the object was stored with."""


class EncryptionNotApplicable(BadRequest):
    """The encryption parameters are not applicable to this object."""


class KmsUnavailable(BadRequest):
    """SSE-KMS needs a key management service, and none is configured."""

    code = "KMS.NotFoundException"


class SealBroken(AltoError):
    """The stored bytes of an encrypted object fail their integrity check (tampered with, cut short or reordered)."""


class CustomerKey:
    """A customer's 256-bit key (SSE-C); kept out of repr, logs and tracebacks."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"a customer key has {KEY_SIZE} bytes, not {len(key)}")
        self._key = key

    @property
    def secret(self) -> bytes:
        """The key's bytes."""
        return self._key

    @property
    def md5(self) -> str:
        """The base64 MD5 of the key, as x-amz-server-side-encryption-customer-key-MD5 carries it."""
        return base64.b64encode(hashlib.md5(self._key, usedforsecurity=False).digest()).decode()

    def __repr__(self) -> str:
        return "CustomerKey(<hidden>)"


@dataclasses.dataclass(frozen=True)
class EncryptionRequest:
    """What a write asks for: SSE-S3, or SSE-C with the customer's key."""

    kind: EncryptionKind
    customer_key: CustomerKey | None = None

    def __post_init__(self) -> None:
        if (self.kind is EncryptionKind.SSE_C) != (self.customer_key is not None):
            raise ValueError("SSE-C needs a customer key, and only SSE-C takes one")


SSE_S3 = EncryptionRequest(EncryptionKind.SSE_S3)


@dataclasses.dataclass(frozen=True)
class Envelope:
    """How an object (or an upload's parts) is sealed: what objects.encryption and uploads.encryption hold."""

    kind: EncryptionKind
    wrapped_key: bytes
    chunk_size: int = CHUNK_SIZE
    key_id: str = ""  # SSE-S3: which master key wrapped the data key
    key_salt: bytes = b""  # SSE-C: the salt and HMAC that tell the customer's key from another
    key_check: bytes = b""
    # (segment id, plaintext bytes) in order; an object written whole is one segment, id 0; a multipart object's
    # segments are its parts, by part number. Empty for an upload, whose parts become segments on completion.
    segments: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The envelope as the JSON column keeps it."""
        out: dict[str, Any] = {
            "format": FORMAT,
            "kind": self.kind.value,
            "wrapped_key": _b64(self.wrapped_key),
            "chunk_size": self.chunk_size,
        }
        if self.key_id:
            out["key_id"] = self.key_id
        if self.key_check:
            out.update(key_salt=_b64(self.key_salt), key_check=_b64(self.key_check))
        if self.segments:
            out["segments"] = [list(segment) for segment in self.segments]
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Envelope | None:
        """The envelope from its JSON (None: the bytes are stored as they are)."""
        if not data:
            return None
        if data.get("format") != FORMAT:
            raise ConfigurationError(f"encryption format={data.get('format')!r}; this server reads only {FORMAT!r}")
        return cls(
            kind=EncryptionKind(data["kind"]),
            wrapped_key=base64.b64decode(data["wrapped_key"]),
            chunk_size=int(data["chunk_size"]),
            key_id=data.get("key_id", ""),
            key_salt=base64.b64decode(data.get("key_salt", "")),
            key_check=base64.b64decode(data.get("key_check", "")),
            segments=tuple((int(sid), int(size)) for sid, size in data.get("segments", ())),
        )

    def with_segments(self, segments: tuple[tuple[int, int], ...]) -> Envelope:
        """The same keys, for an object made of these segments."""
        return dataclasses.replace(self, segments=segments)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclasses.dataclass(frozen=True, repr=False)
class Sealing:
    """What a writer needs to seal one segment: the envelope it will be stored under, and the data key."""

    envelope: Envelope
    data_key: bytes


class Keyring:
    """Makes envelopes and opens them: data keys wrapped by the master key (loaded at first use) or a customer's."""

    def __init__(self, master_key: Callable[[], bytes]) -> None:
        self._load_master = master_key
        self._master: bytes | None = None
        self._master_id = ""

    def _master_key(self) -> tuple[bytes, str]:
        if self._master is None:
            key = self._load_master()
            if len(key) != KEY_SIZE:
                raise ConfigurationError(f"the lake's master key has {len(key)} bytes; expected {KEY_SIZE}")
            self._master_id = hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]
            self._master = key
        return self._master, self._master_id

    def seal(self, request: EncryptionRequest) -> Sealing:
        """A fresh data key for a new object or upload, wrapped as the request asks."""
        data_key = os.urandom(KEY_SIZE)
        if request.customer_key is None:
            master, key_id = self._master_key()
            envelope = Envelope(EncryptionKind.SSE_S3, aes_key_wrap(master, data_key), key_id=key_id)
        else:
            salt = os.urandom(16)
            customer = request.customer_key.secret
            envelope = Envelope(
                EncryptionKind.SSE_C,
                aes_key_wrap(customer, data_key),
                key_salt=salt,
                key_check=_key_check(customer, salt),
            )
        return Sealing(envelope, data_key)

    def open(self, envelope: Envelope | None, customer_key: CustomerKey | None) -> Sealing | None:
        """The envelope's data key (None for bytes stored as they are), if customer_key is the right one: refused
        without a key an SSE-C object needs, with a wrong one, or with one an object without SSE-C does not take."""
        if envelope is None or envelope.kind is EncryptionKind.SSE_S3:
            if customer_key is not None:
                raise EncryptionNotApplicable(
                    "The encryption parameters are not applicable to this object: it is not stored with a "
                    "customer-provided key (SSE-C); send the request without x-amz-server-side-encryption-customer-*"
                )
            if envelope is None:
                return None
            master, key_id = self._master_key()
            if envelope.key_id != key_id:
                raise ConfigurationError(
                    f"the object's data key was wrapped by master key {envelope.key_id!r}, and the data directory's "
                    f"master key is {key_id!r}: restore the lake's master key file that the object was written with"
                )
            return Sealing(envelope, _unwrap(master, envelope.wrapped_key))
        if customer_key is None:
            raise MissingCustomerKey(
                "The object was stored using a form of Server Side Encryption. The correct parameters must be "
                "provided to retrieve the object."
            )
        if not hmac.compare_digest(_key_check(customer_key.secret, envelope.key_salt), envelope.key_check):
            raise WrongCustomerKey(
                "Access Denied: the customer-provided key (x-amz-server-side-encryption-customer-key, MD5 "
                f"{customer_key.md5}) is not the key the object was stored with"
            )
        return Sealing(envelope, _unwrap(customer_key.secret, envelope.wrapped_key))


def _key_check(key: bytes, salt: bytes) -> bytes:
    return hmac.new(key, _CHECK_LABEL + salt, hashlib.sha256).digest()


def _unwrap(wrapping_key: bytes, wrapped: bytes) -> bytes:
    try:
        return aes_key_unwrap(wrapping_key, wrapped)
    except InvalidUnwrap:
        raise SealBroken("The object's wrapped data key fails its integrity check") from None


def refuse_without_keyring() -> Keyring:
    """A keyring for a lake built without a master key: every attempt to use one is refused."""

    def missing() -> bytes:
        raise NotImplementedOperation(
            "A header you provided implies functionality that is not implemented: this lake was built without a "
            "master key, so it cannot encrypt or decrypt objects"
        )

    return Keyring(missing)


# The format itself


def sealed_size(plain_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """How many bytes a segment of plain_size bytes takes sealed: its prefix, its bytes and one tag per chunk."""
    return PREFIX_SIZE + plain_size + TAG_SIZE * chunk_count(plain_size, chunk_size)


def chunk_count(plain_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    """How many chunks a segment of plain_size bytes is sealed in (an empty one has one, empty)."""
    return max(1, -(-plain_size // chunk_size))


def _aad(segment: int, chunk: int, last: bool) -> bytes:
    return _AAD.pack(_AAD_TAG, segment, chunk, last)


def _nonce(prefix: bytes, chunk: int) -> bytes:
    return prefix + struct.pack(">I", chunk)


class SegmentSealer:
    """Seals one segment's plaintext as it streams in, writing the sealed bytes to `sink`."""

    def __init__(self, data_key: bytes, sink: Callable[[bytes], None], segment: int, chunk_size: int = CHUNK_SIZE):
        self._aes = AESGCM(data_key)
        self._sink = sink
        self._segment = segment
        self._chunk_size = chunk_size
        self._prefix = os.urandom(PREFIX_SIZE)
        self._buffer = bytearray()
        self._chunk = 0
        self._started = False

    def write(self, data: bytes) -> None:
        """Take more plaintext; every chunk known not to be the last is sealed and written at once."""
        self._buffer += data
        # A full chunk is held back until more arrives: only then is it known not to be the last.
        while len(self._buffer) > self._chunk_size:
            self._emit(bytes(self._buffer[: self._chunk_size]), last=False)
            del self._buffer[: self._chunk_size]

    def finish(self) -> None:
        """Seal what is left as the last chunk (empty for an empty segment)."""
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()

    def _emit(self, plain: bytes, *, last: bool) -> None:
        if not self._started:
            self._sink(self._prefix)
            self._started = True
        sealed = self._aes.encrypt(_nonce(self._prefix, self._chunk), plain, _aad(self._segment, self._chunk, last))
        self._sink(sealed)
        self._chunk += 1


def open_range(sealing: Sealing, read: BlobReader, start: int, end: int) -> Iterator[bytes]:
    """Plaintext bytes [start, end) of the sealed object, opening only the chunks they lie in."""
    envelope = sealing.envelope
    aes = AESGCM(sealing.data_key)
    plain_at = blob_at = 0
    for segment, size in envelope.segments:
        lo, hi = max(start, plain_at), min(end, plain_at + size)
        if lo < hi:
            yield from _open_segment(
                aes, envelope.chunk_size, read, blob_at, segment, size, lo - plain_at, hi - plain_at
            )
        plain_at += size
        blob_at += sealed_size(size, envelope.chunk_size)


def _open_segment(
    aes: AESGCM, chunk_size: int, read: BlobReader, blob_at: int, segment: int, size: int, start: int, end: int
) -> Iterator[bytes]:
    """Plaintext [start, end) of one segment that begins at blob offset blob_at."""
    count = chunk_count(size, chunk_size)
    first = start // chunk_size
    last = max(first, (end - 1) // chunk_size)
    sealed_chunk = chunk_size + TAG_SIZE
    body_at = blob_at + PREFIX_SIZE
    read_from = body_at + first * sealed_chunk
    read_to = min(body_at + (last + 1) * sealed_chunk, blob_at + sealed_size(size, chunk_size))
    if first == 0:
        stream = _ExactReader(read(blob_at, read_to))
        prefix = stream.take(PREFIX_SIZE)
    else:
        prefix = _ExactReader(read(blob_at, body_at)).take(PREFIX_SIZE)
        stream = _ExactReader(read(read_from, read_to))
    for number in range(first, last + 1):
        is_last = number == count - 1
        length = (size - number * chunk_size if is_last else chunk_size) + TAG_SIZE
        try:
            plain = aes.decrypt(_nonce(prefix, number), stream.take(length), _aad(segment, number, is_last))
        except InvalidTag:
            raise SealBroken(
                f"Chunk {number} of segment {segment} of an encrypted object fails its integrity check"
            ) from None
        offset = number * chunk_size
        yield plain[max(0, start - offset) : end - offset]


class _ExactReader:
    """Exact-length pieces from a blob stream; SealBroken if the stream ends first (the blob was cut short)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()

    def take(self, length: int) -> bytes:
        """The stream's next `length` bytes."""
        while len(self._buffer) < length:
            more = next(self._chunks, None)
            if more is None:
                raise SealBroken("An encrypted object's stored bytes end before its last chunk: it was cut short")
            self._buffer += more
        out = bytes(self._buffer[:length])
        del self._buffer[:length]
        return out


class SealedBlobWriter:
    """A BlobWriter that seals what it is given, as one segment, into another: the blob store sees only sealed bytes.

    commit answers the plaintext's size and MD5 (what Content-MD5 and an SSE-S3 ETag are computed over).
    """

    def __init__(self, blob: BlobWriter, sealing: Sealing, segment: int) -> None:
        self._blob = blob
        self.sealing = sealing
        self._sealer = SegmentSealer(sealing.data_key, blob.write, segment, sealing.envelope.chunk_size)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._size = 0
        self._stored: BlobInfo | None = None

    def write(self, chunk: bytes) -> None:
        """Take plaintext."""
        self._sealer.write(chunk)
        self._md5.update(chunk)
        self._size += len(chunk)

    def commit(self) -> BlobInfo:
        """Seal the last chunk and store the blob; the plaintext's size and MD5 under the blob's key."""
        self._sealer.finish()
        self._stored = self._blob.commit()
        return BlobInfo(self._stored.key, self._size, self._md5.hexdigest())

    @property
    def etag_md5(self) -> str:
        """The MD5 S3's ETag shows (after commit): the plaintext's for SSE-S3. S3's ETag of an SSE-C object is not
        its plaintext's MD5 (with it anyone could test a guess of the plaintext): the sealed bytes' MD5 stands in,
        as random-looking as S3's."""
        assert self._stored is not None, "etag_md5 is known once the blob is committed"
        if self.sealing.envelope.kind is EncryptionKind.SSE_C:
            return self._stored.md5
        return self._md5.hexdigest()

    def abort(self) -> None:
        """Throw the bytes away."""
        self._blob.abort()

    def __enter__(self) -> SealedBlobWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.abort()
