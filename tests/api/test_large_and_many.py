"""Large objects and many keys through boto3: multipart transfers, range reads, and listing 10,000 keys."""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from tests.live_server import LiveServer

MiB = 1024 * 1024
BIG = 100 * MiB
# 8 MiB parts: a 100 MiB object goes up as 13 parts, and comes down as 13 concurrent range reads.
TRANSFER = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
MANY = 10_000
# 8 threads put faster than 16 on 2 cores: the client threads and the server share the CPUs.
PUT_THREADS = 8


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


# ---- round trips -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 4096 + 7])
def test_small_round_trip_with_transfer_manager(s3: Any, bucket: str, tmp_path: Path, size: int) -> None:
    data = random_bytes(size, seed=size)
    source = tmp_path / "source"
    source.write_bytes(data)

    s3.upload_file(str(source), bucket, "obj", Config=TRANSFER)
    s3.download_file(bucket, "obj", str(tmp_path / "back"), Config=TRANSFER)

    assert file_sha256(tmp_path / "back") == sha256(data)
    head = s3.head_object(Bucket=bucket, Key="obj")
    assert head["ContentLength"] == size
    assert head["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'


@pytest.fixture(scope="module")
def big_object(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, bytes]]:
    """A 100 MiB object uploaded once with the transfer manager: (bucket, its bytes)."""
    s3 = server.client("s3")
    bucket = "large-and-many-big"
    data = random_bytes(BIG, seed=100)
    source = tmp_path_factory.mktemp("big") / "big.bin"
    source.write_bytes(data)
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(source), bucket, "big.bin", Config=TRANSFER)
    source.unlink()
    yield bucket, data


@pytest.mark.slow
def test_100_mb_round_trip(server: LiveServer, big_object: tuple[str, bytes], tmp_path: Path) -> None:
    bucket, data = big_object
    s3 = server.client("s3")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == BIG
    parts = [data[i : i + 8 * MiB] for i in range(0, BIG, 8 * MiB)]
    parts_md5 = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    assert head["ETag"] == f'"{parts_md5}-{len(parts)}"'

    target = tmp_path / "big.down"
    s3.download_file(bucket, "big.bin", str(target), Config=TRANSFER)
    assert target.stat().st_size == BIG
    assert file_sha256(target) == sha256(data)


@pytest.mark.slow
def test_range_reads_on_100_mb_object(server: LiveServer, big_object: tuple[str, bytes]) -> None:
    bucket, data = big_object
    s3 = server.client("s3")
    rng = random.Random(42)
    spans = [(rng.randrange(BIG), rng.choice([1, 17, 4096, MiB + 3])) for _ in range(40)]
    # Edges: the first byte, the last byte, across the 8 MiB part seams, and a span past the end.
    spans += [(0, 1), (BIG - 1, 1), (8 * MiB - 5, 10), (96 * MiB - 1, 2), (BIG - 100, 1000)]
    for start, length in spans:
        end = min(start + length, BIG) - 1
        got = s3.get_object(Bucket=bucket, Key="big.bin", Range=f"bytes={start}-{start + length - 1}")
        assert got["ContentRange"] == f"bytes {start}-{end}/{BIG}"
        assert got["Body"].read() == data[start : end + 1], (start, length)

    suffix = s3.get_object(Bucket=bucket, Key="big.bin", Range="bytes=-12345")
    assert suffix["Body"].read() == data[-12345:]
    tail = s3.get_object(Bucket=bucket, Key="big.bin", Range=f"bytes={BIG - 777}-")
    assert tail["Body"].read() == data[-777:]


# ---- 10,000 keys ---------------------------------------------------------------------------------------


def many_keys() -> list[str]:
    """10,000 keys: some at the top, the rest under three levels of folders, in no particular order."""
    keys = [f"top-{i:03d}.txt" for i in range(100)]
    keys += [f"dir{i % 9}/sub{i % 7:02d}/leaf-{i:05d}.bin" for i in range(MANY - 200)]
    keys += [f"dir{i % 9}/file-{i:04d}" for i in range(100)]
    random.Random(3).shuffle(keys)
    return keys


def put_all(server: LiveServer, bucket: str, keys: Iterable[str]) -> None:
    """Create the keys with a pool of threads, each with its own boto3 client."""
    local = threading.local()

    def put(key: str) -> None:
        if not hasattr(local, "s3"):
            local.s3 = server.client("s3")
        local.s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    with ThreadPoolExecutor(PUT_THREADS) as pool:
        for _ in pool.map(put, keys):
            pass


def expected_listing(keys: Iterable[str], prefix: str, delimiter: str) -> tuple[list[str], list[str]]:
    """(keys, common prefixes) that S3 lists for prefix and delimiter, each in order."""
    objects: list[str] = []
    prefixes: set[str] = set()
    for key in keys:
        if not key.startswith(prefix):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0:
            prefixes.add(key[: cut + len(delimiter)])
        else:
            objects.append(key)
    return sorted(objects), sorted(prefixes)


def paged_listing(s3: Any, bucket: str, page_size: int, **query: str) -> tuple[list[str], list[str], list[int]]:
    """Every key and common prefix, page by page; also each page's size."""
    keys: list[str] = []
    prefixes: list[str] = []
    sizes: list[int] = []
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": page_size}, **query
    )
    for page in pages:
        keys += [obj["Key"] for obj in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        sizes.append(page["KeyCount"])
        assert page["KeyCount"] == len(page.get("Contents", [])) + len(page.get("CommonPrefixes", []))
    return keys, prefixes, sizes


@pytest.fixture(scope="module")
def many(server: LiveServer) -> tuple[str, list[str]]:
    """A bucket holding 10,000 keys: (bucket, keys)."""
    bucket = "large-and-many-10k"
    server.client("s3").create_bucket(Bucket=bucket)
    keys = many_keys()
    put_all(server, bucket, keys)
    return bucket, keys


@pytest.mark.slow
def test_list_10000_keys_page_by_page(server: LiveServer, many: tuple[str, list[str]]) -> None:
    bucket, keys = many
    listed, prefixes, sizes = paged_listing(server.client("s3"), bucket, 1000)
    assert len(listed) == MANY
    assert len(set(listed)) == MANY
    assert listed == sorted(keys)
    assert prefixes == []
    assert sizes == [1000] * 10


@pytest.mark.slow
def test_list_10000_keys_with_delimiter(server: LiveServer, many: tuple[str, list[str]]) -> None:
    bucket, keys = many
    s3 = server.client("s3")
    for prefix, page_size in (("", 1000), ("", 7), ("dir4/", 3), ("dir4/sub05/", 1000), ("dir4/sub05/leaf-0", 250)):
        listed, prefixes, _ = paged_listing(s3, bucket, page_size, Prefix=prefix, Delimiter="/")
        assert (listed, prefixes) == expected_listing(keys, prefix, "/"), (prefix, page_size)
    top_keys, top_prefixes = expected_listing(keys, "", "/")
    assert len(top_keys) == 100
    assert top_prefixes == [f"dir{i}/" for i in range(9)]

    # The prefix alone, without a delimiter, pages through one folder's whole subtree.
    listed, _, _ = paged_listing(s3, bucket, 1000, Prefix="dir2/")
    assert listed == sorted(k for k in keys if k.startswith("dir2/"))
