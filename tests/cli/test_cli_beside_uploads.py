"""CLI commands that open a served data directory leave the server's uploads in flight alone; a second server
on it is refused, and the one serving it cleared at start what a crash had left."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.api.registry_data import train_models
from tests.api.uploads_in_flight import MiB, RawUpload, wait_for_partials
from tests.live_server import ALTO, LiveServer, free_port, live_server

from altostratus.cli.main import cli
from altostratus.storage.private_files import make_private_dirs

BUCKET = "in-flight"
STALE = Path("blobs/objects/zz/.left-by-a-crash.partial")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve`; its data directory held a crash's temporary blob before it started."""
    data_dir = tmp_path_factory.mktemp("beside-uploads") / "data"
    make_private_dirs((data_dir / STALE).parent)
    (data_dir / STALE).write_bytes(b"half an object")
    with live_server(data_dir) as running:
        yield running


def alto(server: LiveServer, *args: str, code: int = 0, remote: bool = False) -> Result:
    """Run `alto ARGS` in this process on the server's data directory (remote: through its endpoint too)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ALTO_", "AWS_"))}
    env["AWS_CONFIG_FILE"] = os.devnull
    where = ["--data-dir", str(server.data_dir)] + (["--endpoint-url", server.endpoint] if remote else [])
    result = CliRunner().invoke(cli, [*args, *where], env=env)
    assert result.exit_code == code, f"alto {' '.join(args)} exited {result.exit_code}: {result.output}"
    return result


def two_prod_versions(server: LiveServer, group: str) -> None:
    """A model package group whose second version replaced its first in production: one to roll back."""
    train_models(server)
    alto(server, "registry", "create-group", group, remote=True)
    for number in ("1", "2"):
        alto(server, "registry", "register", group, "ml-model:good", remote=True)
        alto(server, "registry", "promote", group, number, remote=True)


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


@pytest.mark.slow
def test_cli_commands_on_the_data_dir_leave_uploads_in_flight_whole(server: LiveServer) -> None:
    two_prod_versions(server, "beside")
    s3 = server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="joined.bin")["UploadId"]
    first = random.Random(1).randbytes(5 * MiB)
    first_etag = s3.upload_part(Bucket=BUCKET, Key="joined.bin", UploadId=upload_id, PartNumber=1, Body=first)["ETag"]
    put = RawUpload(server, f"/{BUCKET}/streamed.bin", 16 * MiB, seed=2)
    part = RawUpload(server, f"/{BUCKET}/joined.bin?partNumber=2&uploadId={upload_id}", 8 * MiB, seed=3)
    for _ in range(4):
        put.send(MiB)
        part.send(MiB)
    wait_for_partials(server, count=2, min_bytes=2 * MiB)

    rolled = alto(server, "registry", "rollback", "beside", "--reason", "beside uploads")
    assert "beside: version 1 is in production again" in rolled.output
    assert "Could not find endpoint" in alto(server, "endpoints", "stats", "no-such-endpoint", code=1).output
    alto(server, "pipelines", "list")

    put_status, put_etag = put.finish()
    part_status, part_etag = part.finish()
    assert (put_status, put_etag) == (200, f'"{put.md5.hexdigest()}"')
    assert (part_status, part_etag) == (200, f'"{part.md5.hexdigest()}"')
    done = s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="joined.bin",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first_etag}, {"PartNumber": 2, "ETag": part_etag}]},
    )
    assert done["ETag"].endswith('-2"')
    streamed = s3.get_object(Bucket=BUCKET, Key="streamed.bin")
    assert streamed["ETag"] == put_etag and md5_etag(streamed["Body"].read()) == put_etag
    joined = s3.get_object(Bucket=BUCKET, Key="joined.bin")["Body"].read()
    assert md5_etag(joined[: 5 * MiB]) == first_etag and md5_etag(joined[5 * MiB :]) == part_etag
    assert len(joined) == 13 * MiB


def test_a_second_server_on_the_data_dir_is_refused_at_start(server: LiveServer) -> None:
    command = [ALTO, "serve", "--data-dir", str(server.data_dir), "--port", str(free_port())]
    second = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert second.returncode == 1, second.stdout + second.stderr
    assert f"data_dir={str(server.data_dir)!r} is in use" in second.stderr
    assert "Altostratus is listening" not in second.stdout
    server.client("s3").list_buckets()  # the first one serves on


def test_the_server_removed_a_crashs_temporary_blob_at_start(server: LiveServer) -> None:
    assert not (server.data_dir / STALE).exists()
    assert (server.data_dir / STALE).parent.is_dir()
