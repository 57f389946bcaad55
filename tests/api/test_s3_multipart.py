"""S3 multipart uploads through real boto3: create, upload, list, complete, abort, and their errors."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import httpx
import pytest

from tests.api.errors import error_code, fails
from tests.api.raw import send_signed
from tests.live_server import LiveServer

MIB = 1024 * 1024
BIG = bytes(range(256)) * (5 * MIB // 256)  # exactly the 5 MiB minimum for every part but the last


def multipart_etag(*parts: bytes) -> str:
    """S3's ETag for an object made of these parts: the MD5 of the parts' MD5s, then '-' and the count."""
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f'"{hashlib.md5(digests).hexdigest()}-{len(parts)}"'


def start(s3: Any, bucket: str, key: str = "big", **extra: Any) -> str:
    """A new upload's id."""
    return str(s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"])


def upload(s3: Any, bucket: str, upload_id: str, number: int, data: bytes, key: str = "big") -> str:
    """Upload one part, return its ETag."""
    return str(s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)["ETag"])


def test_a_conditional_completion_that_fails_leaves_the_upload_to_retry(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="big", Body=b"already here")
    upload_id = start(s3, bucket)
    parts = {"Parts": [{"PartNumber": 1, "ETag": upload(s3, bucket, upload_id, 1, b"only part")}]}
    complete = {"Bucket": bucket, "Key": "big", "UploadId": upload_id, "MultipartUpload": parts}

    fails(lambda: s3.complete_multipart_upload(**complete, IfNoneMatch="*"), "PreconditionFailed", 412)
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == b"already here"
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload_id]

    current = s3.head_object(Bucket=bucket, Key="big")["ETag"]
    assert s3.complete_multipart_upload(**complete, IfMatch=current)["ETag"] == multipart_etag(b"only part")
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == b"only part"


def test_complete_two_parts(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket, ContentType="text/csv", Metadata={"source": "test"})
    tail = b"the last part may be small"
    first = upload(s3, bucket, upload_id, 1, BIG)
    second = upload(s3, bucket, upload_id, 2, tail)
    assert (first, second) == (f'"{hashlib.md5(BIG).hexdigest()}"', f'"{hashlib.md5(tail).hexdigest()}"')
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]},
    )
    assert done["ETag"] == multipart_etag(BIG, tail)
    assert (done["Bucket"], done["Key"]) == (bucket, "big")
    assert done["Location"].endswith(f"/{bucket}/big")
    head = s3.head_object(Bucket=bucket, Key="big")
    assert (head["ETag"], head["ContentLength"]) == (multipart_etag(BIG, tail), len(BIG) + len(tail))
    assert (head["ContentType"], head["Metadata"]) == ("text/csv", {"source": "test"})
    assert s3.get_object(Bucket=bucket, Key="big", Range=f"bytes={len(BIG) - 2}-")["Body"].read() == BIG[-2:] + tail
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    fails(lambda: s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id), "NoSuchUpload", 404)
    fails(lambda: upload(s3, bucket, upload_id, 3, b"late"), "NoSuchUpload", 404)
    fails(
        lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key="big", UploadId=upload_id, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}]}
        ),
        "NoSuchUpload",
        404,
    )


def test_single_small_part_and_chosen_subset(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    upload(s3, bucket, upload_id, 1, b"skipped")
    kept = upload(s3, bucket, upload_id, 7, b"only this")
    s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload_id, MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": kept}]}
    )
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == b"only this"
    assert got["ETag"] == multipart_etag(b"only this")


def test_reuploading_a_part_replaces_it(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    upload(s3, bucket, upload_id, 1, b"old")
    new = upload(s3, bucket, upload_id, 1, b"new!")
    parts = s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in parts] == [(1, new, 4)]


