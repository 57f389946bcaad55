"""Object and bucket tags through real boto3 and the aws CLI: the tagging operations, x-amz-tagging on writes,
copy directives, the tag count on reads, S3's limits and errors."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from altostratus.api.s3_access import s3_needs
from altostratus.auth.keys import FUNCTION_S3_ACTIONS
from altostratus.lake.access import Need
from altostratus.lake.multipart import MIN_PART_SIZE
from tests.api.errors import error_code, fails
from tests.api.raw import send_signed
from tests.api.test_aws_cli import aws, aws_json
from tests.live_server import LiveServer

# A letter outside the Basic Multilingual Plane (MATHEMATICAL BOLD CAPITAL A): S3 counts it as two characters.
WIDE = "\U0001d400"


def tag_set(**tags: str) -> dict[str, Any]:
    """A Tagging document as boto3 takes it."""
    return {"TagSet": [{"Key": key, "Value": value} for key, value in tags.items()]}


def tags_of(s3: Any, bucket: str, key: str, **kw: Any) -> dict[str, str]:
    """The object's tags, as GetObjectTagging answers them."""
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key, **kw)["TagSet"]}


def many(count: int, key_length: int = 4, value_length: int = 1) -> dict[str, Any]:
    """A tag set of `count` tags with distinct keys of key_length characters and values of value_length."""
    return {"TagSet": [{"Key": f"{n:04d}".ljust(key_length, "k"), "Value": "v" * value_length} for n in range(count)]}


@pytest.fixture
def raw(server: LiveServer) -> Any:
    """A client that sends what it is given, so the server's own checks answer."""
    return server.client("s3", parameter_validation=False)


# ---- object tags ------------------------------------------------------------------------------------------


def test_put_get_delete_object_tags_leave_the_object_alone(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    before = s3.head_object(Bucket=bucket, Key="k")
    assert "TagCount" not in before
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []

    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(stage="raw", owner="ada", b="2"))
    got = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert [t["Key"] for t in got] == ["b", "owner", "stage"]  # S3 answers in key order
    assert tags_of(s3, bucket, "k") == {"stage": "raw", "owner": "ada", "b": "2"}
    head, read = s3.head_object(Bucket=bucket, Key="k"), s3.get_object(Bucket=bucket, Key="k")
    assert head["TagCount"] == read["TagCount"] == 3
    assert (head["ETag"], head["LastModified"]) == (before["ETag"], before["LastModified"])
    assert read["Body"].read() == b"data"

    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(stage="clean"))
    assert tags_of(s3, bucket, "k") == {"stage": "clean"}
    deleted = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "k") == {}
    assert "TagCount" not in s3.head_object(Bucket=bucket, Key="k")


def test_an_empty_tag_set_removes_the_tags(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []})
    assert tags_of(s3, bucket, "k") == {}


def test_an_empty_value_and_every_allowed_character(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    tags = {"empty": "", "Ünïcødé 名前 ٣": "a b+c-d=e.f_g:h/i@j", WIDE * 64: WIDE * 128}
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=tag_set(**tags))
    assert tags_of(s3, bucket, "k") == tags


def test_overwriting_an_object_drops_its_tags(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"one", Tagging="a=1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    assert tags_of(s3, bucket, "k") == {}


def test_ten_tags_of_the_longest_keys_and_values_are_accepted(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging=many(10, 128, 256))
    assert len(tags_of(s3, bucket, "k")) == 10


@pytest.mark.parametrize(
    ("tagging", "code", "words"),
    [
        (many(11), "BadRequest", "Object tags cannot be greater than 10"),
        (many(1, key_length=129), "InvalidTag", "The TagKey you have provided is invalid"),
        (tag_set(**{WIDE * 65: "v"}), "InvalidTag", "has 130 characters"),
        (many(1, value_length=257), "InvalidTag", "The TagValue you have provided is invalid"),
        (tag_set(**{"": "v"}), "InvalidTag", "The TagKey you have provided is invalid"),
        (tag_set(**{"a{b": "v"}), "InvalidTag", "holds '{'"),
        (tag_set(**{"tab\tkey": "v"}), "InvalidTag", "The TagKey you have provided is invalid"),
        (tag_set(k="semi;colon"), "InvalidTag", "The TagValue you have provided is invalid"),
        (tag_set(**{"aws:createdBy": "me"}), "InvalidTag", "Your TagKey cannot be prefixed with aws:"),
        (
            {"TagSet": [{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}]},
            "InvalidTag",
            "Cannot provide multiple Tags with the same key",
        ),
    ],
    ids=["11 tags", "long key", "long key in UTF-16", "long value", "empty key", "brace", "tab", "semicolon",
         "aws prefix", "duplicate"],
)  # fmt: skip
def test_bad_object_tag_sets_are_refused(raw: Any, bucket: str, tagging: dict[str, Any], code: str, words: str) -> None:
    raw.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="keep=me")
    error = fails(lambda: raw.put_object_tagging(Bucket=bucket, Key="k", Tagging=tagging), code, 400)
    assert words in error.response["Error"]["Message"]
    assert tags_of(raw, bucket, "k") == {"keep": "me"}


