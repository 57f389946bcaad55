"""The sealed-chunk format: round trips of every range, and every kind of tampering refused."""

from __future__ import annotations

import dataclasses
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from altostratus.core.errors import ConfigurationError
from altostratus.lake.encryption import (
    PREFIX_SIZE,
    SSE_S3,
    TAG_SIZE,
    CustomerKey,
    EncryptionKind,
    EncryptionNotApplicable,
    EncryptionRequest,
    Envelope,
    Keyring,
    MissingCustomerKey,
    SealBroken,
    Sealing,
    SegmentSealer,
    WrongCustomerKey,
    open_range,
    sealed_size,
)
from altostratus.lake.master_key import load_or_create

CHUNK = 16  # small chunks, so that a few bytes cross many boundaries
MASTER = bytes(range(32))


def keyring() -> Keyring:
    return Keyring(lambda: MASTER)


def seal(plain_segments: list[bytes], request: EncryptionRequest = SSE_S3) -> tuple[Sealing, bytes]:
    """The sealing and the sealed blob of an object made of these segments (ids 1, 2, ...), in pieces of 7 bytes."""
    sealing = keyring().seal(request)
    sealing = Sealing(dataclasses.replace(sealing.envelope, chunk_size=CHUNK), sealing.data_key)
    out = bytearray()
    for number, plain in enumerate(plain_segments, start=1):
        sealer = SegmentSealer(sealing.data_key, out.extend, number, CHUNK)
        for at in range(0, len(plain), 7):
            sealer.write(plain[at : at + 7])
        sealer.finish()
    segments = tuple((number, len(plain)) for number, plain in enumerate(plain_segments, start=1))
    return Sealing(sealing.envelope.with_segments(segments), sealing.data_key), bytes(out)


def reader(blob: bytes, piece: int = 5):
    def read(start: int, end: int) -> Iterator[bytes]:
        for at in range(start, min(end, len(blob)), piece):
            yield blob[at : min(at + piece, end)]

    return read


def opened(sealing: Sealing, blob: bytes, start: int, end: int) -> bytes:
    return b"".join(open_range(sealing, reader(blob), start, end))


@pytest.mark.parametrize("sizes", [[0], [1], [CHUNK], [CHUNK + 1], [5 * CHUNK], [3 * CHUNK + 5, 2 * CHUNK, 7]])
def test_every_range_of_every_object_opens_to_its_plaintext(sizes: list[int]) -> None:
    segments = [os.urandom(size) for size in sizes]
    plain = b"".join(segments)
    sealing, blob = seal(segments)
    assert len(blob) == sum(sealed_size(size, CHUNK) for size in sizes)
    for start in range(len(plain) + 1):
        for end in range(start, len(plain) + 1):
            assert opened(sealing, blob, start, end) == plain[start:end], (start, end)


def test_the_sealed_bytes_are_not_the_plaintext() -> None:
    plain = b"a known plaintext marker " * 10
    _, blob = seal([plain])
    assert b"known plaintext" not in blob


def test_a_tampered_chunk_fails_to_open() -> None:
    sealing, blob = seal([b"x" * (3 * CHUNK)])
    flipped = bytearray(blob)
    flipped[PREFIX_SIZE + CHUNK + TAG_SIZE + 3] ^= 1  # a byte of the second chunk
    assert opened(sealing, bytes(flipped), 0, CHUNK) == b"x" * CHUNK  # the chunks before it still open
    with pytest.raises(SealBroken, match="Chunk 1 of segment 1"):
        opened(sealing, bytes(flipped), 0, 3 * CHUNK)


def test_swapped_chunks_fail_to_open() -> None:
    sealing, blob = seal([b"a" * CHUNK + b"b" * CHUNK + b"c" * CHUNK])
    body, sealed = blob[PREFIX_SIZE:], CHUNK + TAG_SIZE
    swapped = blob[:PREFIX_SIZE] + body[sealed : 2 * sealed] + body[:sealed] + body[2 * sealed :]
    with pytest.raises(SealBroken):
        opened(sealing, swapped, 0, 3 * CHUNK)


