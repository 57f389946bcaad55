"""The real `aws` CLI (v1) against a live server: the `s3` commands and a few `s3api` calls."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import LiveServer

AWS = str(Path(sys.executable).with_name("aws"))
MiB = 1024 * 1024


def cli_env(server: LiveServer) -> dict[str, str]:
    """The server's key and region for the CLI; nothing from the machine's ~/.aws may change what it sends."""
    return {**server.aws_env(), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def aws(server: LiveServer, *args: str, ok: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `aws --endpoint-url <server> ARGS`; with ok, fail the test unless it exits 0."""
    result = subprocess.run(
        [AWS, "--endpoint-url", server.endpoint, *args],
        env=cli_env(server),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if ok:
        assert result.returncode == 0, f"aws {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result


def aws_json(server: LiveServer, *args: str) -> Any:
    """Run an `aws s3api` command and parse its JSON output."""
    out = aws(server, *args, "--output", "json").stdout
    return json.loads(out) if out.strip() else {}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def write_random(path: Path, size: int, seed: int = 0) -> Path:
    """A file of `size` pseudo-random bytes, written a MiB at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for start in range(0, size, MiB):
            block = hashlib.sha256(f"{seed}-{start}".encode()).digest() * (MiB // 32)
            handle.write(block[: min(MiB, size - start)])
    return path


def make_tree(root: Path) -> dict[str, bytes]:
    """A few dozen small files in nested folders, some with spaces in their names; {relative path: bytes}."""
    files: dict[str, bytes] = {}
    for top in ("alpha", "beta two", "gamma"):
        for sub in ("", "inner", "deep/er folder"):
            for n in range(4):
                rel = "/".join(p for p in (top, sub, f"file {n}.txt" if n % 2 else f"file{n}.dat") if p)
                files[rel] = f"{rel}\n".encode() * (n + 1)
    files["top level.txt"] = b"at the root\n"
    files["empty.bin"] = b""
    files["odd names/ünïcødé + plus & amp.txt"] = b"odd\n"
    files["odd names/100% (1).txt"] = b"percent\n"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def listed_keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


# ---- aws s3: buckets -------------------------------------------------------------------------------


def test_mb_ls_rb(server: LiveServer, s3: Any) -> None:
    made = aws(server, "s3", "mb", "s3://cli-made-bucket")
    assert made.stdout.strip() == "make_bucket: cli-made-bucket"
    assert "cli-made-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    listed = aws(server, "s3", "ls")
    lines = {line.split()[-1]: line for line in listed.stdout.splitlines()}
    # `aws s3 ls` prints "YYYY-MM-DD HH:MM:SS name" for each bucket.
    assert len(lines["cli-made-bucket"].split()) == 3

    again = aws(server, "s3", "mb", "s3://cli-made-bucket", ok=False)
    assert again.returncode == 1
    assert "BucketAlreadyOwnedByYou" in again.stderr

    removed = aws(server, "s3", "rb", "s3://cli-made-bucket")
    assert removed.stdout.strip() == "remove_bucket: cli-made-bucket"
    assert "cli-made-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_rb_refuses_a_bucket_with_objects_unless_forced(server: LiveServer, s3: Any) -> None:
    s3.create_bucket(Bucket="cli-full-bucket")
    s3.put_object(Bucket="cli-full-bucket", Key="a/b.txt", Body=b"x")

    refused = aws(server, "s3", "rb", "s3://cli-full-bucket", ok=False)
    assert refused.returncode == 1
    assert "BucketNotEmpty" in refused.stderr

    forced = aws(server, "s3", "rb", "s3://cli-full-bucket", "--force")
    assert "delete: s3://cli-full-bucket/a/b.txt" in forced.stdout
    assert "remove_bucket: cli-full-bucket" in forced.stdout
    assert "cli-full-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_ls_missing_bucket_fails(server: LiveServer) -> None:
    result = aws(server, "s3", "ls", "s3://no-such-bucket-here/", ok=False)
    assert result.returncode == 255
    assert "NoSuchBucket" in result.stderr


# ---- aws s3: copies --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 70_001])
def test_cp_up_and_down(server: LiveServer, s3: Any, bucket: str, tmp_path: Path, size: int) -> None:
    source = write_random(tmp_path / "up load.bin", size, seed=size)

    # A destination ending in "/" is a folder: the object keeps the file's name.
    up = aws(server, "s3", "cp", source.name, f"s3://{bucket}/dir/", "--no-progress", cwd=tmp_path)
    assert up.stdout.strip() == f"upload: ./up load.bin to s3://{bucket}/dir/up load.bin"
    head = s3.head_object(Bucket=bucket, Key="dir/up load.bin")
    assert (head["ContentLength"], head["ContentType"]) == (size, "application/octet-stream")

    down = aws(server, "s3", "cp", f"s3://{bucket}/dir/up load.bin", "down/file.bin", "--no-progress", cwd=tmp_path)
    assert down.stdout.strip() == f"download: s3://{bucket}/dir/up load.bin to down/file.bin"
    assert sha256(tmp_path / "down" / "file.bin") == sha256(source)


def test_cp_streams_stdin_up_and_stdout_down(server: LiveServer, s3: Any, bucket: str) -> None:
    data = bytes(range(256)) * 4096 * 3  # 3 MiB
    env = cli_env(server)
    base = [AWS, "--endpoint-url", server.endpoint, "s3", "cp"]
    # From stdin the CLI cannot know the size, so it always sends a multipart upload.
    up = subprocess.run(
        [*base, "-", f"s3://{bucket}/streamed.bin"], input=data, env=env, capture_output=True, timeout=120
    )
    assert up.returncode == 0, up.stderr
    assert s3.head_object(Bucket=bucket, Key="streamed.bin")["ContentLength"] == len(data)

    down = subprocess.run([*base, f"s3://{bucket}/streamed.bin", "-"], env=env, capture_output=True, timeout=120)
    assert down.returncode == 0, down.stderr
    assert down.stdout == data


def test_mv_moves_within_the_lake(server: LiveServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="from/here.txt", Body=b"moving", Metadata={"kept": "yes"})
    result = aws(server, "s3", "mv", f"s3://{bucket}/from/here.txt", f"s3://{bucket}/to/there.txt", "--no-progress")
    assert result.stdout.strip() == f"move: s3://{bucket}/from/here.txt to s3://{bucket}/to/there.txt"
    assert listed_keys(s3, bucket) == ["to/there.txt"]
    moved = s3.get_object(Bucket=bucket, Key="to/there.txt")
    assert (moved["Body"].read(), moved["Metadata"]) == (b"moving", {"kept": "yes"})


def test_cp_missing_object_fails(server: LiveServer, bucket: str, tmp_path: Path) -> None:
    result = aws(server, "s3", "cp", f"s3://{bucket}/absent.txt", str(tmp_path / "x"), ok=False)
    assert result.returncode == 1
    assert "404" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_cp_100_mb_multipart(server: LiveServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    source = write_random(tmp_path / "big.bin", 100 * MiB, seed=7)

    aws(server, "s3", "cp", str(source), f"s3://{bucket}/big.bin", "--no-progress")
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == 100 * MiB
    # The CLI sends files over 8 MiB in 8 MiB parts: a multipart ETag names the part count.
    assert head["ETag"].endswith('-13"')

    target = tmp_path / "big.down"
    aws(server, "s3", "cp", f"s3://{bucket}/big.bin", str(target), "--no-progress")
    assert target.stat().st_size == 100 * MiB
    assert sha256(target) == sha256(source)


# ---- aws s3: listing, sync, rm ---------------------------------------------------------------------


def test_ls_one_level_and_recursive(server: LiveServer, s3: Any, bucket: str) -> None:
    sizes = {"a.txt": 1, "dir/b.txt": 22, "dir/sub/c.txt": 333, "dir two/d.txt": 4444}
    for key, size in sizes.items():
        s3.put_object(Bucket=bucket, Key=key, Body=b"z" * size)

    top = aws(server, "s3", "ls", f"s3://{bucket}/").stdout.splitlines()
    assert sorted(line.strip() for line in top if "PRE" in line) == ["PRE dir two/", "PRE dir/"]
    objects = [line.split(maxsplit=3) for line in top if "PRE" not in line]
    assert [(o[2], o[3]) for o in objects] == [("1", "a.txt")]

    inside = aws(server, "s3", "ls", f"s3://{bucket}/dir/").stdout.splitlines()
    assert [line.strip() for line in inside if "PRE" in line] == ["PRE sub/"]
    assert [line.split(maxsplit=3)[2:] for line in inside if "PRE" not in line] == [["22", "b.txt"]]

    everything = aws(server, "s3", "ls", f"s3://{bucket}/", "--recursive").stdout.splitlines()
    # Each line: date, time, size, key (keys may hold spaces).
    assert {line.split(maxsplit=3)[3]: int(line.split(maxsplit=3)[2]) for line in everything} == sizes

    summary = aws(server, "s3", "ls", f"s3://{bucket}/", "--recursive", "--summarize").stdout
    assert "Total Objects: 4" in summary
    assert f"Total Size: {sum(sizes.values())}" in summary


def test_sync_both_ways(server: LiveServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "local"
    files = make_tree(local)

    up = aws(server, "s3", "sync", str(local), f"s3://{bucket}/tree", "--no-progress")
    uploaded = [line for line in up.stdout.splitlines() if line.startswith("upload: ")]
    assert len(uploaded) == len(files)
    assert sorted(listed_keys(s3, bucket)) == sorted(f"tree/{rel}" for rel in files)
    for rel, data in files.items():
        assert s3.get_object(Bucket=bucket, Key=f"tree/{rel}")["Body"].read() == data

    again = aws(server, "s3", "sync", str(local), f"s3://{bucket}/tree", "--no-progress")
    assert again.stdout.strip() == ""

    (local / "alpha" / "file 1.txt").write_bytes(b"changed, and longer than before\n")
    (local / "gamma" / "new one.txt").write_bytes(b"new\n")
    changed = aws(server, "s3", "sync", str(local), f"s3://{bucket}/tree", "--no-progress")
    assert sorted(line.split(" to ")[-1] for line in changed.stdout.splitlines()) == [
        f"s3://{bucket}/tree/alpha/file 1.txt",
        f"s3://{bucket}/tree/gamma/new one.txt",
    ]

    back = tmp_path / "back"
    down = aws(server, "s3", "sync", f"s3://{bucket}/tree", str(back), "--no-progress")
    assert len([line for line in down.stdout.splitlines() if line.startswith("download: ")]) == len(files) + 1
    assert read_tree(back) == read_tree(local)

    assert aws(server, "s3", "sync", f"s3://{bucket}/tree", str(back), "--no-progress").stdout.strip() == ""


def test_sync_delete_removes_what_is_gone_locally(server: LiveServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "local"
    files = make_tree(local)
    aws(server, "s3", "sync", str(local), f"s3://{bucket}", "--no-progress")
    (local / "beta two" / "inner" / "file 3.txt").unlink()

    result = aws(server, "s3", "sync", str(local), f"s3://{bucket}", "--delete", "--no-progress")
    assert result.stdout.strip() == f"delete: s3://{bucket}/beta two/inner/file 3.txt"
    assert sorted(listed_keys(s3, bucket)) == sorted(set(files) - {"beta two/inner/file 3.txt"})


def test_rm_one_and_recursive(server: LiveServer, s3: Any, bucket: str) -> None:
    keys = ["keep.txt", "logs/a.log", "logs/2024/b.log", "logs/2024/c d.log", "logsbook.txt"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    one = aws(server, "s3", "rm", f"s3://{bucket}/keep.txt")
    assert one.stdout.strip() == f"delete: s3://{bucket}/keep.txt"

    many = aws(server, "s3", "rm", f"s3://{bucket}/logs/", "--recursive")
    deleted = sorted(line.removeprefix("delete: ") for line in many.stdout.splitlines())
    assert deleted == sorted(f"s3://{bucket}/{k}" for k in keys if k.startswith("logs/"))
    assert listed_keys(s3, bucket) == ["logsbook.txt"]


# ---- aws s3 presign ----------------------------------------------------------------------------------


def test_presign_then_fetch_with_urllib(server: LiveServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="shared/report v1.txt", Body=b"for your eyes only")

    url = aws(server, "s3", "presign", f"s3://{bucket}/shared/report v1.txt", "--expires-in", "300").stdout.strip()
    assert url.startswith(f"{server.endpoint}/{bucket}/shared/report%20v1.txt?")
    with urllib.request.urlopen(url, timeout=10) as answer:
        assert answer.status == 200
        assert answer.read() == b"for your eyes only"

    tampered = url.replace("report%20v1.txt", "report%20v2.txt")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(tampered, timeout=10)
    assert caught.value.code == 403
    assert b"SignatureDoesNotMatch" in caught.value.read()


# ---- aws s3api ---------------------------------------------------------------------------------------


def test_s3api_put_object_with_metadata_and_head(server: LiveServer, bucket: str, tmp_path: Path) -> None:
    body = tmp_path / "data.csv"
    body.write_text("a,b\n1,2\n")
    put = aws_json(
        server,
        "s3api",
        "put-object",
        "--bucket",
        bucket,
        "--key",
        "tables/data.csv",
        "--body",
        str(body),
        "--content-type",
        "text/csv",
        "--metadata",
        "owner=ada,stage=raw",
    )
    assert put["ETag"] == f'"{hashlib.md5(body.read_bytes()).hexdigest()}"'

    head = aws_json(server, "s3api", "head-object", "--bucket", bucket, "--key", "tables/data.csv")
    assert head["ContentLength"] == 8
    assert head["ContentType"] == "text/csv"
    assert head["Metadata"] == {"owner": "ada", "stage": "raw"}
    assert head["ETag"] == put["ETag"]

    missing = aws(server, "s3api", "head-object", "--bucket", bucket, "--key", "nope", ok=False)
    assert missing.returncode == 255
    assert "(404)" in missing.stderr


def test_s3api_list_objects_v2_with_max_items_and_page_size(server: LiveServer, s3: Any, bucket: str) -> None:
    keys = [f"item-{i:02d}" for i in range(12)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")

    seen: list[str] = []
    token: str | None = None
    for _ in range(10):
        args = ["s3api", "list-objects-v2", "--bucket", bucket, "--max-items", "7", "--page-size", "2"]
        page = aws_json(server, *args, *(["--starting-token", token] if token else []))
        seen += [obj["Key"] for obj in page.get("Contents", [])]
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == keys

    rolled = aws_json(server, "s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "item-0", "--delimiter", "-")
    assert [obj["Key"] for obj in rolled["Contents"]] == keys[:10]

    # Version 1 of the listing pages by Marker; the CLI gathers every page.
    v1 = aws_json(server, "s3api", "list-objects", "--bucket", bucket, "--page-size", "5")
    assert [obj["Key"] for obj in v1["Contents"]] == keys


def test_s3api_get_object_range(server: LiveServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    s3.put_object(Bucket=bucket, Key="bytes", Body=data)
    out = tmp_path / "part"

    got = aws_json(
        server, "s3api", "get-object", "--bucket", bucket, "--key", "bytes", "--range", "bytes=100-1123", str(out)
    )
    assert got["ContentRange"] == f"bytes 100-1123/{len(data)}"
    assert got["ContentLength"] == 1024
    assert out.read_bytes() == data[100:1124]

    aws_json(server, "s3api", "get-object", "--bucket", bucket, "--key", "bytes", "--range", "bytes=-10", str(out))
    assert out.read_bytes() == data[-10:]


def test_s3api_multipart_upload(server: LiveServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    first = write_random(tmp_path / "part1", 5 * MiB, seed=1)
    second = write_random(tmp_path / "part2", 123_457, seed=2)

    created = aws_json(server, "s3api", "create-multipart-upload", "--bucket", bucket, "--key", "joined.bin")
    upload_id = created["UploadId"]
    assert (created["Bucket"], created["Key"]) == (bucket, "joined.bin")

    parts = []
    for number, path in ((1, first), (2, second)):
        part = aws_json(
            server,
            "s3api",
            "upload-part",
            "--bucket",
            bucket,
            "--key",
            "joined.bin",
            "--upload-id",
            upload_id,
            "--part-number",
            str(number),
            "--body",
            str(path),
        )
        assert part["ETag"] == f'"{hashlib.md5(path.read_bytes()).hexdigest()}"'
        parts.append({"PartNumber": number, "ETag": part["ETag"]})

    listed = aws_json(
        server, "s3api", "list-parts", "--bucket", bucket, "--key", "joined.bin", "--upload-id", upload_id
    )
    assert [(p["PartNumber"], p["Size"]) for p in listed["Parts"]] == [(1, 5 * MiB), (2, 123_457)]

    parts_file = tmp_path / "parts.json"
    parts_file.write_text(json.dumps({"Parts": parts}))
    done = aws_json(
        server,
        "s3api",
        "complete-multipart-upload",
        "--bucket",
        bucket,
        "--key",
        "joined.bin",
        "--upload-id",
        upload_id,
        "--multipart-upload",
        f"file://{parts_file}",
    )
    assert done["ETag"].endswith('-2"')
    assert (done["Bucket"], done["Key"]) == (bucket, "joined.bin")

    whole = s3.get_object(Bucket=bucket, Key="joined.bin")["Body"].read()
    assert hashlib.sha256(whole).hexdigest() == hashlib.sha256(first.read_bytes() + second.read_bytes()).hexdigest()
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_s3api_abort_multipart_upload(server: LiveServer, s3: Any, bucket: str) -> None:
    upload_id = aws_json(server, "s3api", "create-multipart-upload", "--bucket", bucket, "--key", "k")["UploadId"]
    listed = aws_json(server, "s3api", "list-multipart-uploads", "--bucket", bucket)
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("k", upload_id)]

    aws(server, "s3api", "abort-multipart-upload", "--bucket", bucket, "--key", "k", "--upload-id", upload_id)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_s3api_delete_objects(server: LiveServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    for key in ("a", "b", "c d", "e/f"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"1")
    request = tmp_path / "delete.json"
    request.write_text(json.dumps({"Objects": [{"Key": "a"}, {"Key": "c d"}, {"Key": "e/f"}, {"Key": "never"}]}))

    answer = aws_json(server, "s3api", "delete-objects", "--bucket", bucket, "--delete", f"file://{request}")
    assert sorted(d["Key"] for d in answer["Deleted"]) == ["a", "c d", "e/f", "never"]
    assert "Errors" not in answer
    assert listed_keys(s3, bucket) == ["b"]


def test_s3api_error_names_code_and_exit_status(server: LiveServer) -> None:
    result = aws(server, "s3api", "get-object", "--bucket", "no-such-bucket-here", "--key", "k", os.devnull, ok=False)
    assert result.returncode == 255
    assert "NoSuchBucket" in result.stderr


def test_s3api_get_object_attributes_and_checksummed_multipart(server: LiveServer, s3: Any, bucket: str) -> None:
    s3.put_object(
        Bucket=bucket, Key="whole", Body=b"A" * 1024, ChecksumSHA256="arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0="
    )
    answer = aws_json(
        server,
        "s3api",
        "get-object-attributes",
        "--bucket",
        bucket,
        "--key",
        "whole",
        "--object-attributes",
        "ETag",
        "Checksum",
        "ObjectSize",
        "StorageClass",
    )
    assert answer["Checksum"] == {
        "ChecksumSHA256": "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0=",
        "ChecksumType": "FULL_OBJECT",
    }
    assert (answer["ObjectSize"], answer["StorageClass"]) == (1024, "STANDARD")
    made = aws_json(
        server,
        "s3api",
        "create-multipart-upload",
        "--bucket",
        bucket,
        "--key",
        "mp",
        "--checksum-algorithm",
        "CRC32",
        "--checksum-type",
        "FULL_OBJECT",
    )
    assert (made["ChecksumAlgorithm"], made["ChecksumType"]) == ("CRC32", "FULL_OBJECT")


def test_s3api_bucket_policy_round_trip_and_public_read(
    server: LiveServer, bucket: str, s3: Any, tmp_path: Path
) -> None:
    s3.put_object(Bucket=bucket, Key="public/page.html", Body=b"<p>hi</p>")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/public/*",
            }
        ],
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    aws(server, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", f"file://{path}")
    got = aws_json(server, "s3api", "get-bucket-policy", "--bucket", bucket)
    assert json.loads(got["Policy"]) == document
    assert aws_json(server, "s3api", "get-bucket-policy-status", "--bucket", bucket)["PolicyStatus"]["IsPublic"]
    with urllib.request.urlopen(f"{server.endpoint}/{bucket}/public/page.html", timeout=10) as response:
        assert response.read() == b"<p>hi</p>"
    bad = aws(server, "s3api", "put-bucket-policy", "--bucket", bucket, "--policy", '{"Statement": []}', ok=False)
    assert bad.returncode != 0 and "MalformedPolicy" in bad.stderr
    aws(server, "s3api", "delete-bucket-policy", "--bucket", bucket)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server.endpoint}/{bucket}/public/page.html", timeout=10)
    assert caught.value.code == 403
    caught.value.close()
