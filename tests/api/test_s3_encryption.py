"""Encryption at rest through boto3 and the aws CLI: SSE-S3, SSE-C, bucket default encryption, SSE-KMS refused."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.test_aws_cli import aws
from tests.live_server import LiveServer, live_server

KEY = os.urandom(32)
OTHER_KEY = os.urandom(32)
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
WRONG_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": OTHER_KEY}
COPY_C = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": KEY}
SSE_S3 = {"ServerSideEncryption": "AES256"}
MiB = 1024 * 1024
CHUNK = 64 * 1024
NEEDS_KEY = "The object was stored using a form of Server Side Encryption"


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def body(size: int) -> bytes:
    return os.urandom(size)


def with_headers(client: Any, operation: str, headers: dict[str, str]) -> Any:
    """The client, sending (or replacing) these headers on every `operation` request."""

    def add(request: Any, **_: Any) -> None:
        for name, value in headers.items():
            del request.headers[name]  # botocore's headers add a second value where one is set
            request.headers[name] = value

    client.meta.events.register(f"before-sign.s3.{operation}", add)
    return client


def files_holding(root: Path, marker: bytes) -> list[Path]:
    """Every file under root whose bytes contain marker."""
    return [path for path in root.rglob("*") if path.is_file() and marker in path.read_bytes()]


# SSE-S3


def test_sse_s3_round_trip_whole_ranged_and_empty(s3: Any, bucket: str) -> None:
    data = body(3 * CHUNK + 77)
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, **SSE_S3)
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'  # S3's SSE-S3 ETag: the plaintext's MD5
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == data and got["ServerSideEncryption"] == "AES256"
    assert got["ContentLength"] == len(data)
    for first, last in [(0, 0), (CHUNK - 3, CHUNK + 2), (CHUNK, 2 * CHUNK - 1), (5, 3 * CHUNK + 10), (3 * CHUNK, None)]:
        wanted = f"bytes={first}-{'' if last is None else last}"
        part = s3.get_object(Bucket=bucket, Key="k", Range=wanted)
        assert part["Body"].read() == data[first : None if last is None else last + 1], wanted
    assert s3.get_object(Bucket=bucket, Key="k", Range="bytes=-100")["Body"].read() == data[-100:]
    assert s3.head_object(Bucket=bucket, Key="k")["ServerSideEncryption"] == "AES256"
    s3.put_object(Bucket=bucket, Key="empty", Body=b"", **SSE_S3)
    assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""
    sizes = {entry["Key"]: entry["Size"] for entry in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert sizes == {"k": len(data), "empty": 0}


def test_checksums_and_conditions_hold_for_encrypted_objects(s3: Any, bucket: str) -> None:
    data = body(CHUNK + 1)
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm="SHA256", **SSE_C)
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert put["ChecksumSHA256"] == expected
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", **SSE_C)
    assert got["Body"].read() == data and got["ChecksumSHA256"] == expected
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=put["ETag"], **SSE_C), "304", 304)
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", IfMatch='"0"', **SSE_C), "PreconditionFailed", 412)


def test_the_bytes_on_disk_are_not_the_plaintext(server: LiveServer, s3: Any, bucket: str) -> None:
    marker = b"plaintext-marker-" + os.urandom(8).hex().encode()
    data = marker * 5000  # several chunks, each of them holding the marker many times
    s3.put_object(Bucket=bucket, Key="plain", Body=data)
    assert files_holding(server.data_dir, marker), "the scan finds a plain object's bytes"
    s3.delete_object(Bucket=bucket, Key="plain")
    s3.put_object(Bucket=bucket, Key="s3", Body=data, **SSE_S3)
    s3.put_object(Bucket=bucket, Key="c", Body=data, **SSE_C)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", **SSE_C)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=1, Body=data, **SSE_C)
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    )
    assert files_holding(server.data_dir, marker) == []
    for key in ("s3", "mp"):
        assert s3.get_object(Bucket=bucket, Key=key, **({} if key == "s3" else SSE_C))["Body"].read() == data


# SSE-C


def test_sse_c_round_trip_and_the_key_it_needs(s3: Any, bucket: str) -> None:
    data = body(2 * CHUNK + 5)
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, **SSE_C)
    assert put["SSECustomerAlgorithm"] == "AES256" and put["SSECustomerKeyMD5"] == md5_b64(KEY)
    assert "ServerSideEncryption" not in put
    assert put["ETag"] != f'"{hashlib.md5(data).hexdigest()}"'  # as S3: an SSE-C ETag is not the plaintext's MD5
    got = s3.get_object(Bucket=bucket, Key="k", **SSE_C)
    assert got["Body"].read() == data and got["SSECustomerKeyMD5"] == md5_b64(KEY)
    ranged = s3.get_object(Bucket=bucket, Key="k", Range=f"bytes={CHUNK - 1}-{CHUNK}", **SSE_C)
    assert ranged["Body"].read() == data[CHUNK - 1 : CHUNK + 1]
    assert s3.head_object(Bucket=bucket, Key="k", **SSE_C)["ContentLength"] == len(data)
    error = fails(lambda: s3.get_object(Bucket=bucket, Key="k"), "InvalidRequest", 400)
    assert NEEDS_KEY in error.response["Error"]["Message"]
    fails(lambda: s3.head_object(Bucket=bucket, Key="k"), "400", 400)
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", **WRONG_C), "AccessDenied", 403)
    fails(lambda: s3.head_object(Bucket=bucket, Key="k", **WRONG_C), "403", 403)
    attributes = {"Bucket": bucket, "Key": "k", "ObjectAttributes": ["ObjectSize"]}
    fails(lambda: s3.get_object_attributes(**attributes), "InvalidRequest", 400)
    # botocore encodes no customer key for GetObjectAttributes: it is sent as the headers carry it.
    encoded = {"SSECustomerKey": base64.b64encode(KEY).decode(), "SSECustomerKeyMD5": md5_b64(KEY)}
    assert s3.get_object_attributes(**attributes, SSECustomerAlgorithm="AES256", **encoded)["ObjectSize"] == len(data)
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    fails(lambda: s3.get_object(Bucket=bucket, Key="plain", **SSE_C), "InvalidRequest", 400)
    s3.put_object(Bucket=bucket, Key="empty", Body=b"", **SSE_C)
    assert s3.get_object(Bucket=bucket, Key="empty", **SSE_C)["Body"].read() == b""


@pytest.fixture
def raw_s3(server: LiveServer) -> Any:
    """A client that sends what it is given (botocore's checks off), to test the server's."""
    return server.client("s3", parameter_validation=False)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"x-amz-server-side-encryption-customer-key-MD5": md5_b64(b"another key")}, "InvalidArgument"),
        (
            {
                "x-amz-server-side-encryption-customer-key": base64.b64encode(b"short").decode(),
                "x-amz-server-side-encryption-customer-key-MD5": md5_b64(b"short"),
            },
            "InvalidArgument",
        ),
        ({"x-amz-server-side-encryption-customer-key": "not base64!"}, "InvalidArgument"),
        ({"x-amz-server-side-encryption-customer-algorithm": "AES128"}, "InvalidEncryptionAlgorithmError"),
        ({"x-amz-server-side-encryption": "AES256"}, "InvalidArgument"),
    ],
)
def test_bad_customer_keys_are_refused(raw_s3: Any, bucket: str, headers: dict[str, str], code: str) -> None:
    client = with_headers(raw_s3, "PutObject", headers)
    fails(lambda: client.put_object(Bucket=bucket, Key="k", Body=b"x", **SSE_C), code, 400)
    fails(lambda: raw_s3.head_object(Bucket=bucket, Key="k"), "404", 404)


def test_a_missing_md5_is_refused(raw_s3: Any, bucket: str) -> None:
    def drop(request: Any, **_: Any) -> None:
        del request.headers["x-amz-server-side-encryption-customer-key-MD5"]

    raw_s3.meta.events.register("before-sign.s3.PutObject", drop)
    error = fails(lambda: raw_s3.put_object(Bucket=bucket, Key="k", Body=b"x", **SSE_C), "InvalidArgument", 400)
    assert "MD5" in error.response["Error"]["Message"]


# SSE-KMS and what is not built


@pytest.mark.parametrize(
    "options",
    [
        {"ServerSideEncryption": "aws:kms"},
        {"ServerSideEncryption": "aws:kms:dsse"},
        {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/mine"},
    ],
)
def test_sse_kms_is_refused_and_stores_nothing(s3: Any, bucket: str, options: dict[str, Any]) -> None:
    error = fails(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", **options), "KMS.NotFoundException", 400)
    assert "key management service" in error.response["Error"]["Message"]
    fails(lambda: s3.create_multipart_upload(Bucket=bucket, Key="k", **options), "KMS.NotFoundException", 400)
    fails(lambda: s3.head_object(Bucket=bucket, Key="k"), "404", 404)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_bucket_keys_are_refused(s3: Any, bucket: str) -> None:
    put = {"Bucket": bucket, "Key": "k", "Body": b"x", "BucketKeyEnabled": True, **SSE_S3}
    fails(lambda: s3.put_object(**put), "InvalidArgument", 400)
    assert s3.put_object(**{**put, "BucketKeyEnabled": False})["ServerSideEncryption"] == "AES256"


def test_encryption_headers_an_operation_does_not_take_are_refused(raw_s3: Any, bucket: str) -> None:
    raw_s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    secret = base64.b64encode(KEY).decode()
    client = with_headers(raw_s3, "PutObjectTagging", {"x-amz-server-side-encryption-customer-key": secret})
    error = fails(
        lambda: client.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []}), "NotImplemented", 501
    )
    assert "x-amz-server-side-encryption-customer-key" in error.response["Error"]["Message"]
    assert secret not in error.response["Error"]["Message"]
    reading = with_headers(raw_s3, "GetObject", {"x-amz-server-side-encryption": "AES256"})
    fails(lambda: reading.get_object(Bucket=bucket, Key="k"), "NotImplemented", 501)


# Multipart


@pytest.mark.parametrize("kind", ["SSE-S3", "SSE-C"])
def test_multipart_uploads_are_encrypted_part_by_part(s3: Any, bucket: str, kind: str) -> None:
    create, each = (SSE_S3, {}) if kind == "SSE-S3" else (SSE_C, SSE_C)
    started = s3.create_multipart_upload(Bucket=bucket, Key="mp", **create)
    upload = started["UploadId"]
    assert (started.get("ServerSideEncryption") or started.get("SSECustomerAlgorithm")) == "AES256"
    parts = [body(5 * MiB + 3), body(CHUNK + 9)]
    etags = []
    for number, data in enumerate(parts, start=1):
        done = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload, PartNumber=number, Body=data, **each)
        etags.append({"PartNumber": number, "ETag": done["ETag"]})
    finished = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=upload, MultipartUpload={"Parts": etags}, **each
    )
    sent = finished["ResponseMetadata"]["HTTPHeaders"]
    assert (
        sent.get("x-amz-server-side-encryption") or sent["x-amz-server-side-encryption-customer-algorithm"]
    ) == "AES256"
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="mp", **each)["Body"].read() == whole
    edge = len(parts[0])
    ranged = s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={edge - 10}-{edge + CHUNK + 1}", **each)
    assert ranged["Body"].read() == whole[edge - 10 : edge + CHUNK + 2]
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2, **each)
    assert second["Body"].read() == parts[1] and second["PartsCount"] == 2
    assert s3.head_object(Bucket=bucket, Key="mp", **each)["ContentLength"] == len(whole)


def test_parts_of_an_sse_c_upload_need_its_key(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", **SSE_C)["UploadId"]
    part = {"Bucket": bucket, "Key": "mp", "UploadId": upload, "PartNumber": 1, "Body": b"p" * 100}
    error = fails(lambda: s3.upload_part(**part), "InvalidRequest", 400)
    assert "must include the appropriate encryption parameters" in error.response["Error"]["Message"]
    fails(lambda: s3.upload_part(**part, **WRONG_C), "AccessDenied", 403)
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload).get("Parts", []) == []
    plain = s3.create_multipart_upload(Bucket=bucket, Key="plain")["UploadId"]
    fails(lambda: s3.upload_part(**{**part, "Key": "plain", "UploadId": plain}, **SSE_C), "InvalidRequest", 400)


def test_upload_part_copy_from_an_sse_c_source(s3: Any, bucket: str) -> None:
    data = body(3 * CHUNK)
    s3.put_object(Bucket=bucket, Key="source", Body=data, **SSE_C)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", **SSE_S3)["UploadId"]
    copy = {"Bucket": bucket, "Key": "mp", "UploadId": upload, "PartNumber": 1}
    source = {"Bucket": bucket, "Key": "source"}
    fails(lambda: s3.upload_part_copy(**copy, CopySource=source), "InvalidRequest", 400)
    ranged = f"bytes={CHUNK - 5}-{2 * CHUNK + 4}"
    done = s3.upload_part_copy(**copy, CopySource=source, CopySourceRange=ranged, **COPY_C)
    assert done["ServerSideEncryption"] == "AES256"
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": done["CopyPartResult"]["ETag"]}]},
    )
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == data[CHUNK - 5 : 2 * CHUNK + 5]


# CopyObject


def test_copy_between_encryption_kinds(s3: Any, bucket: str) -> None:
    data = body(CHUNK + 100)
    s3.put_object(Bucket=bucket, Key="c", Body=data, **SSE_C)
    source = {"Bucket": bucket, "Key": "c"}
    fails(lambda: s3.copy_object(Bucket=bucket, Key="x", CopySource=source), "InvalidRequest", 400)
    fails(
        lambda: s3.copy_object(
            Bucket=bucket,
            Key="x",
            CopySource=source,
            CopySourceSSECustomerAlgorithm="AES256",
            CopySourceSSECustomerKey=OTHER_KEY,
        ),
        "AccessDenied",
        403,
    )
    to_s3 = s3.copy_object(Bucket=bucket, Key="s3", CopySource=source, **COPY_C, **SSE_S3)
    assert to_s3["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="s3")["Body"].read() == data
    plain = s3.copy_object(Bucket=bucket, Key="plain", CopySource=source, **COPY_C)
    assert "ServerSideEncryption" not in plain and "SSECustomerAlgorithm" not in plain
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == data
    to_c = s3.copy_object(Bucket=bucket, Key="c2", CopySource={"Bucket": bucket, "Key": "plain"}, **WRONG_C)
    assert to_c["SSECustomerKeyMD5"] == md5_b64(OTHER_KEY)
    assert s3.get_object(Bucket=bucket, Key="c2", **WRONG_C)["Body"].read() == data
    # Changing only the encryption is a copy S3 allows onto the object itself.
    s3.copy_object(Bucket=bucket, Key="plain", CopySource={"Bucket": bucket, "Key": "plain"}, **SSE_S3)
    assert s3.head_object(Bucket=bucket, Key="plain")["ServerSideEncryption"] == "AES256"


# Bucket default encryption


def test_bucket_default_encryption(s3: Any, bucket: str) -> None:
    fails(lambda: s3.get_bucket_encryption(Bucket=bucket), "ServerSideEncryptionConfigurationNotFoundError", 404)
    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    shown = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert shown == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]
    assert s3.put_object(Bucket=bucket, Key="d", Body=b"default")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=bucket, Key="d")["ServerSideEncryption"] == "AES256"
    assert s3.create_multipart_upload(Bucket=bucket, Key="m")["ServerSideEncryption"] == "AES256"
    assert s3.put_object(Bucket=bucket, Key="c", Body=b"c", **SSE_C)["SSECustomerAlgorithm"] == "AES256"
    s3.delete_bucket_encryption(Bucket=bucket)
    fails(lambda: s3.get_bucket_encryption(Bucket=bucket), "ServerSideEncryptionConfigurationNotFoundError", 404)
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="p", Body=b"p")
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == b"default"


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}, "KMS.NotFoundException"),
        ({"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms:dsse"}}, "KMS.NotFoundException"),
        (
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True},
            "InvalidArgument",
        ),
        (
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256", "KMSMasterKeyID": "k"}},
            "InvalidArgument",
        ),
        ({"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}, "InvalidArgument"),
        (
            {
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]},
            },
            "NotImplemented",
        ),
    ],
)
def test_bucket_encryption_it_cannot_apply_is_refused(s3: Any, bucket: str, rule: dict[str, Any], code: str) -> None:
    status = 501 if code == "NotImplemented" else 400
    config = {"Rules": [rule]}
    fails(lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=config), code, status)
    fails(lambda: s3.get_bucket_encryption(Bucket=bucket), "ServerSideEncryptionConfigurationNotFoundError", 404)


# Plain HTTP


@pytest.fixture(scope="module")
def behind_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that takes customer keys only over TLS, behind a proxy on 127.0.0.1 (these tests play it)."""
    data_dir = Path(tmp_path_factory.mktemp("proxied")) / "data"
    with live_server(data_dir, env={"ALTO_TRUSTED_PROXIES": "127.0.0.1"}) as running:
        yield running


def test_customer_keys_need_a_secure_connection(behind_proxy: LiveServer) -> None:
    plain = behind_proxy.client("s3")
    plain.create_bucket(Bucket="secure")
    error = fails(lambda: plain.put_object(Bucket="secure", Key="k", Body=b"x", **SSE_C), "InvalidRequest", 400)
    assert "must be made over a secure connection" in error.response["Error"]["Message"]
    fails(lambda: plain.head_object(Bucket="secure", Key="k"), "404", 404)
    assert plain.put_object(Bucket="secure", Key="s3", Body=b"x", **SSE_S3)["ServerSideEncryption"] == "AES256"
    # What the TLS proxy forwards (X-Forwarded-Proto: https from a trusted address) is secure.
    proxied = with_headers(behind_proxy.client("s3"), "PutObject", {"x-forwarded-proto": "https"})
    with_headers(proxied, "GetObject", {"x-forwarded-proto": "https"})
    proxied.put_object(Bucket="secure", Key="k", Body=b"over tls", **SSE_C)
    assert proxied.get_object(Bucket="secure", Key="k", **SSE_C)["Body"].read() == b"over tls"
    fails(lambda: plain.get_object(Bucket="secure", Key="k", **SSE_C), "InvalidRequest", 400)


def test_forwarded_headers_are_believed_only_from_trusted_proxies() -> None:
    from altostratus.cli.serve import gateway_server
    from altostratus.core.settings import Settings

    app: Callable[..., Any] = lambda scope, receive, send: None  # noqa: E731
    untrusted = gateway_server(Settings(data_dir=Path("/nonexistent")), app).config
    assert untrusted.proxy_headers is False
    trusted = gateway_server(Settings(data_dir=Path("/nonexistent"), trusted_proxies="10.0.0.2"), app).config
    assert trusted.proxy_headers is True and trusted.forwarded_allow_ips == "10.0.0.2"


# The aws CLI


def test_aws_cli_copies_with_sse_and_sse_c(server: LiveServer, s3: Any, bucket: str, tmp_path: Path) -> None:
    local = tmp_path / "file.bin"
    data = body(CHUNK * 2 + 1)
    local.write_bytes(data)
    key_file = tmp_path / "key.bin"
    key_file.write_bytes(KEY)
    aws(server, "s3", "cp", str(local), f"s3://{bucket}/sse.bin", "--sse", "AES256")
    assert s3.head_object(Bucket=bucket, Key="sse.bin")["ServerSideEncryption"] == "AES256"
    sse_c = ["--sse-c", "AES256", "--sse-c-key", f"fileb://{key_file}"]
    aws(server, "s3", "cp", str(local), f"s3://{bucket}/c.bin", *sse_c)
    back = tmp_path / "back.bin"
    aws(server, "s3", "cp", f"s3://{bucket}/c.bin", str(back), *sse_c)
    assert back.read_bytes() == data
    denied = aws(server, "s3", "cp", f"s3://{bucket}/c.bin", str(tmp_path / "no.bin"), ok=False)
    assert denied.returncode != 0 and "400" in denied.stderr
    kms = aws(server, "s3", "cp", str(local), f"s3://{bucket}/kms.bin", "--sse", "aws:kms", ok=False)
    assert kms.returncode != 0 and "KMS.NotFoundException" in kms.stderr