def test_swapped_segments_fail_to_open() -> None:
    sealing, blob = seal([b"a" * CHUNK, b"b" * CHUNK])
    half = len(blob) // 2
    with pytest.raises(SealBroken):
        opened(sealing, blob[half:] + blob[:half], 0, 2 * CHUNK)


@pytest.mark.parametrize("cut", [1, TAG_SIZE, CHUNK + TAG_SIZE])
def test_a_truncated_object_fails_to_open(cut: int) -> None:
    sealing, blob = seal([b"z" * (2 * CHUNK + 3)])
    with pytest.raises(SealBroken):
        opened(sealing, blob[:-cut], 0, 2 * CHUNK + 3)


def test_dropping_the_last_chunk_at_a_boundary_fails_to_open() -> None:
    # Two full chunks: the first, alone, is not sealed as a last chunk, so cutting the second off is noticed.
    sealing, blob = seal([b"q" * (2 * CHUNK)])
    shortened = Sealing(sealing.envelope.with_segments(((1, CHUNK),)), sealing.data_key)
    with pytest.raises(SealBroken):
        opened(shortened, blob[: PREFIX_SIZE + CHUNK + TAG_SIZE], 0, CHUNK)


def test_customer_keys_open_only_their_own_objects() -> None:
    key = CustomerKey(os.urandom(32))
    sealing, blob = seal([b"secret" * 9], EncryptionRequest(EncryptionKind.SSE_C, key))
    envelope = sealing.envelope
    assert key.secret not in repr(envelope.to_json()).encode() and "hidden" in repr(key)
    opened_again = keyring().open(Envelope.from_json(envelope.to_json()), key)
    assert opened_again is not None and opened(opened_again, blob, 0, 54) == b"secret" * 9
    with pytest.raises(MissingCustomerKey):
        keyring().open(envelope, None)
    with pytest.raises(WrongCustomerKey):
        keyring().open(envelope, CustomerKey(os.urandom(32)))
    s3_sealed = keyring().seal(SSE_S3).envelope
    with pytest.raises(EncryptionNotApplicable):
        keyring().open(s3_sealed, key)
    with pytest.raises(EncryptionNotApplicable):
        keyring().open(None, key)


def test_another_master_key_is_named_not_used() -> None:
    envelope = keyring().seal(SSE_S3).envelope
    with pytest.raises(ConfigurationError, match="master key"):
        Keyring(lambda: b"\x01" * 32).open(envelope, None)


def test_the_master_key_file_is_made_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "keys" / "lake-master.key"
    key = load_or_create(path)
    assert len(key) == 32 and load_or_create(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["lake-master.key"]
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="owner's only"):
        load_or_create(path)


def test_sealing_and_opening_run_at_hundreds_of_mib_per_second() -> None:
    plain = os.urandom(32 * 1024 * 1024)
    sealing = keyring().seal(SSE_S3)
    out = bytearray()
    began = time.perf_counter()
    sealer = SegmentSealer(sealing.data_key, out.extend, 0)
    for at in range(0, len(plain), 1024 * 1024):
        sealer.write(plain[at : at + 1024 * 1024])
    sealer.finish()
    sealed_at = time.perf_counter()
    whole = Sealing(sealing.envelope.with_segments(((0, len(plain)),)), sealing.data_key)
    assert b"".join(open_range(whole, reader(bytes(out), 1024 * 1024), 0, len(plain))) == plain
    opened_at = time.perf_counter()
    mib = len(plain) / 2**20
    print(f"seal {mib / (sealed_at - began):.0f} MiB/s, open {mib / (opened_at - sealed_at):.0f} MiB/s")
    assert mib / (opened_at - began) > 50  # both together; a loaded 2-core machine still does several hundred
