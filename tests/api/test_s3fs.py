"""s3fs / fsspec against a live server: files written and read, listings, globbing, partial reads, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
from collections.abc import Iterator
from typing import Any

import pytest
import s3fs  # type: ignore[import-untyped]

from tests.live_server import LiveServer

MiB = 1024 * 1024


@pytest.fixture
def fs(server: LiveServer) -> Iterator[s3fs.S3FileSystem]:
    """A fresh s3fs filesystem (no shared instance cache) signed with the server's admin key."""
    filesystem = s3fs.S3FileSystem(
        key=server.access_key,
        secret=server.secret_key,
        client_kwargs={"endpoint_url": server.endpoint, "region_name": "us-east-1"},
        skip_instance_cache=True,
    )
    yield filesystem
    filesystem.invalidate_cache()


def test_text_and_binary_files(fs: s3fs.S3FileSystem, bucket: str) -> None:
    with fs.open(f"{bucket}/notes/hello.txt", "w", encoding="utf-8") as handle:
        handle.write("grüße, lake\nsecond line\n")
    with fs.open(f"{bucket}/notes/hello.txt", "r", encoding="utf-8") as handle:
        assert handle.readlines() == ["grüße, lake\n", "second line\n"]

    data = bytes(range(256)) * 3
    fs.pipe_file(f"{bucket}/raw/bytes.bin", data)
    assert fs.cat_file(f"{bucket}/raw/bytes.bin") == data
    with fs.open(f"{bucket}/raw/bytes.bin", "rb") as handle:
        handle.seek(250)
        assert handle.read(10) == data[250:260]
        assert handle.tell() == 260

    fs.pipe_file(f"{bucket}/raw/empty", b"")
    assert fs.cat_file(f"{bucket}/raw/empty") == b""
    assert fs.info(f"{bucket}/raw/empty")["size"] == 0


def test_20_mb_written_in_chunks(fs: s3fs.S3FileSystem, s3: Any, bucket: str) -> None:
    rng = random.Random(20)
    digest = hashlib.sha256()
    path = f"{bucket}/big/twenty.bin"
    # s3fs buffers 5 MiB blocks and sends each as one part of a multipart upload.
    with fs.open(path, "wb", block_size=5 * MiB) as handle:
        for _ in range(20):
            chunk = rng.randbytes(MiB)
            digest.update(chunk)
            handle.write(chunk)

    assert fs.info(path)["size"] == 20 * MiB
    assert s3.head_object(Bucket=bucket, Key="big/twenty.bin")["ETag"].endswith('-4"')
    back = hashlib.sha256()
    with fs.open(path, "rb", block_size=3 * MiB) as handle:
        while chunk := handle.read(MiB + 17):
            back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()


def test_ls_find_glob_info_exists(fs: s3fs.S3FileSystem, bucket: str) -> None:
    for path in ("a.csv", "b.txt", "data/2024/01.csv", "data/2024/02.csv", "data/2025/01.csv", "data/readme.md"):
        fs.pipe_file(f"{bucket}/{path}", path.encode())

    assert sorted(fs.ls(bucket, detail=False)) == [f"{bucket}/a.csv", f"{bucket}/b.txt", f"{bucket}/data"]
    entries = {e["name"]: e for e in fs.ls(f"{bucket}/data", detail=True)}
    assert entries[f"{bucket}/data/2024"]["type"] == "directory"
    assert entries[f"{bucket}/data/readme.md"]["type"] == "file"
    assert entries[f"{bucket}/data/readme.md"]["size"] == len("data/readme.md")

    assert fs.find(f"{bucket}/data") == [
        f"{bucket}/data/2024/01.csv",
        f"{bucket}/data/2024/02.csv",
        f"{bucket}/data/2025/01.csv",
        f"{bucket}/data/readme.md",
    ]
    assert fs.glob(f"{bucket}/data/*/01.csv") == [f"{bucket}/data/2024/01.csv", f"{bucket}/data/2025/01.csv"]
    assert fs.glob(f"{bucket}/**/*.csv") == [
        f"{bucket}/a.csv",
        f"{bucket}/data/2024/01.csv",
        f"{bucket}/data/2024/02.csv",
        f"{bucket}/data/2025/01.csv",
    ]

    info = fs.info(f"{bucket}/data/2024/01.csv")
    assert (info["type"], info["size"]) == ("file", len("data/2024/01.csv"))
    assert info["ETag"] == f'"{hashlib.md5(b"data/2024/01.csv").hexdigest()}"'
    assert fs.info(f"{bucket}/data/2024")["type"] == "directory"
    assert fs.isdir(f"{bucket}/data") and not fs.isfile(f"{bucket}/data")
    assert fs.exists(f"{bucket}/a.csv")
    assert not fs.exists(f"{bucket}/nope.csv")
    assert not fs.exists("no-such-bucket-anywhere/x")
    with pytest.raises(FileNotFoundError):
        fs.info(f"{bucket}/nope.csv")
    with pytest.raises(FileNotFoundError):
        fs.cat_file(f"{bucket}/nope.csv")

    assert fs.du(f"{bucket}/data") == sum(
        len(p) for p in ("data/2024/01.csv", "data/2024/02.csv", "data/2025/01.csv", "data/readme.md")
    )


