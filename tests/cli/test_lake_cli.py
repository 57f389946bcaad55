"""`alto lake mb/ls/cp/rm/rb` end to end: the real `alto` command against a live server."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.live_server import LiveServer, live_server

ALTO = str(Path(sys.executable).with_name("alto"))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve` for this module."""
    with live_server(tmp_path_factory.mktemp("lake-cli") / "data") as running:
        yield running


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    return server.client("s3")


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment without ALTO_* and AWS_* variables, and no alto.toml or data dir of the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALTO_", "AWS_"))}
    env["ALTO_CONFIG"] = str(tmp_path / "absent.toml")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env["AWS_CONFIG_FILE"] = os.devnull
    return env


def alto(
    server: LiveServer, tmp_path: Path, *args: str, ok: bool = True, data_dir: bool = False, secret: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `alto lake ARGS` on the server: keys from AWS_* variables, or with data_dir from its credentials file."""
    env = clean_env(tmp_path)
    if data_dir:
        where = ["--data-dir", str(server.data_dir)]
    else:
        env |= {"AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": secret or server.secret_key}
        where = []
    result = subprocess.run(
        [ALTO, "lake", *args, "--endpoint-url", server.endpoint, *where],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok:
        assert result.returncode == 0, f"alto lake {' '.join(args)} exited {result.returncode}: {result.stderr}"
    return result


def alto_json(server: LiveServer, tmp_path: Path, *args: str) -> Any:
    return json.loads(alto(server, tmp_path, *args, "--json").stdout)


def make_tree(root: Path) -> dict[str, bytes]:
    """Nested folders with names holding spaces; {path relative to root: bytes}."""
    files = {
        "readme.txt": b"top\n",
        "data/a.csv": b"x,y\n1,2\n",
        "data/b c.csv": b"x,y\n3,4\n",
        "data/deep er/one.json": b'{"one": 1}',
        "data/deep er/two.bin": bytes(range(256)) * 9,
        "empty.dat": b"",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_mb_ls_rb(server: LiveServer, s3: Any, tmp_path: Path) -> None:
    assert alto(server, tmp_path, "mb", "s3://lake-cli-buckets").stdout == "make_bucket: lake-cli-buckets\n"

    listed = alto_json(server, tmp_path, "ls")
    assert list(listed) == ["Buckets"]
    entry = next(b for b in listed["Buckets"] if b["Name"] == "lake-cli-buckets")
    assert set(entry) == {"Name", "CreationDate"}
    created = dt.datetime.fromisoformat(entry["CreationDate"])
    assert abs(dt.datetime.now(dt.UTC) - created) < dt.timedelta(minutes=5)

    table = alto(server, tmp_path, "ls").stdout.splitlines()
    assert table[0].split() == ["CreationDate", "Name"]
    assert any(line.split()[-1] == "lake-cli-buckets" and len(line.split()) == 3 for line in table[1:])

    assert alto(server, tmp_path, "rb", "s3://lake-cli-buckets").stdout == "remove_bucket: lake-cli-buckets\n"
    assert "lake-cli-buckets" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_cp_one_file_up_down_and_within(server: LiveServer, s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="lake-cli-cp")
    (tmp_path / "notes v1.txt").write_text("some notes\n")

    up = alto(server, tmp_path, "cp", "notes v1.txt", "s3://lake-cli-cp/docs/")
    assert up.stdout == "upload: notes v1.txt to s3://lake-cli-cp/docs/notes v1.txt\n"
    head = s3.head_object(Bucket="lake-cli-cp", Key="docs/notes v1.txt")
    assert (head["ContentLength"], head["ContentType"]) == (11, "text/plain")

    copied = alto_json(server, tmp_path, "cp", "s3://lake-cli-cp/docs/notes v1.txt", "s3://lake-cli-cp/backup.txt")
    assert copied == {
        "Transfers": [
            {"Source": "s3://lake-cli-cp/docs/notes v1.txt", "Destination": "s3://lake-cli-cp/backup.txt", "Bytes": 11}
        ],
        "Objects": 1,
        "Bytes": 11,
    }

    down = alto(server, tmp_path, "cp", "s3://lake-cli-cp/backup.txt", "out/")
    target = tmp_path / "out" / "backup.txt"
    assert down.stdout == f"download: s3://lake-cli-cp/backup.txt to {target}\n"
    assert target.read_text() == "some notes\n"


def test_cp_recursive_folder_both_ways_and_listings(server: LiveServer, s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="lake-cli-tree")
    files = make_tree(tmp_path / "tree")

    sent = alto_json(server, tmp_path, "cp", "--recursive", "tree", "s3://lake-cli-tree/in")
    assert sent["Objects"] == len(files)
    assert sent["Bytes"] == sum(len(b) for b in files.values())
    assert sorted(t["Destination"] for t in sent["Transfers"]) == sorted(f"s3://lake-cli-tree/in/{r}" for r in files)
    for transfer in sent["Transfers"]:
        assert set(transfer) == {"Source", "Destination", "Bytes"}

    level = alto_json(server, tmp_path, "ls", "s3://lake-cli-tree/in/")
    assert set(level) == {"Bucket", "Prefix", "CommonPrefixes", "Objects"}
    assert (level["Bucket"], level["Prefix"], level["CommonPrefixes"]) == ("lake-cli-tree", "in/", ["in/data/"])
    assert [o["Key"] for o in level["Objects"]] == ["in/empty.dat", "in/readme.txt"]
    first = level["Objects"][0]
    assert set(first) == {"Key", "Size", "LastModified", "ETag"}
    assert first["Size"] == 0 and first["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    dt.datetime.fromisoformat(first["LastModified"])

    everything = alto_json(server, tmp_path, "ls", "--recursive", "s3://lake-cli-tree/in/")
    assert everything["CommonPrefixes"] == []
    assert {o["Key"]: o["Size"] for o in everything["Objects"]} == {f"in/{r}": len(b) for r, b in files.items()}

    table = alto(server, tmp_path, "ls", "s3://lake-cli-tree/in/data/").stdout.splitlines()
    assert table[0].split() == ["LastModified", "Size", "Key"]
    assert table[1].split() == ["PRE", "deep", "er/"]
    assert [line.split(maxsplit=3)[2:] for line in table[2:]] == [["8", "a.csv"], ["8", "b c.csv"]]

    got = alto(server, tmp_path, "cp", "--recursive", "s3://lake-cli-tree/in", "back")
    assert len(got.stdout.splitlines()) == len(files)
    assert all(line.startswith("download: s3://lake-cli-tree/in/") for line in got.stdout.splitlines())
    assert read_tree(tmp_path / "back") == files


def test_rm_one_and_recursive(server: LiveServer, s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="lake-cli-rm")
    for key in ("keep.txt", "old/1.log", "old/2/3.log", "oldest.txt"):
        s3.put_object(Bucket="lake-cli-rm", Key=key, Body=b"x")

    assert alto(server, tmp_path, "rm", "s3://lake-cli-rm/oldest.txt").stdout == "delete: s3://lake-cli-rm/oldest.txt\n"
    removed = alto_json(server, tmp_path, "rm", "--recursive", "s3://lake-cli-rm/old")
    assert removed == {"Deleted": ["s3://lake-cli-rm/old/1.log", "s3://lake-cli-rm/old/2/3.log"]}
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="lake-cli-rm")["Contents"]] == ["keep.txt"]


def test_credentials_from_the_data_dir(server: LiveServer, s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="lake-cli-creds")
    s3.put_object(Bucket="lake-cli-creds", Key="k", Body=b"v")
    listed = json.loads(alto(server, tmp_path, "ls", "s3://lake-cli-creds", "--json", data_dir=True).stdout)
    assert [o["Key"] for o in listed["Objects"]] == ["k"]


def test_missing_bucket_is_one_line_error(server: LiveServer, tmp_path: Path) -> None:
    result = alto(server, tmp_path, "ls", "s3://lake-cli-no-such-bucket", ok=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "alto: NoSuchBucket: Bucket='lake-cli-no-such-bucket' does not exist\n"

    (tmp_path / "f.txt").write_text("x")
    upload = alto(server, tmp_path, "cp", "f.txt", "s3://lake-cli-no-such-bucket/f.txt", ok=False)
    assert upload.returncode == 1
    assert upload.stderr.startswith("alto: NoSuchBucket: ")
    assert "Traceback" not in upload.stderr


def test_other_errors(server: LiveServer, s3: Any, tmp_path: Path) -> None:
    s3.create_bucket(Bucket="lake-cli-errors")
    s3.put_object(Bucket="lake-cli-errors", Key="k", Body=b"v")

    missing = alto(server, tmp_path, "cp", "s3://lake-cli-errors/absent.txt", "here.txt", ok=False)
    assert (missing.returncode, missing.stderr) == (
        1,
        "alto: NoSuchKey: s3://lake-cli-errors/absent.txt does not exist\n",
    )
    assert not (tmp_path / "here.txt").exists()

    full = alto(server, tmp_path, "rb", "s3://lake-cli-errors", ok=False)
    assert (full.returncode, full.stderr) == (1, "alto: BucketNotEmpty: Bucket='lake-cli-errors' is not empty\n")

    taken = alto(server, tmp_path, "mb", "s3://lake-cli-errors", ok=False)
    assert taken.returncode == 1
    assert taken.stderr.startswith("alto: BucketAlreadyOwnedByYou: ")

    wrong_key = alto(server, tmp_path, "ls", ok=False, secret="not-the-secret")
    assert wrong_key.returncode == 1
    assert wrong_key.stderr.startswith("alto: SignatureDoesNotMatch: ")
