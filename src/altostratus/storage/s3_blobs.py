"""BlobStore on any S3 server through a boto3 client: spool to a local file, upload on commit."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError

from altostratus.core.errors import AltoError
from altostratus.storage.blobs import CHUNK_SIZE, BlobInfo, BlobMissing

# Blobs up to this size stay in memory until commit; larger ones spill to a temporary file.
SPOOL_MAX_BYTES = 8 * 1024 * 1024
_MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


class BlobBackendError(AltoError):
    """The S3 server behind the blob store refused or failed a request."""

    code = "ServiceUnavailable"
    status = 503


class S3BlobWriter:
    """Spools bytes to a temporary file while hashing them; uploads the file on commit."""

    def __init__(self, client: Any, bucket: str, name: str, key: str) -> None:
        self._client = client
        self._bucket = bucket
        self._name = name
        self._key = key
        # The writer owns the spool across calls and closes it in abort().
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._size = 0
        self._done = False

    def write(self, chunk: bytes) -> None:
        """Append bytes."""
        self._file.write(chunk)
        self._md5.update(chunk)
        self._size += len(chunk)

    def commit(self) -> BlobInfo:
        """Upload the spooled bytes (in parts when large) under the key and drop the spool."""
        self._file.seek(0)
        try:
            self._client.upload_fileobj(self._file, self._bucket, self._name)
        except (ClientError, S3UploadFailedError) as exc:
            raise _backend_error("upload", self._bucket, self._name, exc) from exc
        finally:
            self.abort()
        return BlobInfo(self._key, self._size, self._md5.hexdigest())

    def abort(self) -> None:
        """Drop the spooled bytes; nothing was sent to the server."""
        if not self._done:
            self._done = True
            self._file.close()

    def __enter__(self) -> S3BlobWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.abort()


class S3BlobStore:
    """Blobs as objects in one bucket of an S3 server, each key stored under `prefix`.

    `client` is a boto3 S3 client; `prefix` is prepended as is (give it a trailing '/' for a folder).
    """

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def writer(self, key: str) -> S3BlobWriter:
        """A writer for the blob `key`."""
        return S3BlobWriter(self.client, self.bucket, self.prefix + key, key)

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes [start, end) of the blob in chunks of at most 1 MiB."""
        if end is not None and end <= start:
            self.size(key)  # an empty range still needs the blob to exist
            return iter(())
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self.prefix + key}
        if start > 0 or end is not None:
            request["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            body = self.client.get_object(**request)["Body"]
        except ClientError as exc:
            if _error_code(exc) == "InvalidRange":  # start at or past the end: no bytes, as a file gives
                return iter(())
            raise self._error("read", key, exc) from exc
        return _stream(body)

    def size(self, key: str) -> int:
        """The blob's size in bytes."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            raise self._error("size", key, exc) from exc
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        """Remove the blob; S3 answers success for an absent key too."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        except ClientError as exc:
            raise self._error("delete", key, exc) from exc

    def exists(self, key: str) -> bool:
        """Whether the blob exists."""
        try:
            self.size(key)
        except BlobMissing:
            return False
        return True

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every blob key that starts with prefix, in S3's (byte) order."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix + prefix)
        try:
            for page in pages:
                for item in page.get("Contents", ()):
                    yield item["Key"][len(self.prefix) :]
        except ClientError as exc:
            raise _backend_error("list", self.bucket, self.prefix + prefix, exc) from exc

    def remove_partials(self) -> int:
        """Nothing to delete: a write spools to an anonymous temporary file, which the system drops with its process.

        A crash during an upload in parts can leave an incomplete multipart upload in the bucket; servers may
        share the bucket, so aborting those at start would break other servers' uploads in flight (a lifecycle
        rule with AbortIncompleteMultipartUpload clears them safely).
        """
        return 0

    def _error(self, action: str, key: str, exc: ClientError) -> AltoError:
        if _error_code(exc) in _MISSING_CODES:
            return BlobMissing(f"blob {key!r} does not exist")
        return _backend_error(action, self.bucket, self.prefix + key, exc)


def ensure_bucket(client: Any, bucket: str, region: str) -> None:
    """Create `bucket` on the S3 server unless it is there already."""
    try:
        client.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if _error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise _backend_error("head", bucket, "", exc) from exc
    request: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":  # us-east-1 is the one region S3 refuses to be told
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        client.create_bucket(**request)
    except ClientError as exc:
        # Another process may have created it between the two calls.
        if _error_code(exc) != "BucketAlreadyOwnedByYou":
            raise _backend_error("create bucket", bucket, "", exc) from exc


def _stream(body: Any) -> Iterator[bytes]:
    with body:
        yield from body.iter_chunks(CHUNK_SIZE)


def _error_code(exc: ClientError) -> str:
    """The S3 error code of a botocore ClientError ('404' for a HEAD, which has no body)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def _backend_error(action: str, bucket: str, name: str, exc: Exception) -> BlobBackendError:
    """A BlobBackendError that names what was attempted on which object."""
    return BlobBackendError(f"S3 {action} of s3://{bucket}/{name} failed: {exc}")
