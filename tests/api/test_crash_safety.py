"""A server killed with SIGKILL mid-upload: after a restart no partial object shows and nothing completed is lost."""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from altostratus.lake.bodies import INLINE_LIMIT
from tests.api.uploads_in_flight import MiB, RawUpload, partials, wait_for_partials
from tests.live_server import LiveServer, free_port

BUCKET = "crash-test"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def crashable(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of this test's own, on its own data directory, that the test may kill."""
    server = LiveServer(tmp_path / "data", free_port(), (), {})
    server.start()
    try:
        yield server
    finally:
        server.stop()


def upload_completed_objects(s3: Any, tmp_path: Path) -> dict[str, str]:
    """Objects of several kinds that finish before the crash: {key: SHA-256 of the bytes read back}."""
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="small.txt", Body=b"small and complete\n")
    s3.put_object(Bucket=BUCKET, Key="empty", Body=b"")
    s3.put_object(Bucket=BUCKET, Key="overwritten/me.bin", Body=random.Random(1).randbytes(3 * MiB))
    big = tmp_path / "multipart.bin"
    big.write_bytes(random.Random(2).randbytes(12 * MiB + 5))
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(str(big), BUCKET, "multipart.bin", Config=config)
    assert s3.head_object(Bucket=BUCKET, Key="multipart.bin")["ETag"].endswith('-3"')
    s3.copy_object(Bucket=BUCKET, Key="copy/of-small.txt", CopySource={"Bucket": BUCKET, "Key": "small.txt"})
    return {key: sha256(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()) for key in listed(s3)}


def listed(s3: Any) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def blob_files(server: LiveServer, kind: str) -> list[Path]:
    root = server.data_dir / "blobs" / kind
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_missing(s3: Any, key: str) -> None:
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket=BUCKET, Key=key)
    assert caught.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as caught:
        s3.get_object(Bucket=BUCKET, Key=key)
    assert caught.value.response["Error"]["Code"] == "NoSuchKey"


def test_sigkill_mid_upload_leaves_no_partial_object(crashable: LiveServer, tmp_path: Path) -> None:
    s3 = crashable.client("s3")
    completed = upload_completed_objects(s3, tmp_path)
    old_content = completed["overwritten/me.bin"]

    # Two multipart uploads in progress, each with one finished part: one to complete after the crash, one to abort.
    part_one = random.Random(3).randbytes(5 * MiB)
    resumed = s3.create_multipart_upload(Bucket=BUCKET, Key="mpu/resumed.bin")["UploadId"]
    first_etag = s3.upload_part(Bucket=BUCKET, Key="mpu/resumed.bin", UploadId=resumed, PartNumber=1, Body=part_one)[
        "ETag"
    ]
    dropped = s3.create_multipart_upload(Bucket=BUCKET, Key="mpu/dropped.bin")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="mpu/dropped.bin", UploadId=dropped, PartNumber=1, Body=part_one)

    # Three bodies in flight when the server dies: a new 200 MiB object, an overwrite, and a part.
    streams = [
        RawUpload(crashable, f"/{BUCKET}/interrupted/new.bin", 200 * MiB, seed=10),
        RawUpload(crashable, f"/{BUCKET}/overwritten/me.bin", 200 * MiB, seed=11),
        RawUpload(crashable, f"/{BUCKET}/mpu/resumed.bin?partNumber=2&uploadId={resumed}", 50 * MiB, seed=12),
    ]
    for _ in range(16):
        for stream in streams:
            stream.send(MiB)
    wait_for_partials(crashable, count=3, min_bytes=8 * MiB)

    crashable.kill()
    assert all(stream.fails() for stream in streams)
    assert len(partials(crashable)) == 3

    crashable.start()
    s3 = crashable.client("s3")

    assert partials(crashable) == []
    assert_missing(s3, "interrupted/new.bin")
    assert sorted(listed(s3)) == sorted(completed)
    for key, digest in completed.items():
        assert sha256(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()) == digest, key
    assert completed["overwritten/me.bin"] == old_content

    uploads = {u["Key"]: u["UploadId"] for u in s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]}
    assert uploads == {"mpu/resumed.bin": resumed, "mpu/dropped.bin": dropped}
    parts = s3.list_parts(Bucket=BUCKET, Key="mpu/resumed.bin", UploadId=resumed)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, 5 * MiB, first_etag)]

    last = b"the second part, sent again after the crash"
    second_etag = s3.upload_part(Bucket=BUCKET, Key="mpu/resumed.bin", UploadId=resumed, PartNumber=2, Body=last)[
        "ETag"
    ]
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="mpu/resumed.bin",
        UploadId=resumed,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first_etag}, {"PartNumber": 2, "ETag": second_etag}]},
    )
    assert sha256(s3.get_object(Bucket=BUCKET, Key="mpu/resumed.bin")["Body"].read()) == sha256(part_one + last)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="mpu/dropped.bin", UploadId=dropped)
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []

    # Every stored blob belongs to an object: the crash left no stray bytes behind.
    assert blob_files(crashable, "parts") == []
    # (Small objects keep their bytes in the metadata store, beside their rows: lake/bodies.py.)
    sizes = [s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] for key in [*completed, "mpu/resumed.bin"]]
    assert len(blob_files(crashable, "objects")) == sum(size > INLINE_LIMIT for size in sizes)


@pytest.mark.slow
def test_sigkill_mid_complete_multipart_upload(crashable: LiveServer, tmp_path: Path) -> None:
    s3 = crashable.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key="joined.bin", Body=b"the old object\n")
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="joined.bin")["UploadId"]
    chunks = [random.Random(20 + n).randbytes(40 * MiB) for n in range(4)]
    chosen = []
    for number, chunk in enumerate(chunks, start=1):
        answer = s3.upload_part(Bucket=BUCKET, Key="joined.bin", UploadId=upload_id, PartNumber=number, Body=chunk)
        chosen.append({"PartNumber": number, "ETag": answer["ETag"]})

    # Completing stitches 160 MiB into a new blob; the server dies while it writes it.
    def complete() -> None:
        try:
            s3.complete_multipart_upload(
                Bucket=BUCKET, Key="joined.bin", UploadId=upload_id, MultipartUpload={"Parts": chosen}
            )
        except Exception:  # the server died under the request, as intended
            return

    completing = threading.Thread(target=complete)
    completing.start()
    wait_for_partials(crashable, count=1, min_bytes=16 * MiB)
    crashable.kill()
    completing.join(30)
    assert not completing.is_alive()

    crashable.start()
    s3 = crashable.client("s3")
    assert partials(crashable) == []
    assert s3.get_object(Bucket=BUCKET, Key="joined.bin")["Body"].read() == b"the old object\n"
    uploads = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert [u["UploadId"] for u in uploads] == [upload_id]
    parts = s3.list_parts(Bucket=BUCKET, Key="joined.bin", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(c["PartNumber"], c["ETag"]) for c in chosen]

    done = s3.complete_multipart_upload(
        Bucket=BUCKET, Key="joined.bin", UploadId=upload_id, MultipartUpload={"Parts": chosen}
    )
    assert done["ETag"].endswith('-4"')
    assert sha256(s3.get_object(Bucket=BUCKET, Key="joined.bin")["Body"].read()) == sha256(b"".join(chunks))