def test_tags_of_a_missing_object_or_bucket(s3: Any, bucket: str) -> None:
    fails(lambda: s3.get_object_tagging(Bucket=bucket, Key="nope"), "NoSuchKey", 404)
    fails(lambda: s3.put_object_tagging(Bucket=bucket, Key="nope", Tagging=tag_set(a="1")), "NoSuchKey", 404)
    fails(lambda: s3.delete_object_tagging(Bucket=bucket, Key="nope"), "NoSuchKey", 404)
    fails(lambda: s3.get_object_tagging(Bucket="no-such-bucket-t", Key="k"), "NoSuchBucket", 404)


@pytest.mark.parametrize(
    "body",
    [
        b"not xml at all",
        b"<Other><TagSet/></Other>",
        b"<Tagging></Tagging>",
        b"<Tagging><TagSet/><TagSet/></Tagging>",
        b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
        b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<Tagging><TagSet><Tag><Key>&b;</Key><Value>v</Value></Tag></TagSet></Tagging>",
    ],
    ids=["not xml", "wrong root", "no tag set", "two tag sets", "no key", "no value", "entities"],
)
def test_malformed_tagging_documents_are_refused(
    http: httpx.Client, server: LiveServer, s3: Any, bucket: str, body: bytes
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for path in (f"/{bucket}/k?tagging", f"/{bucket}?tagging"):
        response = send_signed(http, server, "PUT", path, body=body)
        assert (response.status_code, error_code(response)) == (400, "MalformedXML")
    assert tags_of(s3, bucket, "k") == {}


def test_a_tagging_document_must_match_its_content_md5(
    http: httpx.Client, server: LiveServer, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = b"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>"
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    response = send_signed(http, server, "PUT", f"/{bucket}/k?tagging", headers={"content-md5": wrong}, body=body)
    assert (response.status_code, error_code(response)) == (400, "BadDigest")
    right = base64.b64encode(hashlib.md5(body).digest()).decode()
    response = send_signed(http, server, "PUT", f"/{bucket}/k?tagging", headers={"content-md5": right}, body=body)
    assert response.status_code == 200
    assert tags_of(s3, bucket, "k") == {"a": "1"}


# ---- x-amz-tagging on writes ------------------------------------------------------------------------------


def test_put_object_with_a_tagging_header(s3: Any, bucket: str) -> None:
    header = "a=1&b=two&spaced+out=x%20y&plus=%2B&" + quote("名前") + "=" + quote("値") + "&bare"
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging=header)
    assert tags_of(s3, bucket, "k") == {
        "a": "1",
        "b": "two",
        "spaced out": "x y",
        "plus": "+",
        "名前": "値",
        "bare": "",
    }
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 6
    assert s3.head_object(Bucket=bucket, Key="k")["TagCount"] == 6


def test_presigned_puts_apply_their_tags(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "signed", "Tagging": "a=1&b=2"})
    assert "x-amz-tagging" in url  # botocore signs it as a header the uploader must send
    assert http.put(url, content=b"x", headers={"x-amz-tagging": "a=1&b=2"}).status_code == 200
    assert tags_of(s3, bucket, "signed") == {"a": "1", "b": "2"}
    # Other SDKs' presigners hoist x-amz-* headers into the (signed) query string, and S3 applies them there.
    hoisted = send_signed(
        http, server, "PUT", f"/{bucket}/hoisted?x-amz-tagging={quote('c=3&d=4', safe='')}", body=b"x"
    )
    assert hoisted.status_code == 200
    assert tags_of(s3, bucket, "hoisted") == {"c": "3", "d": "4"}


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("a=1&a=2", "InvalidArgument"),
        ("TagSet=[{Key=string,Value=string}]", "InvalidArgument"),
        ("k=%FF", "InvalidArgument"),
        ("&".join(f"k{n}=v" for n in range(11)), "BadRequest"),
        ("aws%3Akey=v", "InvalidTag"),
        ("k=" + "v" * 257, "InvalidTag"),
        ("a%7Bb=v", "InvalidTag"),
    ],
    ids=["duplicate", "three equals", "not utf-8", "11 tags", "aws prefix", "long value", "brace"],
)
def test_bad_tagging_headers_are_refused_and_nothing_is_written(raw: Any, bucket: str, header: str, code: str) -> None:
    fails(lambda: raw.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging=header), code, 400)
    fails(lambda: raw.head_object(Bucket=bucket, Key="k"), "404", 404)
    fails(lambda: raw.create_multipart_upload(Bucket=bucket, Key="k", Tagging=header), code, 400)
    assert raw.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_multipart_upload_tags_land_on_the_completed_object(s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big", Tagging="stage=raw&source=camera")["UploadId"]
    first = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"a" * MIN_PART_SIZE)
    second = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=b"b")
    parts = [{"PartNumber": 1, "ETag": first["ETag"]}, {"PartNumber": 2, "ETag": second["ETag"]}]
    s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})
    assert tags_of(s3, bucket, "big") == {"stage": "raw", "source": "camera"}
    assert s3.head_object(Bucket=bucket, Key="big")["TagCount"] == 2


