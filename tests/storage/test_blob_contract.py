"""The BlobStore contract, run over every backend: the local filesystem and S3 (SeaweedFS)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from altostratus.core.settings import Settings
from altostratus.storage.blobs import CHUNK_SIZE, BlobMissing, BlobStore, concat, put_chunks
from altostratus.storage.factory import blob_store_from_settings

MIB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """An empty store of each backend (S3: a fresh prefix in a shared bucket)."""
    if request.param == "local":
        return blob_store_from_settings(Settings(data_dir=tmp_path))
    server = request.getfixturevalue("seaweedfs")
    settings = Settings(
        data_dir=tmp_path,
        lake_backend=f"s3://contract/{uuid.uuid4().hex}",
        lake_s3_endpoint=server.endpoint_url,
        lake_s3_access_key=server.access_key,
        lake_s3_secret_key=server.secret_key,
    )
    return blob_store_from_settings(settings)


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    """`data` cut into chunks of `size` bytes."""
    return (data[i : i + size] for i in range(0, len(data), size))


def read_all(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(store.read(key, start, end))


@pytest.mark.parametrize("size", [0, 5, 3 * MIB + 7], ids=["empty", "small", "3MiB"])
def test_round_trip(store: BlobStore, size: int) -> None:
    data = os.urandom(size)
    info = put_chunks(store, "dir/blob", pieces(data, 100_000))
    assert (info.key, info.size, info.md5) == ("dir/blob", size, hashlib.md5(data).hexdigest())
    assert store.exists("dir/blob")
    assert store.size("dir/blob") == size
    chunks = list(store.read("dir/blob"))
    assert b"".join(chunks) == data
    assert all(len(chunk) <= CHUNK_SIZE for chunk in chunks)


def test_large_blob_round_trip(store: BlobStore) -> None:
    # Past boto3's 8 MiB multipart threshold and the writer's in-memory spool.
    data = os.urandom(9 * MIB + 1)
    info = put_chunks(store, "large", pieces(data, MIB))
    assert (info.size, info.md5) == (len(data), hashlib.md5(data).hexdigest())
    assert read_all(store, "large") == data


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (3, None, slice(3, None)),
        (0, 4, slice(0, 4)),
        (2, 7, slice(2, 7)),
        (5, 1000, slice(5, None)),
        (10, None, slice(10, 10)),
        (50, None, slice(50, 50)),
        (4, 4, slice(4, 4)),
        (0, 0, slice(0, 0)),
    ],
)
def test_range_reads(store: BlobStore, start: int, end: int | None, expected: slice) -> None:
    data = b"0123456789"
    put_chunks(store, "digits", [data])
    assert read_all(store, "digits", start, end) == data[expected]


def test_range_read_across_chunks(store: BlobStore) -> None:
    data = os.urandom(2 * MIB + 10)
    put_chunks(store, "blob", [data])
    assert read_all(store, "blob", MIB - 5, 2 * MIB + 3) == data[MIB - 5 : 2 * MIB + 3]


def test_range_reads_of_empty_blob(store: BlobStore) -> None:
    put_chunks(store, "empty", [])
    assert read_all(store, "empty", 0, 10) == b""
    assert read_all(store, "empty", 3) == b""


def test_overwrite_replaces_the_whole_blob(store: BlobStore) -> None:
    put_chunks(store, "key", [os.urandom(2 * MIB)])
    info = put_chunks(store, "key", [b"short"])
    assert info.size == 5
    assert store.size("key") == 5
    assert read_all(store, "key") == b"short"


class SourceFailed(Exception):
    pass


def failing_source(data: bytes) -> Iterator[bytes]:
    yield from pieces(data, 64 * 1024)
    raise SourceFailed("the client went away")


def test_failing_source_leaves_no_blob(store: BlobStore) -> None:
    with pytest.raises(SourceFailed):
        put_chunks(store, "new", failing_source(os.urandom(MIB)))
    assert not store.exists("new")
    assert list(store.keys()) == []


def test_failing_source_leaves_old_blob_whole(store: BlobStore) -> None:
    old = os.urandom(MIB + 3)
    put_chunks(store, "key", [old])
    with pytest.raises(SourceFailed):
        put_chunks(store, "key", failing_source(os.urandom(2 * MIB)))
    assert read_all(store, "key") == old
    assert list(store.keys()) == ["key"]


def test_abort_after_writes_leaves_nothing(store: BlobStore) -> None:
    writer = store.writer("aborted")
    writer.write(b"some bytes")
    writer.write(os.urandom(MIB))
    writer.abort()
    writer.abort()
    assert not store.exists("aborted")
    assert list(store.keys()) == []


def test_abort_after_commit_keeps_blob(store: BlobStore) -> None:
    with store.writer("kept") as writer:
        writer.write(b"bytes")
        writer.commit()
        writer.abort()
    assert read_all(store, "kept") == b"bytes"


def test_delete(store: BlobStore) -> None:
    put_chunks(store, "gone", [b"x"])
    store.delete("gone")
    assert not store.exists("gone")
    store.delete("gone")
    store.delete("never/was")


def test_keys_by_prefix(store: BlobStore) -> None:
    for key in ["a/1", "a/2", "a/sub/3", "ab", "b/1"]:
        put_chunks(store, key, [key.encode()])
    assert sorted(store.keys()) == ["a/1", "a/2", "a/sub/3", "ab", "b/1"]
    assert sorted(store.keys("a/")) == ["a/1", "a/2", "a/sub/3"]
    assert sorted(store.keys("a")) == ["a/1", "a/2", "a/sub/3", "ab"]
    assert sorted(store.keys("c")) == []


def test_concat(store: BlobStore) -> None:
    parts = [os.urandom(MIB + 1), b"", os.urandom(17), os.urandom(MIB)]
    for number, data in enumerate(parts):
        put_chunks(store, f"parts/{number}", [data])
    whole = b"".join(parts)
    info = concat(store, "whole", [f"parts/{number}" for number in range(len(parts))])
    assert (info.size, info.md5) == (len(whole), hashlib.md5(whole).hexdigest())
    assert read_all(store, "whole") == whole


def test_missing_blob(store: BlobStore) -> None:
    with pytest.raises(BlobMissing):
        store.read("missing")
    with pytest.raises(BlobMissing):
        store.read("missing", 0, 0)
    with pytest.raises(BlobMissing):
        store.size("missing")
    assert not store.exists("missing")
    assert BlobMissing.code == "NoSuchKey"
    assert BlobMissing.status == 404
