"""S3 objects through real boto3: put, get, head, delete, ranges, conditions, copies, bulk deletes, digests."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import zlib
from typing import Any

import botocore.httpchecksum
import httpx
import pytest

from tests.api.errors import error_code, fails
from tests.api.raw import pooled_ports, send_signed, signed_headers
from tests.live_server import LiveServer

EMPTY_MD5 = hashlib.md5(b"").hexdigest()


def md5_etag(data: bytes) -> str:
    """The ETag S3 gives an object stored in one piece."""
    return f'"{hashlib.md5(data).hexdigest()}"'


def b64_md5(data: bytes) -> str:
    """A Content-MD5 header value."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()


# ---- put, get, head, delete --------------------------------------------------------------------------


def test_empty_object(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert put["ETag"] == f'"{EMPTY_MD5}"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert (got["ContentLength"], got["ETag"]) == (0, f'"{EMPTY_MD5}"')
    head = s3.head_object(Bucket=bucket, Key="empty")
    assert (head["ContentLength"], head["ETag"]) == (0, f'"{EMPTY_MD5}"')


def test_small_object_round_trip_with_metadata_and_headers(s3: Any, bucket: str) -> None:
    data = b"hello, lake\n" * 10
    put = s3.put_object(
        Bucket=bucket,
        Key="docs/hello.txt",
        Body=data,
        ContentType="text/plain; charset=utf-8",
        ContentEncoding="identity",
        ContentDisposition='attachment; filename="hello.txt"',
        ContentLanguage="en-GB",
        CacheControl="max-age=60, public",
        Metadata={"Owner": "ada", "purpose": "a test with spaces"},
    )
    assert put["ETag"] == md5_etag(data)
    for reply in (
        s3.get_object(Bucket=bucket, Key="docs/hello.txt"),
        s3.head_object(Bucket=bucket, Key="docs/hello.txt"),
    ):
        assert reply["ETag"] == md5_etag(data)
        assert reply["ContentLength"] == len(data)
        assert reply["ContentType"] == "text/plain; charset=utf-8"
        assert reply["ContentEncoding"] == "identity"
        assert reply["ContentDisposition"] == 'attachment; filename="hello.txt"'
        assert reply["ContentLanguage"] == "en-GB"
        assert reply["CacheControl"] == "max-age=60, public"
        assert reply["Metadata"] == {"owner": "ada", "purpose": "a test with spaces"}
        assert reply["AcceptRanges"] == "bytes"
        assert reply["LastModified"].tzinfo is not None
    assert s3.get_object(Bucket=bucket, Key="docs/hello.txt")["Body"].read() == data


def test_expires_round_trip(s3: Any, bucket: str) -> None:
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Expires=when)
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ResponseMetadata"]["HTTPHeaders"]["expires"] == "Wed, 02 Jan 2030 03:04:05 GMT"


def test_default_content_type(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.head_object(Bucket=bucket, Key="k")["ContentType"] == "binary/octet-stream"


def test_response_header_overrides(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentType="text/plain")
    got = s3.get_object(
        Bucket=bucket,
        Key="k",
        ResponseContentType="application/json",
        ResponseContentDisposition="inline",
        ResponseCacheControl="no-cache",
    )
    assert (got["ContentType"], got["ContentDisposition"], got["CacheControl"]) == (
        "application/json",
        "inline",
        "no-cache",
    )


def test_overwrite_replaces_bytes_and_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"v": "1"}, ContentType="text/plain")
    s3.put_object(Bucket=bucket, Key="k", Body=b"second!")
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"second!"
    assert got["Metadata"] == {}
    assert got["ContentType"] == "binary/octet-stream"