def test_rm_and_cache_invalidation(fs: s3fs.S3FileSystem, s3: Any, bucket: str) -> None:
    for path in ("keep.txt", "tmp/1", "tmp/2", "tmp/deeper/3"):
        fs.pipe_file(f"{bucket}/{path}", b"x")
    assert len(fs.find(bucket)) == 4

    fs.rm(f"{bucket}/keep.txt")
    assert not fs.exists(f"{bucket}/keep.txt")
    fs.rm(f"{bucket}/tmp", recursive=True)
    assert fs.find(bucket) == []

    # A write made behind s3fs's back shows only once its listing cache is dropped.
    fs.ls(bucket)
    s3.put_object(Bucket=bucket, Key="sneaky.txt", Body=b"hi")
    fs.invalidate_cache(bucket)
    assert fs.ls(bucket, detail=False) == [f"{bucket}/sneaky.txt"]


def test_cat_file_with_start_and_end(fs: s3fs.S3FileSystem, bucket: str) -> None:
    data = random.Random(5).randbytes(100_000)
    path = f"{bucket}/ranges.bin"
    fs.pipe_file(path, data)

    assert fs.cat_file(path, start=0, end=10) == data[:10]
    assert fs.cat_file(path, start=12_345, end=54_321) == data[12_345:54_321]
    assert fs.cat_file(path, start=99_990) == data[99_990:]
    assert fs.cat_file(path, start=-100) == data[-100:]
    assert fs.cat_file(path, start=10, end=-10) == data[10:-10]
    assert fs.read_block(path, 1000, 500) == data[1000:1500]
    assert fs.cat_ranges([path, path], [0, 50_000], [5, 50_010]) == [data[0:5], data[50_000:50_010]]


def test_csv_round_trip(fs: s3fs.S3FileSystem, bucket: str) -> None:
    rows = [
        {"id": str(i), "name": f"item {i}", "note": 'has "quotes", commas\nand a newline' if i % 10 == 0 else ""}
        for i in range(500)
    ]
    with fs.open(f"{bucket}/tables/items.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "name", "note"])
        writer.writeheader()
        writer.writerows(rows)

    with fs.open(f"{bucket}/tables/items.csv", "r", newline="", encoding="utf-8") as handle:
        assert list(csv.DictReader(handle)) == rows

    text = fs.cat_file(f"{bucket}/tables/items.csv").decode()
    assert list(csv.DictReader(io.StringIO(text, newline=""))) == rows


def test_put_get_copy_move(fs: s3fs.S3FileSystem, bucket: str, tmp_path: Any) -> None:
    local = tmp_path / "in"
    (local / "sub").mkdir(parents=True)
    (local / "one.txt").write_text("1")
    (local / "sub" / "two.txt").write_text("22")

    fs.put(str(local), f"{bucket}/up", recursive=True)
    assert fs.find(f"{bucket}/up") == [f"{bucket}/up/one.txt", f"{bucket}/up/sub/two.txt"]

    fs.copy(f"{bucket}/up/one.txt", f"{bucket}/copied.txt")
    fs.mv(f"{bucket}/up/sub/two.txt", f"{bucket}/moved.txt")
    assert fs.cat_file(f"{bucket}/copied.txt") == b"1"
    assert fs.cat_file(f"{bucket}/moved.txt") == b"22"
    assert not fs.exists(f"{bucket}/up/sub/two.txt")

    fs.get(f"{bucket}/up", str(tmp_path / "out"), recursive=True)
    assert (tmp_path / "out" / "one.txt").read_text() == "1"


def test_buckets_touch_and_modified(fs: s3fs.S3FileSystem) -> None:
    fs.mkdir("s3fs-made-bucket")
    assert "s3fs-made-bucket" in fs.ls("", detail=False)
    assert fs.info("s3fs-made-bucket")["type"] == "directory"

    fs.touch("s3fs-made-bucket/marker")
    assert fs.cat_file("s3fs-made-bucket/marker") == b""
    modified = fs.modified("s3fs-made-bucket/marker")
    assert abs(dt.datetime.now(dt.UTC) - modified) < dt.timedelta(minutes=5)

    with pytest.raises(OSError):
        fs.rmdir("s3fs-made-bucket")
    fs.rm("s3fs-made-bucket/marker")
    fs.rmdir("s3fs-made-bucket")
    fs.invalidate_cache()
    assert "s3fs-made-bucket" not in fs.ls("", detail=False)
    assert not fs.exists("s3fs-made-bucket")
