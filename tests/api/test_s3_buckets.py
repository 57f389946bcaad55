"""S3 buckets through real boto3: create, list, head, location, delete, and the errors S3 sends for each."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.errors import error_code, fails
from tests.api.raw import send_signed
from tests.live_server import LiveServer


def test_create_head_list_delete(s3: Any) -> None:
    created = s3.create_bucket(Bucket="lifecycle-bucket")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert created["Location"] == "/lifecycle-bucket"
    head = s3.head_bucket(Bucket="lifecycle-bucket")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    listed = s3.list_buckets()
    names = [b["Name"] for b in listed["Buckets"]]
    assert "lifecycle-bucket" in names
    assert names == sorted(names)
    assert listed["Owner"]["ID"]
    entry = next(b for b in listed["Buckets"] if b["Name"] == "lifecycle-bucket")
    assert entry["CreationDate"].tzinfo is not None
    deleted = s3.delete_bucket(Bucket="lifecycle-bucket")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert "lifecycle-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_create_with_location_constraint(s3: Any) -> None:
    s3.create_bucket(Bucket="located-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.get_bucket_location(Bucket="located-bucket")["LocationConstraint"] is None
    s3.delete_bucket(Bucket="located-bucket")


def test_create_twice_is_already_owned_by_you(s3: Any, bucket: str) -> None:
    error = fails(lambda: s3.create_bucket(Bucket=bucket), "BucketAlreadyOwnedByYou", 409)
    assert error.response["Error"]["BucketName"] == bucket


def test_delete_non_empty_bucket(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"x")
    fails(lambda: s3.delete_bucket(Bucket=bucket), "BucketNotEmpty", 409)
    s3.delete_object(Bucket=bucket, Key="keep.txt")
    s3.delete_bucket(Bucket=bucket)


def test_uploads_in_progress_end_with_their_bucket(s3: Any, bucket: str) -> None:
    # As AWS S3 does: an upload in progress does not keep a bucket from being deleted; its parts go with it.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"part")
    s3.delete_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=bucket)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    fails(lambda: s3.list_parts(Bucket=bucket, Key="big", UploadId=upload), "NoSuchUpload", 404)


@pytest.mark.parametrize(
    "operation",
    [
        lambda s3: s3.delete_bucket(Bucket="no-such-bucket-here"),
        lambda s3: s3.list_objects_v2(Bucket="no-such-bucket-here"),
        lambda s3: s3.list_objects(Bucket="no-such-bucket-here"),
        lambda s3: s3.get_bucket_location(Bucket="no-such-bucket-here"),
        lambda s3: s3.put_object(Bucket="no-such-bucket-here", Key="k", Body=b"x"),
        lambda s3: s3.get_object(Bucket="no-such-bucket-here", Key="k"),
        lambda s3: s3.delete_object(Bucket="no-such-bucket-here", Key="k"),
        lambda s3: s3.create_multipart_upload(Bucket="no-such-bucket-here", Key="k"),
        lambda s3: s3.list_multipart_uploads(Bucket="no-such-bucket-here"),
        lambda s3: s3.get_bucket_notification_configuration(Bucket="no-such-bucket-here"),
        lambda s3: s3.delete_objects(Bucket="no-such-bucket-here", Delete={"Objects": [{"Key": "k"}]}),
    ],
    ids=[
        "DeleteBucket",
        "ListObjectsV2",
        "ListObjects",
        "GetBucketLocation",
        "PutObject",
        "GetObject",
        "DeleteObject",
        "CreateMultipartUpload",
        "ListMultipartUploads",
        "GetBucketNotificationConfiguration",
        "DeleteObjects",
    ],
)
def test_missing_bucket_is_no_such_bucket(s3: Any, operation: Any) -> None:
    error = fails(lambda: operation(s3), "NoSuchBucket", 404)
    assert error.response["Error"]["BucketName"] == "no-such-bucket-here"


def test_head_missing_bucket_is_bare_404(s3: Any) -> None:
    fails(lambda: s3.head_bucket(Bucket="no-such-bucket-here"), "404", 404)


@pytest.mark.parametrize(
    "name",
    [
        "a",
        "ab",
        "a" * 64,
        "UpperCase",
        "under_score",
        "-leading-dash",
        "trailing-dash-",
        ".leading-dot",
        "trailing-dot.",
        "double..dot",
        "dot.-dash",
        "dash-.dot",
        "192.168.5.4",
        "xn--punycode",
        "sthree-reserved",
        "alias-s3alias",
        "lambda--ol-s3",
    ],
)
def test_invalid_bucket_names(s3: Any, name: str) -> None:
    error = fails(lambda: s3.create_bucket(Bucket=name), "InvalidBucketName", 400)
    assert name in error.response["Error"]["Message"]


@pytest.mark.parametrize("name", ["abc", "a" * 63, "with.dots.ok", "dash-ok-9", "0numeric"])
def test_valid_bucket_names(s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
    s3.delete_bucket(Bucket=name)


def test_create_bucket_with_malformed_configuration(http: httpx.Client, server: LiveServer) -> None:
    response = send_signed(http, server, "PUT", "/malformed-config", body=b"<CreateBucketConfiguration><Loc")
    assert (response.status_code, error_code(response)) == (400, "MalformedXML")
    response = send_signed(http, server, "PUT", "/malformed-config", body=b"<Other/>")
    assert (response.status_code, error_code(response)) == (400, "MalformedXML")


def test_list_multipart_uploads(s3: Any, bucket: str) -> None:
    first = s3.create_multipart_upload(Bucket=bucket, Key="logs/a")["UploadId"]
    second = s3.create_multipart_upload(Bucket=bucket, Key="data/b")["UploadId"]
    listed = s3.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [("data/b", second), ("logs/a", first)]
    only = s3.list_multipart_uploads(Bucket=bucket, Prefix="logs/")
    assert [u["Key"] for u in only["Uploads"]] == ["logs/a"]