@pytest.mark.parametrize(
    "key",
    [
        "with space.txt",
        "plus+sign",
        "percent%41literal",
        "unicode/Ünïcödé/日本語.txt",
        "question?mark",
        "hash#tag",
        "ampersand&equals=",
        "tilde~star*",
        "dir//double/slash",
        "/leading-slash",
        "trailing-slash/",
        "semi;colon,comma",
        "quote'dq\"",
        "<angle>&amp;",
    ],
)
def test_unusual_keys_round_trip(s3: Any, bucket: str, key: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [key]
    s3.delete_object(Bucket=bucket, Key=key)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_missing_key(s3: Any, bucket: str) -> None:
    error = fails(lambda: s3.get_object(Bucket=bucket, Key="nope"), "NoSuchKey", 404)
    assert error.response["Error"]["Key"] == "nope"
    fails(lambda: s3.head_object(Bucket=bucket, Key="nope"), "404", 404)


def test_delete_is_idempotent(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    fails(lambda: s3.get_object(Bucket=bucket, Key="k"), "NoSuchKey", 404)


def test_answers_without_a_body_keep_the_connection_open(server: LiveServer) -> None:
    s3 = server.client("s3")  # its own client: one pool, one keep-alive connection
    s3.create_bucket(Bucket="bodiless")
    s3.put_object(Bucket="bodiless", Key="k", Body=b"x")
    upload = s3.create_multipart_upload(Bucket="bodiless", Key="parts")["UploadId"]
    bodiless = [
        lambda: s3.delete_object(Bucket="bodiless", Key="k"),
        lambda: s3.delete_object(Bucket="bodiless", Key="never-there"),
        lambda: s3.abort_multipart_upload(Bucket="bodiless", Key="parts", UploadId=upload),
        lambda: s3.delete_bucket(Bucket="bodiless"),
    ]
    ports = pooled_ports(s3)
    for call in bodiless:
        assert call()["ResponseMetadata"]["HTTPStatusCode"] == 204
        ports |= pooled_ports(s3)
        assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200  # the next call, same connection
        ports |= pooled_ports(s3)
    assert len(ports) == 1, f"the server closed the connection after a 204: the client used ports {ports}"


def test_key_length_limit(s3: Any, bucket: str) -> None:
    longest = "k" * 1024
    s3.put_object(Bucket=bucket, Key=longest, Body=b"x")
    assert s3.get_object(Bucket=bucket, Key=longest)["Body"].read() == b"x"
    fails(lambda: s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x"), "KeyTooLongError", 400)
    # The limit counts UTF-8 bytes, not characters: 342 euro signs are 1,026 bytes.
    fails(lambda: s3.put_object(Bucket=bucket, Key="€" * 342, Body=b"x"), "KeyTooLongError", 400)
    fails(lambda: s3.create_multipart_upload(Bucket=bucket, Key="k" * 1025), "KeyTooLongError", 400)


# ---- digests and lengths ---------------------------------------------------------------------------


def test_content_md5_checked(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"right", ContentMD5=b64_md5(b"right"))
    fails(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"wrong", ContentMD5=b64_md5(b"other")), "BadDigest", 400)
    fails(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentMD5="not base64!"), "InvalidDigest", 400)
    fails(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", ContentMD5="AAAA"), "InvalidDigest", 400)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"right"


def test_content_md5_checked_on_raw_request(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    response = send_signed(
        http, server, "PUT", f"/{bucket}/raw", body=b"payload", headers={"Content-MD5": b64_md5(b"something else")}
    )
    assert (response.status_code, error_code(response)) == (400, "BadDigest")
    fails(lambda: s3.head_object(Bucket=bucket, Key="raw"), "404", 404)
    response = send_signed(
        http, server, "PUT", f"/{bucket}/raw", body=b"payload", headers={"Content-MD5": b64_md5(b"payload")}
    )
    assert response.status_code == 200
    assert response.headers["etag"] == md5_etag(b"payload")


def test_checksum_crc32_checked(s3: Any, bucket: str) -> None:
    right = base64.b64encode(zlib.crc32(b"data").to_bytes(4, "big")).decode()
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumCRC32=right)
    assert put["ChecksumCRC32"] == right
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    fails(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"data!", ChecksumCRC32=wrong), "BadDigest", 400)
    got = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"data"
    assert got["ChecksumCRC32"] == right


def test_checksum_sha256_stored(s3: Any, bucket: str) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"data", ChecksumAlgorithm="SHA256")
    expected = base64.b64encode(hashlib.sha256(b"data").digest()).decode()
    assert put["ChecksumSHA256"] == expected
    assert s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")["ChecksumSHA256"] == expected