def test_list_parts_pages(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    etags = {n: upload(s3, bucket, upload_id, n, f"part {n}".encode()) for n in (1, 2, 3, 5, 8)}
    page = s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert (page["IsTruncated"], page["NextPartNumberMarker"], page["MaxParts"]) == (True, 2, 2)
    page = s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [3, 5]
    assert page["PartNumberMarker"] == 2
    paginator = s3.get_paginator("list_parts")
    pages = list(paginator.paginate(Bucket=bucket, Key="big", UploadId=upload_id, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    listed = [(p["PartNumber"], p["ETag"], p["Size"]) for page in pages for p in page["Parts"]]
    assert listed == [(n, etags[n], len(f"part {n}")) for n in (1, 2, 3, 5, 8)]
    assert pages[-1]["IsTruncated"] is False


def test_abort(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    upload(s3, bucket, upload_id, 1, b"x")
    assert (
        s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload_id)["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )
    fails(lambda: s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId=upload_id), "NoSuchUpload", 404)
    fails(lambda: s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id), "NoSuchUpload", 404)
    fails(lambda: upload(s3, bucket, upload_id, 2, b"x"), "NoSuchUpload", 404)
    fails(lambda: s3.head_object(Bucket=bucket, Key="big"), "404", 404)


def test_unknown_upload_id(s3: Any, bucket: str) -> None:
    fails(lambda: upload(s3, bucket, "not-an-upload", 1, b"x"), "NoSuchUpload", 404)
    fails(lambda: s3.list_parts(Bucket=bucket, Key="big", UploadId="not-an-upload"), "NoSuchUpload", 404)
    fails(lambda: s3.abort_multipart_upload(Bucket=bucket, Key="big", UploadId="not-an-upload"), "NoSuchUpload", 404)
    fails(
        lambda: s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big",
            UploadId="not-an-upload",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0"'}]},
        ),
        "NoSuchUpload",
        404,
    )


def test_upload_id_belongs_to_its_key(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket, key="one")
    fails(lambda: upload(s3, bucket, upload_id, 1, b"x", key="other"), "NoSuchUpload", 404)


def test_invalid_part(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    etag = upload(s3, bucket, upload_id, 1, b"x")
    for parts in (
        [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}],
        [{"PartNumber": 2, "ETag": etag}],
    ):
        fails(
            lambda parts=parts: s3.complete_multipart_upload(
                Bucket=bucket, Key="big", UploadId=upload_id, MultipartUpload={"Parts": parts}
            ),
            "InvalidPart",
            400,
        )
    # A failed completion leaves the upload as it was.
    assert len(s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id)["Parts"]) == 1


def test_invalid_part_order(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    one = upload(s3, bucket, upload_id, 1, BIG)
    two = upload(s3, bucket, upload_id, 2, b"x")
    for parts in (
        [{"PartNumber": 2, "ETag": two}, {"PartNumber": 1, "ETag": one}],
        [{"PartNumber": 1, "ETag": one}, {"PartNumber": 1, "ETag": one}],
    ):
        fails(
            lambda parts=parts: s3.complete_multipart_upload(
                Bucket=bucket, Key="big", UploadId=upload_id, MultipartUpload={"Parts": parts}
            ),
            "InvalidPartOrder",
            400,
        )


def test_entity_too_small(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    one = upload(s3, bucket, upload_id, 1, BIG[:-1])
    two = upload(s3, bucket, upload_id, 2, b"x")
    fails(
        lambda: s3.complete_multipart_upload(
            Bucket=bucket,
            Key="big",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": one}, {"PartNumber": 2, "ETag": two}]},
        ),
        "EntityTooSmall",
        400,
    )


@pytest.mark.parametrize("number", [0, 10001, -1])
def test_part_number_out_of_range(s3: Any, bucket: str, number: int) -> None:
    upload_id = start(s3, bucket)
    fails(lambda: upload(s3, bucket, upload_id, number, b"x"), "InvalidArgument", 400)


def test_part_content_md5_checked(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    fails(
        lambda: s3.upload_part(
            Bucket=bucket, Key="big", UploadId=upload_id, PartNumber=1, Body=b"x", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg=="
        ),
        "BadDigest",
        400,
    )
    assert s3.list_parts(Bucket=bucket, Key="big", UploadId=upload_id).get("Parts", []) == []


def test_complete_with_no_parts(s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    fails(
        lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key="big", UploadId=upload_id, MultipartUpload={"Parts": []}
        ),
        "MalformedXML",
        400,
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<CompleteMultipartUpload><Part>",
        b"<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>",
        b"<Wrong/>",
        b"\xff\xfe garbage",
    ],
)
def test_complete_with_malformed_xml(http: httpx.Client, server: LiveServer, s3: Any, bucket: str, body: bytes) -> None:
    upload_id = start(s3, bucket)
    response = send_signed(http, server, "POST", f"/{bucket}/big?uploadId={upload_id}", body=body)
    assert (response.status_code, error_code(response)) == (400, "MalformedXML")


def test_complete_with_bad_part_number(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    upload_id = start(s3, bucket)
    body = b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>"
    response = send_signed(http, server, "POST", f"/{bucket}/big?uploadId={upload_id}", body=body)
    assert (response.status_code, error_code(response)) == (400, "MalformedXML")


@pytest.mark.parametrize(
    "query",
    ["max-parts=-1", "max-parts=2147483648", "part-number-marker=-1", "part-number-marker=99999999999999999999"],
)
def test_list_parts_bad_arguments(http: httpx.Client, server: LiveServer, s3: Any, bucket: str, query: str) -> None:
    upload_id = start(s3, bucket)
    response = send_signed(http, server, "GET", f"/{bucket}/big?uploadId={upload_id}&{query}")
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")


def test_upload_part_copy_copies_whole_objects_and_ranges(s3: Any, bucket: str) -> None:
    first = os.urandom(5 * 1024 * 1024)
    tail = os.urandom(1000)
    s3.put_object(Bucket=bucket, Key="src-a", Body=first)
    s3.put_object(Bucket=bucket, Key="src-b", Body=b"xx" + tail + b"yy")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="joined")["UploadId"]
    one = s3.upload_part_copy(
        Bucket=bucket, Key="joined", UploadId=upload, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src-a"}
    )["CopyPartResult"]["ETag"]
    two = s3.upload_part_copy(
        Bucket=bucket,
        Key="joined",
        UploadId=upload,
        PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "src-b"},
        CopySourceRange=f"bytes=2-{len(tail) + 1}",
    )["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="joined",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": one}, {"PartNumber": 2, "ETag": two}]},
    )
    assert s3.get_object(Bucket=bucket, Key="joined")["Body"].read() == first + tail


