"""S3's remaining operations and behaviours through real boto3 and raw HTTP: GetObjectAttributes, CRC32C and
CRC64NVME, multipart checksums, repeated completions, parts by number, listing encodings, ListBuckets paging,
304 headers, aws-chunked beside plain bodies, non-ASCII metadata, short bodies and presigned URL lifetimes."""

from __future__ import annotations

import base64
import gzip
import hashlib
import socket
import xml.etree.ElementTree as ET
import zlib
from typing import Any

import httpx
import pytest
from awscrt import checksums as crt
from botocore.exceptions import ParamValidationError

from tests.api.errors import error_code, fails
from tests.api.raw import read_until_closed, send_signed, signed_headers
from tests.live_server import LiveServer

MIB = 1024 * 1024
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
PART = b"A" * (5 * MIB)  # the smallest part but the last


def b64(value: int, width: int) -> str:
    """A CRC as S3 writes it: big-endian bytes in base64."""
    return base64.b64encode(value.to_bytes(width, "big")).decode()


def crc32(data: bytes) -> str:
    return b64(zlib.crc32(data), 4)


def crc32c(data: bytes) -> str:
    return b64(crt.crc32c(data), 4)


def crc64nvme(data: bytes) -> str:
    return b64(crt.crc64nvme(data), 8)


def sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def composite(*part_checksums: str, digest: str = "sha256") -> str:
    """S3's COMPOSITE checksum: the checksum of the parts' checksums, then -<number of parts>."""
    joined = b"".join(base64.b64decode(c) for c in part_checksums)
    value = base64.b64encode(hashlib.new(digest, joined).digest()).decode()
    return f"{value}-{len(part_checksums)}"


def md5_etag(*parts: bytes) -> str:
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    return f"{hashlib.md5(digests).hexdigest()}-{len(parts)}"