def test_wrong_checksum_on_raw_request(http: httpx.Client, server: LiveServer, bucket: str) -> None:
    response = send_signed(
        http, server, "PUT", f"/{bucket}/raw", body=b"data", headers={"x-amz-checksum-crc32": "AAAAAA=="}
    )
    assert (response.status_code, error_code(response)) == (400, "BadDigest")


def test_missing_content_length(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    response = send_signed(http, server, "PUT", f"/{bucket}/no-length", drop=("content-length",))
    assert (response.status_code, error_code(response)) == (411, "MissingContentLength")
    fails(lambda: s3.head_object(Bucket=bucket, Key="no-length"), "404", 404)


def test_payload_hash_mismatch(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    url = f"{server.endpoint}/{bucket}/k"
    # Signed over one body, sent with another: the signature holds, the payload hash does not.
    headers = signed_headers("PUT", url, access_key=server.access_key, secret_key=server.secret_key, body=b"signed")
    response = http.put(url, headers=headers, content=b"sent!!")
    assert (response.status_code, error_code(response)) == (400, "XAmzContentSHA256Mismatch")
    fails(lambda: s3.head_object(Bucket=bucket, Key="k"), "404", 404)


# ---- ranges ---------------------------------------------------------------------------------------

DIGITS = b"0123456789"


@pytest.mark.parametrize(
    ("header", "body", "content_range"),
    [
        ("bytes=0-0", b"0", "bytes 0-0/10"),
        ("bytes=2-5", b"2345", "bytes 2-5/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=-20", DIGITS, "bytes 0-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
        ("bytes=9-9", b"9", "bytes 9-9/10"),
    ],
)
def test_range_reads(s3: Any, bucket: str, header: str, body: bytes, content_range: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=DIGITS)
    got = s3.get_object(Bucket=bucket, Key="digits", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert got["Body"].read() == body
    assert (got["ContentRange"], got["ContentLength"]) == (content_range, len(body))


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=100-200", "bytes=-0"])
def test_unsatisfiable_range(s3: Any, bucket: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=DIGITS)
    fails(lambda: s3.get_object(Bucket=bucket, Key="digits", Range=header), "InvalidRange", 416)


@pytest.mark.parametrize("header", ["bytes=0-0", "bytes=0-", "bytes=-1"])
def test_range_on_empty_object(s3: Any, bucket: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    fails(lambda: s3.get_object(Bucket=bucket, Key="empty", Range=header), "InvalidRange", 416)


@pytest.mark.parametrize("header", ["bytes=abc", "chars=0-1", "bytes=0-1,3-4", "bytes=5-2", "bytes=-", "0-1", ""])
def test_unparseable_range_gives_whole_object(s3: Any, bucket: str, header: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=DIGITS)
    got = s3.get_object(Bucket=bucket, Key="digits", Range=header)
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert got["Body"].read() == DIGITS
    assert "ContentRange" not in got


def test_head_with_range(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="digits", Body=DIGITS)
    head = s3.head_object(Bucket=bucket, Key="digits", Range="bytes=2-4")
    assert (head["ResponseMetadata"]["HTTPStatusCode"], head["ContentLength"]) == (206, 3)


# ---- conditional requests -------------------------------------------------------------------------


def test_if_match_and_if_none_match(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"x"
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch=etag.strip('"'))["Body"].read() == b"x"
    assert s3.get_object(Bucket=bucket, Key="k", IfMatch="*")["Body"].read() == b"x"
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", IfMatch='"0000"'), "PreconditionFailed", 412)
    fails(lambda: s3.head_object(Bucket=bucket, Key="k", IfMatch='"0000"'), "412", 412)
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag), "304", 304)
    fails(lambda: s3.head_object(Bucket=bucket, Key="k", IfNoneMatch=etag), "304", 304)
    assert s3.get_object(Bucket=bucket, Key="k", IfNoneMatch='"0000"')["Body"].read() == b"x"


def test_conditional_writes_put_only_when_absent_or_when_the_etag_still_matches(s3: Any, bucket: str) -> None:
    first = s3.put_object(Bucket=bucket, Key="lock", Body=b"first", IfNoneMatch="*")["ETag"]
    fails(lambda: s3.put_object(Bucket=bucket, Key="lock", Body=b"second", IfNoneMatch="*"), "PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="lock")["Body"].read() == b"first"  # the refused write left no trace

    fails(lambda: s3.put_object(Bucket=bucket, Key="lock", Body=b"x", IfMatch='"0000"'), "PreconditionFailed", 412)
    second = s3.put_object(Bucket=bucket, Key="lock", Body=b"second", IfMatch=first)["ETag"]
    fails(lambda: s3.put_object(Bucket=bucket, Key="lock", Body=b"third", IfMatch=first), "PreconditionFailed", 412)
    assert second == md5_etag(b"second") and s3.get_object(Bucket=bucket, Key="lock")["Body"].read() == b"second"

    fails(lambda: s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfMatch=first), "NoSuchKey", 404)
    fails(lambda: s3.put_object(Bucket=bucket, Key="absent", Body=b"x", IfNoneMatch=first), "NotImplemented", 501)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["lock"]


def test_racing_conditional_creates_leave_exactly_one_winner(s3: Any, bucket: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(n: int) -> str:
        try:
            s3.put_object(Bucket=bucket, Key="leader", Body=f"candidate {n}".encode(), IfNoneMatch="*")
        except Exception as error:
            return error_code_of(error)
        return "won"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(create, range(16)))
    assert outcomes.count("won") == 1 and set(outcomes) <= {"won", "PreconditionFailed", "ConditionalRequestConflict"}
    winner = outcomes.index("won")
    assert s3.get_object(Bucket=bucket, Key="leader")["Body"].read() == f"candidate {winner}".encode()


def error_code_of(error: Exception) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__))


def test_if_modified_and_unmodified_since(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    past = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=past)["Body"].read() == b"x"
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", IfModifiedSince=future), "304", 304)
    assert s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=future)["Body"].read() == b"x"
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", IfUnmodifiedSince=past), "PreconditionFailed", 412)