def test_upload_part_copy_takes_no_tags_from_its_source(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"s" * 10, Tagging="from=source")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="joined")["UploadId"]
    part = s3.upload_part_copy(
        Bucket=bucket, Key="joined", UploadId=upload, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"}
    )
    parts = [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]
    s3.complete_multipart_upload(Bucket=bucket, Key="joined", UploadId=upload, MultipartUpload={"Parts": parts})
    assert tags_of(s3, bucket, "joined") == {}


# ---- copies -----------------------------------------------------------------------------------------------


def test_copy_takes_the_source_tags_by_default(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1&b=2")
    s3.copy_object(Bucket=bucket, Key="default", CopySource={"Bucket": bucket, "Key": "src"})
    s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": "src"}, TaggingDirective="COPY")
    assert tags_of(s3, bucket, "default") == tags_of(s3, bucket, "copied") == {"a": "1", "b": "2"}
    s3.copy_object(Bucket=bucket, Key="meta", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="REPLACE")
    assert tags_of(s3, bucket, "meta") == {"a": "1", "b": "2"}  # the two directives are independent


def test_copy_replaces_the_tags_with_replace(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1")
    source = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="new", CopySource=source, TaggingDirective="REPLACE", Tagging="c=3")
    assert tags_of(s3, bucket, "new") == {"c": "3"}
    s3.copy_object(Bucket=bucket, Key="none", CopySource=source, TaggingDirective="REPLACE")
    assert tags_of(s3, bucket, "none") == {}
    assert tags_of(s3, bucket, "src") == {"a": "1"}


def test_bad_copy_tagging_requests_are_refused(raw: Any, bucket: str) -> None:
    raw.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1")
    source = {"Bucket": bucket, "Key": "src"}
    error = fails(
        lambda: raw.copy_object(Bucket=bucket, Key="d", CopySource=source, TaggingDirective="MERGE"),
        "InvalidArgument",
        400,
    )
    assert "x-amz-tagging-directive='MERGE'" in error.response["Error"]["Message"]
    fails(lambda: raw.copy_object(Bucket=bucket, Key="d", CopySource=source, Tagging="b=2"), "InvalidArgument", 400)
    fails(
        lambda: raw.copy_object(
            Bucket=bucket, Key="d", CopySource=source, TaggingDirective="REPLACE", Tagging="a=1&a=2"
        ),
        "InvalidArgument",
        400,
    )
    fails(lambda: raw.head_object(Bucket=bucket, Key="d"), "404", 404)


# ---- versions ---------------------------------------------------------------------------------------------


def test_each_version_has_its_own_tags(s3: Any, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one", Tagging="v=1")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two", Tagging="v=2")["VersionId"]
    assert tags_of(s3, bucket, "k") == {"v": "2"}
    assert tags_of(s3, bucket, "k", VersionId=first) == {"v": "1"}
    put = s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=first, Tagging=tag_set(v="one"))
    assert put["VersionId"] == first
    got = s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=first)
    assert (got["VersionId"], got["TagSet"]) == (first, [{"Key": "v", "Value": "one"}])
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["VersionId"] == second
    assert tags_of(s3, bucket, "k") == {"v": "2"}
    assert s3.delete_object_tagging(Bucket=bucket, Key="k", VersionId=first)["VersionId"] == first
    assert tags_of(s3, bucket, "k", VersionId=first) == {}
    assert tags_of(s3, bucket, "k", VersionId=second) == {"v": "2"}
    missing = "A" * 32
    fails(lambda: s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=missing), "NoSuchVersion", 404)
    fails(
        lambda: s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=missing, Tagging=tag_set()),
        "NoSuchVersion",
        404,
    )


# ---- bucket tags ------------------------------------------------------------------------------------------


def test_bucket_tags_round_trip(s3: Any, bucket: str) -> None:
    fails(lambda: s3.get_bucket_tagging(Bucket=bucket), "NoSuchTagSet", 404)
    put = s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(team="ml", cost="lab 3"))
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [
        {"Key": "cost", "Value": "lab 3"},
        {"Key": "team", "Value": "ml"},
    ]
    s3.put_bucket_tagging(Bucket=bucket, Tagging=many(50, 128, 256))
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    deleted = s3.delete_bucket_tagging(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    fails(lambda: s3.get_bucket_tagging(Bucket=bucket), "NoSuchTagSet", 404)
    s3.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(a="1"))
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    fails(lambda: s3.get_bucket_tagging(Bucket=bucket), "NoSuchTagSet", 404)


