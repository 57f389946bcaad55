"""S3BlobStore specifics, against SeaweedFS: key prefix, multipart uploads, backend errors."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest

from altostratus.storage.blobs import put_chunks
from altostratus.storage.s3_blobs import BlobBackendError, S3BlobStore, ensure_bucket
from tests.servers import S3Server

MIB = 1024 * 1024


@pytest.fixture
def bucket(seaweedfs: S3Server) -> str:
    """A new, empty bucket."""
    name = "s3blobs-" + uuid.uuid4().hex[:12]
    ensure_bucket(seaweedfs.client(), name, "us-east-1")
    return name


def test_keys_live_under_the_prefix(seaweedfs: S3Server, bucket: str) -> None:
    client = seaweedfs.client()
    store = S3BlobStore(client, bucket, "lake/")
    other = S3BlobStore(client, bucket, "other/")
    put_chunks(store, "a/b", [b"x"])
    put_chunks(other, "a/c", [b"y"])
    listed = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(item["Key"] for item in listed) == ["lake/a/b", "other/a/c"]
    assert list(store.keys()) == ["a/b"]
    assert list(other.keys("a/")) == ["a/c"]
    assert not store.exists("a/c")


def test_large_blob_goes_up_in_parts(seaweedfs: S3Server, bucket: str) -> None:
    client = seaweedfs.client()
    store = S3BlobStore(client, bucket)
    put_chunks(store, "large", [os.urandom(9 * MIB)])
    etag = client.head_object(Bucket=bucket, Key="large")["ETag"]
    assert etag.strip('"').endswith("-2")  # a multipart ETag counts the parts


def test_ensure_bucket_is_idempotent(seaweedfs: S3Server, bucket: str) -> None:
    client = seaweedfs.client()
    ensure_bucket(client, bucket, "us-east-1")
    assert bucket in [b["Name"] for b in client.list_buckets()["Buckets"]]


@pytest.mark.parametrize(
    "use",
    [
        lambda store: store.size("key"),
        lambda store: store.read("key"),
        lambda store: put_chunks(store, "key", [b"x"]),
        lambda store: list(store.keys()),
    ],
    ids=["size", "read", "write", "keys"],
)
def test_server_refusals_become_backend_errors(seaweedfs: S3Server, bucket: str, use: Any) -> None:
    wrong = S3Server(seaweedfs.endpoint_url, seaweedfs.access_key, "not-the-secret")
    with pytest.raises(BlobBackendError, match=bucket) as caught:
        use(S3BlobStore(wrong.client(), bucket))
    assert (caught.value.code, caught.value.status) == ("ServiceUnavailable", 503)


def test_missing_bucket_is_a_backend_error(seaweedfs: S3Server) -> None:
    store = S3BlobStore(seaweedfs.client(), "no-such-bucket-" + uuid.uuid4().hex[:8])
    # Only requests with a body tell a missing bucket from a missing key: a HEAD gets a bare 404.
    with pytest.raises(BlobBackendError, match="NoSuchBucket"):
        store.read("key")