# ---- copy -----------------------------------------------------------------------------------------


def test_copy_keeps_metadata(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/plain", Metadata={"a": "1"})
    result = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert result["CopyObjectResult"]["ETag"] == md5_etag(b"copy me")
    assert result["CopyObjectResult"]["LastModified"].tzinfo is not None
    got = s3.get_object(Bucket=bucket, Key="dst")
    assert got["Body"].read() == b"copy me"
    assert (got["ContentType"], got["Metadata"]) == ("text/plain", {"a": "1"})


def test_copy_with_metadata_given_but_directive_copy_ignores_it(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Metadata={"a": "1"})
    s3.copy_object(Bucket=bucket, Key="dst", CopySource=f"{bucket}/src", Metadata={"b": "2"})
    assert s3.head_object(Bucket=bucket, Key="dst")["Metadata"] == {"a": "1"}


def test_copy_replace_directive(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", ContentType="text/plain", Metadata={"a": "1"})
    s3.copy_object(
        Bucket=bucket,
        Key="dst",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        ContentType="application/json",
        Metadata={"b": "2"},
    )
    head = s3.head_object(Bucket=bucket, Key="dst")
    assert (head["ContentType"], head["Metadata"]) == ("application/json", {"b": "2"})


def test_copy_across_buckets_with_unusual_key(s3: Any, bucket: str) -> None:
    s3.create_bucket(Bucket=f"{bucket}-2")
    key = "dir/ü n+%/x?.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"moved")
    s3.copy_object(Bucket=f"{bucket}-2", Key=key, CopySource={"Bucket": bucket, "Key": key})
    assert s3.get_object(Bucket=f"{bucket}-2", Key=key)["Body"].read() == b"moved"


def test_copy_onto_itself(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"a": "1"})
    source = {"Bucket": bucket, "Key": "k"}
    fails(lambda: s3.copy_object(Bucket=bucket, Key="k", CopySource=source), "InvalidRequest", 400)
    s3.copy_object(Bucket=bucket, Key="k", CopySource=source, MetadataDirective="REPLACE", Metadata={"a": "2"})
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["Metadata"] == {"a": "2"}
    assert head["ETag"] == md5_etag(b"x")


def test_copy_errors(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x")
    fails(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/missing"), "NoSuchKey", 404)
    fails(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource="no-such-bucket-here/src"), "NoSuchBucket", 404)
    fails(
        lambda: s3.copy_object(Bucket="no-such-bucket-here", Key="d", CopySource=f"{bucket}/src"), "NoSuchBucket", 404
    )
    fails(
        lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=f"{bucket}/src", MetadataDirective="MOVE"),
        "InvalidArgument",
        400,
    )
    fails(lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=bucket), "InvalidArgument", 400)


