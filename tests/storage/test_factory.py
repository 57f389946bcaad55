"""blob_store_from_settings: the backend is picked by the scheme of settings.lake_backend."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from altostratus.core.errors import ConfigurationError
from altostratus.core.settings import Settings
from altostratus.storage.blobs import put_chunks
from altostratus.storage.factory import blob_store_from_settings
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.s3_blobs import S3BlobStore
from tests.servers import S3Server


def s3_settings(server: S3Server, tmp_path: Path, backend: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        lake_backend=backend,
        lake_s3_endpoint=server.endpoint_url,
        lake_s3_access_key=server.access_key,
        lake_s3_secret_key=server.secret_key,
    )


def test_file_backend_is_local_under_data_dir(tmp_path: Path) -> None:
    store = blob_store_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "blobs"


def test_s3_backend_creates_its_bucket(seaweedfs: S3Server, tmp_path: Path) -> None:
    bucket = "factory-" + uuid.uuid4().hex[:12]
    store = blob_store_from_settings(s3_settings(seaweedfs, tmp_path, f"s3://{bucket}/some/prefix/"))
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == (bucket, "some/prefix/")
    put_chunks(store, "key", [b"bytes"])
    listed = seaweedfs.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["some/prefix/key"]


def test_s3_backend_without_prefix(seaweedfs: S3Server, tmp_path: Path) -> None:
    bucket = "factory-" + uuid.uuid4().hex[:12]
    store = blob_store_from_settings(s3_settings(seaweedfs, tmp_path, f"s3://{bucket}"))
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix) == (bucket, "")


def test_s3_backend_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="s3://bucket"):
        blob_store_from_settings(Settings(data_dir=tmp_path, lake_backend="s3:///prefix"))


def test_unknown_scheme_lists_the_schemes(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    # Settings itself refuses other schemes; the factory must too, whatever object it is handed.
    object.__setattr__(settings, "lake_backend", "gs://bucket")
    with pytest.raises(ConfigurationError, match=r"'gs://bucket'; expected one of \['file', 's3://bucket"):
        blob_store_from_settings(settings)
