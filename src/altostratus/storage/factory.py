"""Build the BlobStore the settings name: `file` (under the data directory) or `s3://bucket[/prefix]`."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import boto3

from altostratus.core.errors import ConfigurationError
from altostratus.core.settings import Settings
from altostratus.storage.blobs import BlobStore
from altostratus.storage.local_blobs import LocalBlobStore
from altostratus.storage.s3_blobs import S3BlobStore, ensure_bucket

SCHEMES = ["file", "s3://bucket[/prefix]"]


def blob_store_from_settings(settings: Settings) -> BlobStore:
    """The BlobStore for `settings.lake_backend`, picked by its scheme."""
    backend = settings.lake_backend
    scheme = "file" if backend == "file" else urlsplit(backend).scheme
    build = _BUILDERS.get(scheme)
    if build is None:
        raise ConfigurationError(f"lake_backend={backend!r}; expected one of {SCHEMES}")
    return build(settings)


def _local_store(settings: Settings) -> BlobStore:
    return LocalBlobStore(settings.data_dir / "blobs", fsync=settings.lake_fsync)


def _s3_store(settings: Settings) -> BlobStore:
    url = urlsplit(settings.lake_backend)
    if not url.netloc:
        raise ConfigurationError(f"lake_backend={settings.lake_backend!r}; expected s3://bucket[/prefix]")
    prefix = url.path.strip("/")
    client = boto3.client(
        "s3",
        endpoint_url=settings.lake_s3_endpoint or None,
        aws_access_key_id=settings.lake_s3_access_key or None,
        aws_secret_access_key=settings.lake_s3_secret_key or None,
        region_name=settings.lake_s3_region or None,
    )
    ensure_bucket(client, url.netloc, settings.lake_s3_region)
    return S3BlobStore(client, url.netloc, prefix + "/" if prefix else "")


_BUILDERS: dict[str, Callable[[Settings], BlobStore]] = {"file": _local_store, "s3": _s3_store}