def test_copy_conditions(s3: Any, bucket: str) -> None:
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"x")["ETag"]
    source = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="d", CopySource=source, CopySourceIfMatch=etag)
    fails(
        lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=source, CopySourceIfMatch='"0"'),
        "PreconditionFailed",
        412,
    )
    fails(
        lambda: s3.copy_object(Bucket=bucket, Key="d", CopySource=source, CopySourceIfNoneMatch=etag),
        "PreconditionFailed",
        412,
    )


# ---- delete many ----------------------------------------------------------------------------------


def test_delete_objects(s3: Any, bucket: str) -> None:
    for key in ("a", "b", "c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}, {"Key": "never"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b", "never"]
    assert "Errors" not in result
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]


def test_delete_objects_quiet(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"x")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}], "Quiet": True})
    assert "Deleted" not in result
    assert "Errors" not in result
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_reports_bad_keys(s3: Any, bucket: str) -> None:
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "ok"}, {"Key": "k" * 1025}], "Quiet": True})
    assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("k" * 1025, "KeyTooLongError")]


def test_delete_objects_special_keys(s3: Any, bucket: str) -> None:
    keys = ["a b", "ü/ö", "x&y<z>", "plus+"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted(keys)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_objects_limit(s3: Any, bucket: str) -> None:
    objects = [{"Key": f"k{i}"} for i in range(1001)]
    fails(lambda: s3.delete_objects(Bucket=bucket, Delete={"Objects": objects}), "MalformedXML", 400)
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[:1000], "Quiet": True})
    assert "Errors" not in result


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<Delete>",
        b"<Delete><Object><Key>a</Key></Object>",
        b"<NotDelete><Object><Key>a</Key></Object></NotDelete>",
        b"<Delete></Delete>",
        b"<Delete><Object></Object></Delete>",
        b"not xml at all",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><Delete><Object><Key>&e;</Key></Object></Delete>',
    ],
)
def test_delete_objects_malformed_xml(http: httpx.Client, server: LiveServer, bucket: str, body: bytes) -> None:
    response = send_signed(http, server, "POST", f"/{bucket}?delete", body=body, headers={"Content-MD5": b64_md5(body)})
    assert (response.status_code, error_code(response)) == (400, "MalformedXML")


# ---- aws-chunked uploads ------------------------------------------------------------------------------


