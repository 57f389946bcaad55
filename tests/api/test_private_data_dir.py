"""Nothing a real server writes in its data directory is open to another local user, whatever the traffic."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.function_tools import create_function, eventually, grant_lake, keys_under
from tests.api.registry_data import train_models
from tests.live_server import LiveServer, live_server

# The function sandbox owns these trees' modes: it opens them to the user its workers run as.
SANDBOX_TREES = ("functions/code", "functions/deps")
RUNUSER = shutil.which("runuser")
PRIVATE = {"dir": 0o700, "file": 0o600}


@pytest.fixture
def open_place() -> Iterator[Path]:
    """A folder under /tmp every user may enter (0755): only the data directory's own modes keep others out."""
    folder = Path(tempfile.mkdtemp(prefix="alto-private-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def traffic(server: LiveServer) -> None:
    """Buckets, objects, multipart uploads (one left open), a function, predict models and the registry."""
    s3 = server.client("s3")
    s3.create_bucket(Bucket="private")
    s3.put_object(Bucket="private", Key="secret.txt", Body=b"the secret" * 20_000)  # a file: past 128 KiB
    upload = s3.create_multipart_upload(Bucket="private", Key="big")["UploadId"]
    parts = [
        {
            "PartNumber": n,
            "ETag": s3.upload_part(Bucket="private", Key="big", UploadId=upload, PartNumber=n, Body=body)["ETag"],
        }
        for n, body in ((1, b"a" * 5 * 1024 * 1024), (2, b"b"))
    ]
    s3.complete_multipart_upload(Bucket="private", Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    unfinished = s3.create_multipart_upload(Bucket="private", Key="unfinished")["UploadId"]
    s3.upload_part(Bucket="private", Key="unfinished", UploadId=unfinished, PartNumber=1, Body=b"half")

    lam = server.client("lambda")
    create_function(lam, "private-fn", Environment={"Variables": {"OUT_BUCKET": "private"}})
    grant_lake(server, "private-fn", "private")
    eventually(lambda: lam.get_function(FunctionName="private-fn")["Configuration"]["State"] == "Active" or None)
    assert lam.invoke(FunctionName="private-fn", Payload=b'{"x": 1}')["Payload"].read() == b'"ok"'
    lam.invoke(FunctionName="private-fn", Payload=b'{"x": 2}', InvocationType="Event")
    eventually(lambda: len(keys_under(s3, "private", "runs/")) == 2 or None)

    train_models(server)
    sm = server.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="private")
    arn = sm.create_model_package(ModelPackageGroupName="private", SourceUri="ml-model:good")["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")


def modes(data: Path) -> dict[str, tuple[str, int]]:
    """Every folder and file under data (the sandbox trees left out): its path, whether a dir or file, its mode."""
    found = {".": ("dir", stat.S_IMODE(data.lstat().st_mode))}
    for folder, folders, files in os.walk(data):
        here = Path(folder)
        folders[:] = [name for name in folders if (here / name).relative_to(data).as_posix() not in SANDBOX_TREES]
        for kind, names in (("dir", folders), ("file", files)):
            for name in names:
                found[(here / name).relative_to(data).as_posix()] = (kind, stat.S_IMODE((here / name).lstat().st_mode))
    return found


def test_every_folder_is_0700_and_every_file_0600_after_real_traffic(open_place: Path) -> None:
    data = open_place / "data"
    with live_server(data) as server:
        traffic(server)
        seen = modes(data)
    # What there is to see: the database and its journals, the key, the lake's blobs, the functions' folder.
    assert {"metadata.db", "metadata.db-wal", "metadata.db-shm", "credentials", "functions"} <= set(seen)
    # Blobs: parts, objects past lake_inline_bytes, function code, models (small objects live in the database).
    assert sum(path.startswith("blobs/") and kind == "file" for path, (kind, _) in seen.items()) > 4
    wrong = {path: f"{kind} {mode:04o}" for path, (kind, mode) in seen.items() if mode != PRIVATE[kind]}
    assert wrong == {}


@pytest.mark.skipif(os.geteuid() != 0 or RUNUSER is None, reason="reading as another user needs root and runuser")
def test_another_local_user_can_read_nothing_in_it(open_place: Path) -> None:
    data = open_place / "data"
    control = open_place / "readable.txt"
    control.write_text("anyone may read this")
    control.chmod(0o644)

    def as_nobody(*command: str) -> subprocess.CompletedProcess[str]:
        assert RUNUSER is not None
        return subprocess.run([RUNUSER, "-u", "nobody", "--", *command], capture_output=True, text=True, timeout=30)

    with live_server(data) as server:
        server.client("s3").create_bucket(Bucket="private")
        server.client("s3").put_object(
            Bucket="private", Key="secret.txt", Body=b"the secret" * 20_000
        )  # a file: past lake_inline_bytes
        assert as_nobody("cat", str(control)).stdout == "anyone may read this"  # runuser works: the place is open
        blob = next(path for path in (data / "blobs").rglob("*") if path.is_file())
        for target in (data / "credentials", data / "metadata.db", blob):
            denied = as_nobody("cat", str(target))
            assert denied.returncode != 0 and "Permission denied" in denied.stderr, target
        listing = as_nobody("ls", str(data))
        assert listing.returncode != 0 and "Permission denied" in listing.stderr