def test_bad_bucket_tag_sets_are_refused(raw: Any, bucket: str) -> None:
    raw.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(keep="me"))
    error = fails(lambda: raw.put_bucket_tagging(Bucket=bucket, Tagging=many(51)), "BadRequest", 400)
    assert "Bucket tag count cannot be greater than 50" in error.response["Error"]["Message"]
    fails(lambda: raw.put_bucket_tagging(Bucket=bucket, Tagging=tag_set(**{"aws:x": "1"})), "InvalidTag", 400)
    duplicate = {"TagSet": [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]}
    fails(lambda: raw.put_bucket_tagging(Bucket=bucket, Tagging=duplicate), "InvalidTag", 400)
    fails(lambda: raw.put_bucket_tagging(Bucket=bucket, Tagging=many(1, key_length=129)), "InvalidTag", 400)
    assert raw.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "keep", "Value": "me"}]


def test_create_bucket_with_tags(s3: Any, raw: Any, request: pytest.FixtureRequest) -> None:
    name = f"tagged-{abs(hash(request.node.name)) % 10**8}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"Tags": [{"Key": "team", "Value": "ml"}]})
    request.addfinalizer(lambda: s3.delete_bucket(Bucket=name))
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == [{"Key": "team", "Value": "ml"}]
    too_many = {"Tags": many(51)["TagSet"]}
    fails(lambda: raw.create_bucket(Bucket=f"{name}-x", CreateBucketConfiguration=too_many), "BadRequest", 400)
    reserved = {"Tags": [{"Key": "aws:x", "Value": "1"}]}
    fails(lambda: raw.create_bucket(Bucket=f"{name}-x", CreateBucketConfiguration=reserved), "InvalidTag", 400)
    fails(lambda: s3.head_bucket(Bucket=f"{name}-x"), "404", 404)


def test_bucket_tags_of_a_missing_bucket(s3: Any) -> None:
    for call in (
        lambda: s3.get_bucket_tagging(Bucket="no-such-bucket-t"),
        lambda: s3.put_bucket_tagging(Bucket="no-such-bucket-t", Tagging=tag_set(a="1")),
        lambda: s3.delete_bucket_tagging(Bucket="no-such-bucket-t"),
    ):
        fails(call, "NoSuchBucket", 404)


# ---- the aws CLI and function keys ------------------------------------------------------------------------


def test_aws_cli_puts_and_gets_object_tags(server: LiveServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="data/file.csv", Body=b"a,b\n")
    tagging = '{"TagSet": [{"Key": "stage", "Value": "raw data"}, {"Key": "owner", "Value": "ada"}]}'
    aws(server, "s3api", "put-object-tagging", "--bucket", bucket, "--key", "data/file.csv", "--tagging", tagging)
    got = aws_json(server, "s3api", "get-object-tagging", "--bucket", bucket, "--key", "data/file.csv")
    assert got["TagSet"] == [{"Key": "owner", "Value": "ada"}, {"Key": "stage", "Value": "raw data"}]
    bad = '{"TagSet": [{"Key": "aws:stage", "Value": "x"}]}'
    refused = aws(
        server, "s3api", "put-object-tagging", "--bucket", bucket, "--key", "data/file.csv", "--tagging", bad, ok=False
    )
    assert refused.returncode != 0 and "InvalidTag" in refused.stderr


def test_function_keys_may_tag_objects_and_a_tagged_write_needs_the_tagging_action() -> None:
    where = {"Bucket": "b", "Key": "k"}
    for operation, action in (
        ("GetObjectTagging", "s3:GetObjectTagging"),
        ("PutObjectTagging", "s3:PutObjectTagging"),
        ("DeleteObjectTagging", "s3:DeleteObjectTagging"),
    ):
        assert FUNCTION_S3_ACTIONS[operation] == (action, "object")
        assert s3_needs(operation, where, {}, {}) == [Need(action, "b", "k")]
        assert s3_needs(operation, where, {"versionId": "null"}, {}) == [
            Need(action.replace("Object", "ObjectVersion"), "b", "k", "null")
        ]
    plain = s3_needs("PutObject", where, {}, {})
    assert plain == [Need("s3:PutObject", "b", "k")]
    assert s3_needs("PutObject", where, {}, {"x-amz-tagging": "a=1"}) == [*plain, Need("s3:PutObjectTagging", "b", "k")]
    assert s3_needs("PutObjectTagging", where, {}, {"x-amz-tagging": "a=1"}) == [Need("s3:PutObjectTagging", "b", "k")]