def test_trailing_checksum_as_boto3_sends_it_over_tls(
    server: LiveServer, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over https boto3 streams PUT bodies as aws-chunked with an unsigned trailing x-amz-checksum-crc32;
    # making it believe the URL is https sends exactly that over plain http.
    real = botocore.httpchecksum.urlparse
    monkeypatch.setattr(botocore.httpchecksum, "urlparse", lambda url: real(url)._replace(scheme="https"))
    sent: list[dict[str, str]] = []
    client = server.client("s3")
    client.meta.events.register("before-send.s3.*", lambda request, **kw: sent.append(dict(request.headers)))
    data = b"streamed with a trailer " * 1000
    put = client.put_object(Bucket=bucket, Key="trailer", Body=data)
    assert sent[0]["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert sent[0]["X-Amz-Trailer"] == b"x-amz-checksum-crc32"
    assert put["ETag"] == md5_etag(data)
    assert put["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    got = s3.get_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got["ChecksumCRC32"] == put["ChecksumCRC32"]
    upload_id = client.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = client.upload_part(Bucket=bucket, Key="mp", UploadId=upload_id, PartNumber=1, Body=data)
    assert part["ETag"] == md5_etag(data)


def _chunked_put(
    http: httpx.Client, server: LiveServer, url: str, chunks: list[bytes], *, tamper: bool = False
) -> httpx.Response:
    """PUT chunks as STREAMING-AWS4-HMAC-SHA256-PAYLOAD, each chunk signed as the SigV4 streaming spec says."""
    headers = {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(sum(len(c) for c in chunks)),
    }
    signed = signed_headers(
        "PUT",
        url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        headers=headers,
        payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    )
    stamp = signed["X-Amz-Date"]
    scope = f"{stamp[:8]}/us-east-1/s3/aws4_request"
    key = ("AWS4" + server.secret_key).encode()
    for part in (stamp[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    previous = signed["Authorization"].rsplit("Signature=", 1)[1]
    body = b""
    for data in [*chunks, b""]:
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                stamp,
                scope,
                previous,
                hashlib.sha256(b"").hexdigest(),
                hashlib.sha256(data).hexdigest(),
            ]
        )
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        signature = "0" * 64 if tamper and data else previous
        body += f"{len(data):x};chunk-signature={signature}\r\n".encode() + data + b"\r\n"
    return http.put(url, headers=signed, content=body)


def test_signed_aws_chunked_upload(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    chunks = [b"a" * 8192, b"b" * 100, b"c"]
    response = _chunked_put(http, server, f"{server.endpoint}/{bucket}/chunked", chunks)
    assert response.status_code == 200, response.text
    got = s3.get_object(Bucket=bucket, Key="chunked")
    assert got["Body"].read() == b"".join(chunks)
    assert got.get("ContentEncoding") is None


def test_signed_aws_chunked_upload_with_a_forged_chunk(
    http: httpx.Client, server: LiveServer, s3: Any, bucket: str
) -> None:
    response = _chunked_put(http, server, f"{server.endpoint}/{bucket}/forged", [b"data"], tamper=True)
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")
    fails(lambda: s3.head_object(Bucket=bucket, Key="forged"), "404", 404)


def test_trailing_checksum_mismatch(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    url = f"{server.endpoint}/{bucket}/trailer"
    headers = signed_headers(
        "PUT",
        url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        headers={
            "content-encoding": "aws-chunked",
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-decoded-content-length": "5",
        },
        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    response = http.put(url, headers=headers, content=b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n")
    assert (response.status_code, error_code(response)) == (400, "BadDigest")
    fails(lambda: s3.head_object(Bucket=bucket, Key="trailer"), "404", 404)


def test_connection_survives_a_rejected_put(s3: Any, bucket: str) -> None:
    # boto3 sends Expect: 100-continue and holds the body back when the answer comes first; the server must
    # not then read the next request on that connection as the missing body.
    for _ in range(3):
        fails(lambda: s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x" * 5000), "KeyTooLongError", 400)
        fails(lambda: s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x" * 5000), "NoSuchBucket", 404)
        s3.put_object(Bucket=bucket, Key="ok", Body=b"fine")
        assert s3.get_object(Bucket=bucket, Key="ok")["Body"].read() == b"fine"


@pytest.mark.parametrize("value", ["€uro", "a\r\nx-injected: 1", "nul\x00"])
def test_response_override_must_be_a_header_value(s3: Any, bucket: str, value: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", ResponseContentType=value), "InvalidArgument", 400)
    assert s3.get_object(Bucket=bucket, Key="k", ResponseContentType="text/x; a=\tb")["ContentType"] == "text/x; a=\tb"