def multipart(
    s3: Any, bucket: str, key: str, parts: list[bytes], *, checksum: str | None = None, **create: Any
) -> tuple[str, list[dict[str, Any]]]:
    """An upload of these parts (each sent with its `checksum` algorithm's value), not completed: its id and the
    parts as CompleteMultipartUpload names them."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    named = []
    for number, data in enumerate(parts, start=1):
        extra = {f"Checksum{checksum}": CHECKSUMS[checksum](data)} if checksum else {}
        sent = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data, **extra)
        named.append({"PartNumber": number, "ETag": sent["ETag"], **extra})
        if checksum:
            assert sent[f"Checksum{checksum}"] == extra[f"Checksum{checksum}"]
    return upload_id, named


CHECKSUMS = {"CRC32": crc32, "CRC32C": crc32c, "CRC64NVME": crc64nvme, "SHA256": sha256}


# ---- checksums: CRC32C and CRC64NVME on PUT ---------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["CRC32C", "CRC64NVME"])
def test_crc32c_and_crc64nvme_are_checked_and_stored(s3: Any, bucket: str, algorithm: str) -> None:
    data = b"A" * 1024
    value = CHECKSUMS[algorithm](data)
    if algorithm == "CRC64NVME":
        assert value == "Qeh8oXvGiSo="  # ceph s3-tests' value for 1,024 bytes of "A"
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, **{f"Checksum{algorithm}": value})
    assert put[f"Checksum{algorithm}"] == value
    assert f"Checksum{algorithm}" not in s3.head_object(Bucket=bucket, Key="k")
    head = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert (head[f"Checksum{algorithm}"], head["ChecksumType"]) == (value, "FULL_OBJECT")
    wrong = CHECKSUMS[algorithm](b"other bytes")
    fails(lambda: s3.put_object(Bucket=bucket, Key="k", Body=data, **{f"Checksum{algorithm}": wrong}), "BadDigest", 400)


# ---- multipart checksums ------------------------------------------------------------------------------------


def test_composite_sha256_checksum_as_ceph_s3_tests_compute_it(s3: Any, bucket: str) -> None:
    bodies = [b"A" * (5 * MIB), b"B" * (5 * MIB), b"C" * (5 * MIB)]
    upload_id, parts = multipart(s3, bucket, "mp", bodies, checksum="SHA256", ChecksumAlgorithm="SHA256")
    assert [p["ChecksumSHA256"] for p in parts] == [
        "275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=",
        "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=",
        "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow=",
    ]
    expected = "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3"
    assert composite(*(p["ChecksumSHA256"] for p in parts)) == expected
    listed = s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)
    assert (listed["ChecksumAlgorithm"], listed["ChecksumType"]) == ("SHA256", "COMPOSITE")
    assert [p["ChecksumSHA256"] for p in listed["Parts"]] == [p["ChecksumSHA256"] for p in parts]

    complete = {"Bucket": bucket, "Key": "mp", "UploadId": upload_id, "MultipartUpload": {"Parts": parts}}
    fails(lambda: s3.complete_multipart_upload(**complete, ChecksumSHA256=sha256(b"wrong") + "-3"), "BadDigest", 400)
    done = s3.complete_multipart_upload(**complete, ChecksumSHA256=expected)
    assert (done["ChecksumSHA256"], done["ChecksumType"]) == (expected, "COMPOSITE")
    assert done["ETag"].strip('"') == "b2add96cc9702bbf4efb0ccdfc6b7747-3"
    assert "ChecksumSHA256" not in s3.head_object(Bucket=bucket, Key="mp")
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert (head["ChecksumSHA256"], head["ChecksumType"]) == (expected, "COMPOSITE")
    got = s3.get_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == expected
    assert got["Body"].read() == b"".join(bodies)


@pytest.mark.parametrize(
    ("algorithm", "checksum_type"), [("CRC64NVME", "FULL_OBJECT"), ("CRC32", "FULL_OBJECT"), ("CRC32C", "COMPOSITE")]
)
def test_crc_multipart_checksums_full_object_and_composite(
    s3: Any, bucket: str, algorithm: str, checksum_type: str
) -> None:
    bodies = [b"A" * (5 * MIB), b"B" * (5 * MIB), b"C" * 1000]
    create = {"ChecksumAlgorithm": algorithm, "ChecksumType": checksum_type}
    made = s3.create_multipart_upload(Bucket=bucket, Key="probe", **create)
    assert (made["ChecksumAlgorithm"], made["ChecksumType"]) == (algorithm, checksum_type)
    upload_id, parts = multipart(s3, bucket, "mp", bodies, checksum=algorithm, **create)
    if checksum_type == "FULL_OBJECT":
        expected = CHECKSUMS[algorithm](b"".join(bodies))  # the CRC of the whole object, combined from the parts'
    else:
        joined = b"".join(base64.b64decode(p[f"Checksum{algorithm}"]) for p in parts)
        expected = f"{crc32c(joined)}-3"
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload_id,
        MultipartUpload={"Parts": parts},
        **{f"Checksum{algorithm}": expected},
    )
    assert (done[f"Checksum{algorithm}"], done["ChecksumType"]) == (expected, checksum_type)
    head = s3.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert (head[f"Checksum{algorithm}"], head["ChecksumType"]) == (expected, checksum_type)
    # A part read by number carries that part's checksum, as S3 sends it (ceph s3-tests check it).
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert (second[f"Checksum{algorithm}"], second["ChecksumType"]) == (parts[1][f"Checksum{algorithm}"], checksum_type)
    attributes = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["Checksum", "ObjectParts"])
    assert attributes["Checksum"] == {f"Checksum{algorithm}": expected, "ChecksumType": checksum_type}
    assert [p[f"Checksum{algorithm}"] for p in attributes["ObjectParts"]["Parts"]] == [
        p[f"Checksum{algorithm}"] for p in parts
    ]


def test_multipart_checksum_errors(server: LiveServer, s3: Any, bucket: str) -> None:
    loose = server.client("s3", parameter_validation=False)
    create = s3.create_multipart_upload
    fails(
        lambda: create(Bucket=bucket, Key="k", ChecksumAlgorithm="CRC64NVME", ChecksumType="COMPOSITE"),
        "InvalidRequest",
        400,
    )
    fails(
        lambda: create(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA1", ChecksumType="FULL_OBJECT"),
        "InvalidRequest",
        400,
    )
    fails(lambda: create(Bucket=bucket, Key="k", ChecksumType="COMPOSITE"), "InvalidRequest", 400)
    fails(
        lambda: loose.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="ADLER32"),
        "InvalidRequest",
        400,
    )

    upload_id = create(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")["UploadId"]
    # A part carrying another algorithm's checksum than the upload's is refused, as S3 does.
    fails(
        lambda: s3.upload_part(
            Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"part", ChecksumCRC32=crc32(b"part")
        ),
        "InvalidRequest",
        400,
    )
    # A part sent without a checksum gets the upload's algorithm's all the same.
    sent = s3.upload_part(
        Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=1, Body=b"part", ChecksumSHA256=sha256(b"part")
    )
    one = {"PartNumber": 1, "ETag": sent["ETag"]}
    complete = {"Bucket": bucket, "Key": "k", "UploadId": upload_id}
    wrong_part = {**one, "ChecksumSHA256": sha256(b"not the part")}
    fails(lambda: s3.complete_multipart_upload(**complete, MultipartUpload={"Parts": [wrong_part]}), "InvalidPart", 400)
    fails(
        lambda: s3.complete_multipart_upload(
            **complete, MultipartUpload={"Parts": [one]}, ChecksumCRC32=crc32(b"part")
        ),
        "InvalidRequest",
        400,
    )
    fails(
        lambda: s3.complete_multipart_upload(**complete, MultipartUpload={"Parts": [one]}, MpuObjectSize=5),
        "InvalidRequest",
        400,
    )
    # Parts named without their checksums are taken (ceph s3-tests complete so), and the object has its own.
    done = s3.complete_multipart_upload(**complete, MultipartUpload={"Parts": [one]}, MpuObjectSize=4)
    assert done["ChecksumSHA256"] == composite(sha256(b"part"))


# ---- CompleteMultipartUpload: again, and with a part twice -------------------------------------------------


def test_completing_a_finished_upload_again_answers_the_same(s3: Any, bucket: str) -> None:
    upload_id, parts = multipart(s3, bucket, "mp", [PART, b"tail"], checksum="SHA256", ChecksumAlgorithm="SHA256")
    complete = {"Bucket": bucket, "Key": "mp", "UploadId": upload_id, "MultipartUpload": {"Parts": parts}}
    first = s3.complete_multipart_upload(**complete)
    again = s3.complete_multipart_upload(**complete)
    assert (again["ETag"], again["ChecksumSHA256"]) == (first["ETag"], first["ChecksumSHA256"])
    assert first["ETag"].strip('"') == md5_etag(PART, b"tail")
    assert s3.get_object(Bucket=bucket, Key="mp")["Body"].read() == PART + b"tail"
    # Other parts than the ones that made the object, or the same parts for another key, are unknown uploads.
    fails(
        lambda: s3.complete_multipart_upload(**{**complete, "MultipartUpload": {"Parts": parts[:1]}}),
        "NoSuchUpload",
        404,
    )
    fails(lambda: s3.complete_multipart_upload(**{**complete, "Key": "other"}), "NoSuchUpload", 404)
    # An upload id never handed out is unknown, even with the very parts that made the object.
    fails(lambda: s3.complete_multipart_upload(**{**complete, "UploadId": "x" * 32}), "NoSuchUpload", 404)
    # Once the key holds another object, the old upload is gone for good.
    s3.put_object(Bucket=bucket, Key="mp", Body=b"replaced")
    fails(lambda: s3.complete_multipart_upload(**complete), "NoSuchUpload", 404)


def test_a_part_listed_twice_is_invalid_part_order(s3: Any, bucket: str) -> None:
    upload_id, parts = multipart(s3, bucket, "mp", [PART, b"tail"])
    twice = [parts[0], parts[0], parts[1]]
    fails(
        lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": twice}
        ),
        "InvalidPartOrder",
        400,
    )
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=upload_id)["Parts"]  # the upload is still there


# ---- GetObjectAttributes ------------------------------------------------------------------------------------

ALL_ATTRIBUTES = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def test_attributes_of_an_object_written_whole(s3: Any, bucket: str) -> None:
    data = b"A" * 1024
    put = s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumSHA256=sha256(data))
    got = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL_ATTRIBUTES)
    assert got["ETag"] == put["ETag"].strip('"')  # without quotes, as S3 writes it here
    assert got["Checksum"] == {
        "ChecksumSHA256": "arcu6553sHVAiX4MjW0j7I7vD4w6R+Gz9Ok0Q9lTa+0=",
        "ChecksumType": "FULL_OBJECT",
    }
    assert (got["StorageClass"], got["ObjectSize"]) == ("STANDARD", 1024)
    assert "ObjectParts" not in got
    assert got["LastModified"] == s3.head_object(Bucket=bucket, Key="k")["LastModified"]
    only_size = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert "ETag" not in only_size and "Checksum" not in only_size and only_size["ObjectSize"] == 1024


def test_attributes_page_a_multipart_objects_parts(s3: Any, bucket: str) -> None:
    upload_id, parts = multipart(s3, bucket, "mp", [PART, PART, b"tail"])
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
    whole = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL_ATTRIBUTES)
    assert whole["ETag"] == done["ETag"].strip('"')
    assert whole["ObjectSize"] == 2 * len(PART) + 4
    objects = whole["ObjectParts"]
    assert (objects["TotalPartsCount"], objects["IsTruncated"], objects["MaxParts"]) == (3, False, 1000)
    assert [(p["PartNumber"], p["Size"]) for p in objects["Parts"]] == [(1, len(PART)), (2, len(PART)), (3, 4)]
    page = s3.get_object_attributes(
        Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1, PartNumberMarker=1
    )["ObjectParts"]
    assert (page["PartNumberMarker"], page["NextPartNumberMarker"], page["IsTruncated"]) == (1, 2, True)
    assert [p["PartNumber"] for p in page["Parts"]] == [2]
    last = s3.get_object_attributes(
        Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=10, PartNumberMarker=2
    )["ObjectParts"]
    assert ([p["PartNumber"] for p in last["Parts"]], last["IsTruncated"]) == ([3], False)


def test_attributes_errors(server: LiveServer, s3: Any, bucket: str) -> None:
    loose = server.client("s3", parameter_validation=False)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    fails(
        lambda: loose.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Colour"]), "InvalidArgument", 400
    )
    fails(lambda: loose.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=[" "]), "InvalidArgument", 400)
    fails(lambda: s3.get_object_attributes(Bucket=bucket, Key="none", ObjectAttributes=["ETag"]), "NoSuchKey", 404)
    fails(
        lambda: loose.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ETag"], MaxParts=-1),
        "InvalidArgument",
        400,
    )


# ---- GetObject and HeadObject by part number --------------------------------------------------------------


def test_get_and_head_by_part_number(s3: Any, bucket: str) -> None:
    upload_id, parts = multipart(s3, bucket, "mp", [PART, b"B" * 100, b"tail"][:2])
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=upload_id, MultipartUpload={"Parts": parts})
    second = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert second["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert (second["PartsCount"], second["ETag"], second["ContentLength"]) == (2, done["ETag"], 100)
    assert second["ContentRange"] == f"bytes {len(PART)}-{len(PART) + 99}/{len(PART) + 100}"
    assert second["Body"].read() == b"B" * 100
    head = s3.head_object(Bucket=bucket, Key="mp", PartNumber=1)
    assert (head["PartsCount"], head["ContentLength"]) == (2, len(PART))
    fails(lambda: s3.get_object(Bucket=bucket, Key="mp", PartNumber=3), "InvalidPartNumber", 416)
    fails(lambda: s3.get_object(Bucket=bucket, Key="mp", PartNumber=1, Range="bytes=0-1"), "InvalidRequest", 400)


def test_part_number_one_of_an_object_written_whole_is_the_object(server: LiveServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"body")
    got = s3.get_object(Bucket=bucket, Key="k", PartNumber=1)
    assert (got["Body"].read(), got["ContentRange"], "PartsCount" in got) == (b"body", "bytes 0-3/4", False)
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", PartNumber=2), "InvalidPartNumber", 416)
    loose = server.client("s3", parameter_validation=False)
    fails(lambda: loose.get_object(Bucket=bucket, Key="k", PartNumber=0), "InvalidArgument", 400)
    fails(lambda: loose.get_object(Bucket=bucket, Key="k", PartNumber=10001), "InvalidArgument", 400)


# ---- 304 Not Modified -------------------------------------------------------------------------------------


def test_not_modified_carries_the_etag_and_last_modified(
    s3: Any, bucket: str, http: httpx.Client, server: LiveServer
) -> None:
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"bar")
    head = s3.head_object(Bucket=bucket, Key="k")
    for condition in ({"IfNoneMatch": put["ETag"]}, {"IfModifiedSince": head["LastModified"]}):
        error = fails(lambda condition=condition: s3.get_object(Bucket=bucket, Key="k", **condition), "304", 304)
        sent = error.response["ResponseMetadata"]["HTTPHeaders"]
        assert sent["etag"] == put["ETag"]
        assert sent["last-modified"] == head["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    raw = send_signed(http, server, "GET", f"/{bucket}/k", headers={"If-None-Match": put["ETag"]})
    assert (raw.status_code, raw.headers["etag"], raw.content) == (304, put["ETag"], b"")


# ---- listings: empty delimiter, encoding-type -------------------------------------------------------------


def _raw_list(http: httpx.Client, server: LiveServer, bucket: str, query: str) -> ET.Element:
    response = send_signed(http, server, "GET", f"/{bucket}?{query}")
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content)


@pytest.mark.parametrize("list_type", ["", "list-type=2&"])
def test_an_empty_delimiter_is_not_echoed(
    http: httpx.Client, server: LiveServer, s3: Any, bucket: str, list_type: str
) -> None:
    for key in ("bar", "baz/x", "foo"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    root = _raw_list(http, server, bucket, f"{list_type}delimiter=")
    assert root.find(f"{NS}Delimiter") is None
    assert [c.findtext(f"{NS}Key") for c in root.iter(f"{NS}Contents")] == ["bar", "baz/x", "foo"]
    listed = (
        s3.list_objects(Bucket=bucket, Delimiter="")
        if not list_type
        else s3.list_objects_v2(Bucket=bucket, Delimiter="")
    )
    assert "Delimiter" not in listed and "CommonPrefixes" not in listed


@pytest.fixture
def spaced(s3: Any, bucket: str) -> str:
    """A bucket holding the keys ceph s3-tests list with encoding-type: spaces and plus signs, under prefixes."""
    for key in ("foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    return bucket


@pytest.mark.parametrize("list_type", ["", "list-type=2&"])
def test_encoding_type_url_writes_a_space_as_percent_20(
    http: httpx.Client, server: LiveServer, spaced: str, list_type: str
) -> None:
    root = _raw_list(http, server, spaced, f"{list_type}encoding-type=url&delimiter=%2F")
    assert [c.findtext(f"{NS}Key") for c in root.iter(f"{NS}Contents")] == ["asdf%2Bb"]
    prefixes = [p.findtext(f"{NS}Prefix") for p in root.iter(f"{NS}CommonPrefixes")]
    assert prefixes == ["foo%2B1/", "foo/", "quux%20ab/"]
    marker = "start-after" if list_type else "marker"
    root = _raw_list(http, server, spaced, f"{list_type}encoding-type=url&prefix=quux%20&{marker}=quux%20a")
    assert root.findtext(f"{NS}Prefix") == "quux%20"
    assert root.findtext(f"{NS}{'StartAfter' if list_type else 'Marker'}") == "quux%20a"
    assert [c.findtext(f"{NS}Key") for c in root.iter(f"{NS}Contents")] == ["quux%20ab/thud"]
    # Without encoding-type keys and prefixes are written as they are.
    root = _raw_list(http, server, spaced, f"{list_type}delimiter=%2F")
    assert [p.findtext(f"{NS}Prefix") for p in root.iter(f"{NS}CommonPrefixes")] == ["foo+1/", "foo/", "quux ab/"]


def test_boto3_reads_encoded_listings_back(s3: Any, spaced: str) -> None:
    # boto3 asks for encoding-type=url by itself and decodes the answer; asked for explicitly, it leaves it encoded.
    v2 = s3.list_objects_v2(Bucket=spaced, Delimiter="/")
    assert ([c["Key"] for c in v2["Contents"]], [p["Prefix"] for p in v2["CommonPrefixes"]]) == (
        ["asdf+b"],
        ["foo+1/", "foo/", "quux ab/"],
    )
    v1 = s3.list_objects(Bucket=spaced, Delimiter="/", MaxKeys=1)
    assert (v1["IsTruncated"], v1["NextMarker"]) == (True, "asdf+b")
    explicit = s3.list_objects_v2(Bucket=spaced, Delimiter="/", EncodingType="url")
    assert [p["Prefix"] for p in explicit["CommonPrefixes"]] == ["foo%2B1/", "foo/", "quux%20ab/"]


# ---- ListBuckets paging -----------------------------------------------------------------------------------


def test_list_buckets_pages_by_max_buckets_and_continuation_token(server: LiveServer, s3: Any) -> None:
    names = [f"paged-buckets-{n}" for n in range(3)]
    for name in names:
        s3.create_bucket(Bucket=name)
    try:
        first = s3.list_buckets(Prefix="paged-buckets-", MaxBuckets=2)
        assert ([b["Name"] for b in first["Buckets"]], first["Prefix"]) == (names[:2], "paged-buckets-")
        rest = s3.list_buckets(Prefix="paged-buckets-", MaxBuckets=2, ContinuationToken=first["ContinuationToken"])
        assert [b["Name"] for b in rest["Buckets"]] == names[2:]
        assert "ContinuationToken" not in rest
        paged = s3.get_paginator("list_buckets").paginate(Prefix="paged-buckets-", PaginationConfig={"PageSize": 1})
        assert [b["Name"] for page in paged for b in page["Buckets"]] == names
        assert [
            b["Name"] for b in s3.list_buckets(Prefix="paged-buckets-", BucketRegion="us-east-1")["Buckets"]
        ] == names
        assert s3.list_buckets(Prefix="paged-buckets-", BucketRegion="eu-west-1")["Buckets"] == []
        loose = server.client("s3", parameter_validation=False)
        for bad in (0, 10001):
            fails(lambda bad=bad: loose.list_buckets(MaxBuckets=bad), "InvalidArgument", 400)
        fails(lambda: s3.list_buckets(ContinuationToken="%%%"), "InvalidArgument", 400)
    finally:
        for name in names:
            s3.delete_bucket(Bucket=name)


# ---- bodies: aws-chunked beside plain, short bodies -------------------------------------------------------


def test_aws_chunked_content_encoding_is_not_stored(s3: Any, bucket: str) -> None:
    # ceph s3-tests' cases: aws-chunked is how the body travels, never how it is stored.
    for sent, stored in [
        ("gzip", "gzip"),
        ("deflate, gzip", "deflate, gzip"),
        ("gzip, aws-chunked", "gzip"),
        ("aws-chunked, gzip", "gzip"),
        ("aws-chunked", None),
        ("aws-chunked, aws-chunked", None),
    ]:
        s3.put_object(Bucket=bucket, Key="k", Body=b"", ContentEncoding=sent)
        assert s3.head_object(Bucket=bucket, Key="k").get("ContentEncoding") == stored, sent


def test_gzip_object_sent_aws_chunked_and_plain(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    data = gzip.compress(b"compressed text " * 500)
    url = f"{server.endpoint}/{bucket}/chunked.gz"
    framed = (
        f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\nx-amz-checksum-crc32:" + crc32(data).encode() + b"\r\n\r\n"
    )
    headers = {
        "content-encoding": "aws-chunked,gzip",
        "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    signed = signed_headers(
        "PUT",
        url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        headers=headers,
        payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    assert http.put(url, headers=signed, content=framed).status_code == 200
    # The same bytes as a plain body, unsigned (UNSIGNED-PAYLOAD) and not chunked.
    plain_url = f"{server.endpoint}/{bucket}/plain.gz"
    plain = signed_headers(
        "PUT",
        plain_url,
        access_key=server.access_key,
        secret_key=server.secret_key,
        headers={"content-encoding": "gzip"},
        payload_hash="UNSIGNED-PAYLOAD",
    )
    assert http.put(plain_url, headers=plain, content=data).status_code == 200
    for key in ("chunked.gz", "plain.gz"):
        got = s3.get_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
        assert (got["ContentEncoding"], got["ContentLength"], got["Body"].read()) == ("gzip", len(data), data)
    assert s3.head_object(Bucket=bucket, Key="chunked.gz", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc32(data)


def _raw_put(server: LiveServer, bucket: str, key: str, declared: int, body: bytes, *, half_close: bool) -> bytes:
    url = f"{server.endpoint}/{bucket}/{key}"
    signed = signed_headers(
        "PUT", url, access_key=server.access_key, secret_key=server.secret_key, payload_hash="UNSIGNED-PAYLOAD"
    )
    head = f"PUT /{bucket}/{key} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Length: {declared}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in signed.items() if name.lower() != "host")
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_until_closed(sock)


def test_a_body_shorter_than_its_content_length_gets_incomplete_body(server: LiveServer, s3: Any, bucket: str) -> None:
    answer = _raw_put(server, bucket, "short", 100, b"only ten b", half_close=True)
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"<Code>IncompleteBody</Code>" in answer and b"application/xml" in answer
    fails(lambda: s3.head_object(Bucket=bucket, Key="short"), "404", 404)  # nothing was stored


def test_bytes_past_the_content_length_get_an_xml_error(server: LiveServer, bucket: str) -> None:
    # The PUT takes its 5 bytes; what follows is no request, and the HTTP parser's 400 is S3's XML, not plain text.
    answer = _raw_put(server, bucket, "long", 5, b"hello, and these bytes are not a request\r\n\r\n", half_close=False)
    assert b"HTTP/1.1 400 " in answer, answer[:300]
    assert b"<Code>InvalidRequest</Code>" in answer and b"text/plain" not in answer


# ---- non-ASCII user metadata ------------------------------------------------------------------------------


def test_boto3_refuses_non_ascii_metadata_itself(s3: Any, bucket: str) -> None:
    with pytest.raises(ParamValidationError, match="Non ascii characters found in S3 metadata"):
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", Metadata={"name": "café"})


@pytest.mark.parametrize("wire", ["utf-8", "latin-1"])
def test_non_ascii_metadata_signs_and_comes_back_rfc_2047_encoded(
    http: httpx.Client, server: LiveServer, s3: Any, bucket: str, wire: str
) -> None:
    # SDKs that allow it (Java, Go) send the value's UTF-8 bytes and sign those; others send Latin-1. Both verify,
    # and S3 answers a value that is not ASCII RFC 2047-encoded, "mail-safe".
    url = f"{server.endpoint}/{bucket}/k"
    headers = {"x-amz-meta-name": "naïve café", "x-amz-meta-plain": "ascii"}
    signed = signed_headers("PUT", url, access_key=server.access_key, secret_key=server.secret_key, headers=headers)
    put = http.put(url, headers={k: v.encode(wire) for k, v in signed.items()}, content=b"")
    assert put.status_code == 200, put.text
    meta = s3.head_object(Bucket=bucket, Key="k")["Metadata"]
    assert meta == {"name": "=?UTF-8?B?" + base64.b64encode("naïve café".encode()).decode() + "?=", "plain": "ascii"}
    # An RFC 2047-encoded value sent through boto3 comes back as it went.
    s3.put_object(Bucket=bucket, Key="j", Body=b"x", Metadata={"name": meta["name"]})
    assert s3.head_object(Bucket=bucket, Key="j")["Metadata"]["name"] == meta["name"]


# ---- presigned URLs: X-Amz-Expires ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("0", "at least 1 second"),
        ("-7", "must be non-negative"),
        ("609901", "less than a week"),
        ("soon", "should be a number"),
    ],
)
def test_out_of_range_expires_is_authorization_query_parameters_error(
    http: httpx.Client, server: LiveServer, s3: Any, bucket: str, expires: str, message: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    v4 = server.client("s3", signature_version="s3v4")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    assert "X-Amz-Expires=60" in url
    answer = http.get(url.replace("X-Amz-Expires=60", f"X-Amz-Expires={expires}"))
    assert (answer.status_code, error_code(answer)) == (403, "AuthorizationQueryParametersError")
    assert message in answer.text
    assert http.get(url).status_code == 200


def test_boto3_presigned_url_past_a_week_is_refused(http: httpx.Client, server: LiveServer, bucket: str) -> None:
    client = server.client("s3", signature_version="s3v4")
    client.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=609901)
    answer = http.get(url)
    assert (answer.status_code, error_code(answer)) == (403, "AuthorizationQueryParametersError")


def test_attributes_without_naming_any_are_refused(server: Any, bucket: str) -> None:
    raw = server.client("s3", parameter_validation=False)
    raw.put_object(Bucket=bucket, Key="k", Body=b"x")
    error = fails(
        lambda: raw.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=[]), "InvalidArgument", 400
    )
    assert "x-amz-object-attributes" in error.response["Error"]["Message"]


def test_expected_bucket_owner_is_checked(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner="000000000000")
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner="111122223333"), "AccessDenied", 403)
    copy = {"Bucket": bucket, "Key": "c", "CopySource": {"Bucket": bucket, "Key": "k"}}
    fails(lambda: s3.copy_object(**copy, ExpectedSourceBucketOwner="111122223333"), "AccessDenied", 403)
    assert s3.copy_object(**copy, ExpectedSourceBucketOwner="000000000000")["CopyObjectResult"]["ETag"]


def test_storage_classes_and_website_redirects_are_refused_not_ignored(server: Any, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="STANDARD")
    fails(lambda: s3.put_object(Bucket=bucket, Key="g", Body=b"x", StorageClass="GLACIER"), "NotImplemented", 501)
    fails(lambda: s3.create_multipart_upload(Bucket=bucket, Key="g", StorageClass="STANDARD_IA"), "NotImplemented", 501)
    raw = server.client("s3", parameter_validation=False)
    fails(lambda: raw.put_object(Bucket=bucket, Key="g", Body=b"x", StorageClass="COLD"), "InvalidStorageClass", 400)
    fails(
        lambda: s3.put_object(Bucket=bucket, Key="w", Body=b"x", WebsiteRedirectLocation="/elsewhere"),
        "NotImplemented",
        501,
    )
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