def test_upload_part_copy_reads_the_version_its_copy_source_names(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    older = s3.put_object(Bucket=bucket, Key="src", Body=b"the older version")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"the newer version")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="joined")["UploadId"]
    copied = s3.upload_part_copy(
        Bucket=bucket,
        Key="joined",
        UploadId=upload,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "src", "VersionId": older},
    )
    assert copied["CopySourceVersionId"] == older
    etag = copied["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(
        Bucket=bucket, Key="joined", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert s3.get_object(Bucket=bucket, Key="joined")["Body"].read() == b"the older version"


def test_upload_part_copy_refuses_ranges_outside_the_source(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="small", Body=b"0123456789")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    source = {"Bucket": bucket, "Key": "small"}
    for outside in ("bytes=5-20", "bytes=10-10", "bytes=0-10"):
        fails(
            lambda outside=outside: s3.upload_part_copy(
                Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, CopySource=source, CopySourceRange=outside
            ),
            "InvalidRange",
            416,
        )
    # A range that is not of the form bytes=first-last is InvalidArgument, as S3 answers (ceph s3-tests agree).
    for malformed in (
        "0-2",
        "bytes=0",
        "bytes=hello-world",
        "bytes=0-bar",
        "bytes=hello-",
        "bytes=0-2,3-5",
        "bytes=5-2",
    ):
        fails(
            lambda malformed=malformed: s3.upload_part_copy(
                Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, CopySource=source, CopySourceRange=malformed
            ),
            "InvalidArgument",
            400,
        )
