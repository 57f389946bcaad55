"""Server-side encryption, which the lake does not do, is refused (501 NotImplemented) rather than ignored."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.test_aws_cli import aws
from tests.live_server import LiveServer

CUSTOMER_KEY = b"k" * 32
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": CUSTOMER_KEY.decode()}
COPY_SSE_C = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": CUSTOMER_KEY.decode()}
SSE_KMS = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/mine", "BucketKeyEnabled": True}
WRITE_OPTIONS = {
    "SSE-S3": {"ServerSideEncryption": "AES256"},
    "SSE-KMS": SSE_KMS,
    "DSSE-KMS": {"ServerSideEncryption": "aws:kms:dsse"},
    "SSE-KMS context": {"ServerSideEncryption": "aws:kms", "SSEKMSEncryptionContext": "e30="},
    "SSE-C": SSE_C,
}


def refused(call: Callable[[], Any], status_only: bool = False) -> str:
    """Run call, expect 501 NotImplemented; its message."""
    error = fails(call, "501" if status_only else "NotImplemented", 501)
    return str(error.response["Error"].get("Message", ""))


@pytest.fixture
def source(s3: Any, bucket: str) -> str:
    """A bucket holding 'plain', a plain-text object."""
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain text")
    return bucket


@pytest.mark.parametrize("kind", list(WRITE_OPTIONS))
def test_put_object_asking_for_encryption_is_refused_and_stores_nothing(s3: Any, bucket: str, kind: str) -> None:
    message = refused(lambda: s3.put_object(Bucket=bucket, Key="secret", Body=b"secret", **WRITE_OPTIONS[kind]))
    assert "stores objects unencrypted" in message and "x-amz-server-side-encryption" in message
    fails(lambda: s3.head_object(Bucket=bucket, Key="secret"), "404", 404)


def test_the_message_names_the_headers_but_never_shows_a_customer_key(s3: Any, bucket: str) -> None:
    message = refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", **SSE_C))
    assert "x-amz-server-side-encryption-customer-algorithm='AES256'" in message
    assert "x-amz-server-side-encryption-customer-key" in message
    assert "x-amz-server-side-encryption-customer-key-md5" in message
    assert base64.b64encode(CUSTOMER_KEY).decode() not in message
    assert base64.b64encode(hashlib.md5(CUSTOMER_KEY).digest()).decode() not in message
    kms = refused(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", **SSE_KMS))
    assert "x-amz-server-side-encryption='aws:kms'" in kms
    assert "x-amz-server-side-encryption-aws-kms-key-id" in kms
    assert "x-amz-server-side-encryption-bucket-key-enabled" in kms


@pytest.mark.parametrize("options", [{"ServerSideEncryption": "AES256"}, SSE_KMS, SSE_C, COPY_SSE_C])
def test_copy_object_asking_for_encryption_is_refused(s3: Any, source: str, options: dict[str, Any]) -> None:
    copy = {"Bucket": source, "Key": "copy", "CopySource": {"Bucket": source, "Key": "plain"}}
    refused(lambda: s3.copy_object(**copy, **options))
    fails(lambda: s3.head_object(Bucket=source, Key="copy"), "404", 404)


@pytest.mark.parametrize("options", [{"ServerSideEncryption": "AES256"}, SSE_KMS, SSE_C])
def test_create_multipart_upload_asking_for_encryption_is_refused(
    s3: Any, bucket: str, options: dict[str, Any]
) -> None:
    refused(lambda: s3.create_multipart_upload(Bucket=bucket, Key="parts", **options))
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_upload_part_and_upload_part_copy_asking_for_encryption_are_refused(s3: Any, source: str) -> None:
    upload = s3.create_multipart_upload(Bucket=source, Key="parts")["UploadId"]
    part = {"Bucket": source, "Key": "parts", "UploadId": upload, "PartNumber": 1}
    refused(lambda: s3.upload_part(**part, Body=b"p" * 1024, **SSE_C))
    refused(lambda: s3.upload_part_copy(**part, CopySource={"Bucket": source, "Key": "plain"}, **COPY_SSE_C))
    refused(lambda: s3.upload_part_copy(**part, CopySource={"Bucket": source, "Key": "plain"}, **SSE_C))
    assert s3.list_parts(Bucket=source, Key="parts", UploadId=upload).get("Parts", []) == []


def test_reading_with_a_customer_key_is_refused(s3: Any, source: str) -> None:
    refused(lambda: s3.get_object(Bucket=source, Key="plain", **SSE_C))
    refused(lambda: s3.head_object(Bucket=source, Key="plain", **SSE_C), status_only=True)


def test_requests_without_encryption_headers_still_work(
    server: LiveServer, s3: Any, source: str, tmp_path: Path
) -> None:
    assert s3.get_object(Bucket=source, Key="plain")["Body"].read() == b"plain text"
    assert "ServerSideEncryption" not in s3.head_object(Bucket=source, Key="plain")
    local = tmp_path / "file.txt"
    local.write_bytes(b"from the aws CLI")
    aws(server, "s3", "cp", str(local), f"s3://{source}/cli.txt")
    assert aws(server, "s3", "cp", f"s3://{source}/cli.txt", "-").stdout == "from the aws CLI"
    denied = aws(server, "s3", "cp", str(local), f"s3://{source}/sse.txt", "--sse", "AES256", ok=False)
    assert denied.returncode != 0 and "NotImplemented" in denied.stderr
    fails(lambda: s3.head_object(Bucket=source, Key="sse.txt"), "404", 404)
