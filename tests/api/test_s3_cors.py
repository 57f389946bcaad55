"""S3 CORS through real boto3 and raw HTTP: Put/Get/DeleteBucketCors, preflights, and headers on actual requests."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.errors import error_code, fails
from tests.api.test_aws_cli import aws
from tests.live_server import LiveServer

RULES = [
    {
        "ID": "uploads",
        "AllowedMethods": ["PUT", "POST"],
        "AllowedOrigins": ["https://*.example.com"],
        "AllowedHeaders": ["content-type", "x-amz-meta-*"],
        "ExposeHeaders": ["ETag", "x-amz-version-id"],
        "MaxAgeSeconds": 600,
    },
    {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"]},
]


@pytest.fixture
def unchecked(server: LiveServer) -> Any:
    """A client that sends what it is given, so the server's own checks answer."""
    return server.client("s3", parameter_validation=False)


@pytest.fixture
def cors_bucket(s3: Any, bucket: str) -> str:
    """A bucket with RULES as its CORS configuration and one object, 'photo.jpg'."""
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="photo.jpg", Body=b"jpeg")
    return bucket


def preflight(http: httpx.Client, server: LiveServer, path: str, **headers: str) -> httpx.Response:
    """An OPTIONS request as a browser sends it (header names with _ for -)."""
    sent = {name.replace("_", "-"): value for name, value in headers.items()}
    return http.request("OPTIONS", f"{server.endpoint}/{path}", headers=sent)


# ---- configuration --------------------------------------------------------------------------------


def test_put_get_delete_bucket_cors(s3: Any, bucket: str) -> None:
    fails(lambda: s3.get_bucket_cors(Bucket=bucket), "NoSuchCORSConfiguration", 404)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    deleted = s3.delete_bucket_cors(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    fails(lambda: s3.get_bucket_cors(Bucket=bucket), "NoSuchCORSConfiguration", 404)
    s3.delete_bucket_cors(Bucket=bucket)  # none: still 204, as S3 answers


def test_bucket_cors_of_a_missing_bucket(s3: Any) -> None:
    fails(lambda: s3.get_bucket_cors(Bucket="no-such-cors-bucket"), "NoSuchBucket", 404)
    rules = {"CORSRules": RULES}
    fails(lambda: s3.put_bucket_cors(Bucket="no-such-cors-bucket", CORSConfiguration=rules), "NoSuchBucket", 404)


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}, "InvalidRequest"),
        ({"AllowedMethods": ["GET"], "AllowedOrigins": ["https://*.*.example.com"]}, "InvalidRequest"),
        ({"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "AllowedHeaders": ["x-*-*"]}, "InvalidRequest"),
        ({"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "ExposeHeaders": ["*"]}, "InvalidRequest"),
        ({"AllowedMethods": [], "AllowedOrigins": ["*"]}, "MalformedXML"),
        ({"AllowedMethods": ["GET"], "AllowedOrigins": []}, "MalformedXML"),
        ({"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "ID": "x" * 256}, "MalformedXML"),
        ({"AllowedMethods": ["GET"], "AllowedOrigins": ["*"], "MaxAgeSeconds": -1}, "MalformedXML"),
    ],
)
def test_bad_rules_are_refused(unchecked: Any, bucket: str, rule: dict[str, Any], code: str) -> None:
    error = fails(lambda: unchecked.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]}), code, 400)
    assert error.response["Error"]["Message"]
    fails(lambda: unchecked.get_bucket_cors(Bucket=bucket), "NoSuchCORSConfiguration", 404)


def test_rule_count_is_1_to_100(unchecked: Any, bucket: str) -> None:
    rule = {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}
    put = unchecked.put_bucket_cors
    fails(lambda: put(Bucket=bucket, CORSConfiguration={"CORSRules": []}), "MalformedXML", 400)
    fails(lambda: put(Bucket=bucket, CORSConfiguration={"CORSRules": [rule] * 101}), "MalformedXML", 400)
    put(Bucket=bucket, CORSConfiguration={"CORSRules": [rule] * 100})
    assert len(unchecked.get_bucket_cors(Bucket=bucket)["CORSRules"]) == 100


def test_malformed_document(http: httpx.Client, unchecked: Any, bucket: str) -> None:
    url = unchecked.generate_presigned_url("put_bucket_cors", Params={"Bucket": bucket, "CORSConfiguration": {}})
    refused = http.put(url, content=b"<CORSConfiguration><CORSRule><AllowedMethod>GET")
    assert (refused.status_code, error_code(refused)) == (400, "MalformedXML")


def test_cors_with_the_aws_cli(server: LiveServer, s3: Any, bucket: str) -> None:
    config = json.dumps({"CORSRules": RULES[1:]})
    aws(server, "s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", config)
    shown = json.loads(aws(server, "s3api", "get-bucket-cors", "--bucket", bucket, "--output", "json").stdout)
    assert shown["CORSRules"] == RULES[1:]
    aws(server, "s3api", "delete-bucket-cors", "--bucket", bucket)
    fails(lambda: s3.get_bucket_cors(Bucket=bucket), "NoSuchCORSConfiguration", 404)


# ---- preflight ------------------------------------------------------------------------------------


def test_preflight_allowed(http: httpx.Client, server: LiveServer, cors_bucket: str) -> None:
    answer = preflight(
        http,
        server,
        f"{cors_bucket}/new.jpg",
        Origin="https://app.example.com",
        Access_Control_Request_Method="PUT",
        Access_Control_Request_Headers="Content-Type, X-Amz-Meta-Owner",
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
    assert answer.headers["access-control-allow-methods"] == "PUT, POST"
    assert answer.headers["access-control-allow-headers"] == "Content-Type, X-Amz-Meta-Owner"
    assert answer.headers["access-control-expose-headers"] == "ETag, x-amz-version-id"
    assert answer.headers["access-control-max-age"] == "600"
    assert answer.headers["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def test_preflight_wildcard_origin(http: httpx.Client, server: LiveServer, cors_bucket: str) -> None:
    answer = preflight(http, server, cors_bucket, Origin="http://anywhere.test", Access_Control_Request_Method="GET")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["access-control-allow-methods"] == "GET, HEAD"
    assert "access-control-allow-headers" not in answer.headers
    assert "access-control-max-age" not in answer.headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://app.example.org", "Access_Control_Request_Method": "PUT"},  # origin
        {"Origin": "https://app.example.com", "Access_Control_Request_Method": "DELETE"},  # method
        {
            "Origin": "https://app.example.com",
            "Access_Control_Request_Method": "PUT",
            "Access_Control_Request_Headers": "x-amz-acl",
        },
        {
            "Origin": "http://anywhere.test",
            "Access_Control_Request_Method": "GET",
            "Access_Control_Request_Headers": "range",
        },
    ],
)
def test_preflight_not_allowed(
    http: httpx.Client, server: LiveServer, cors_bucket: str, headers: dict[str, str]
) -> None:
    answer = preflight(http, server, f"{cors_bucket}/photo.jpg", **headers)
    assert (answer.status_code, error_code(answer)) == (403, "AccessForbidden")
    assert "This CORS request is not allowed" in answer.text
    assert "access-control-allow-origin" not in answer.headers


def test_preflight_without_configuration_or_bucket(http: httpx.Client, server: LiveServer, bucket: str) -> None:
    asked = {"Origin": "http://anywhere.test", "Access_Control_Request_Method": "GET"}
    none = preflight(http, server, f"{bucket}/photo.jpg", **asked)
    assert (none.status_code, error_code(none)) == (403, "AccessForbidden")
    assert "CORS is not enabled for this bucket" in none.text
    missing = preflight(http, server, "no-such-cors-bucket/photo.jpg", **asked)
    assert (missing.status_code, error_code(missing)) == (403, "AccessForbidden")


def test_preflight_needs_origin_and_method(http: httpx.Client, server: LiveServer, cors_bucket: str) -> None:
    no_origin = preflight(http, server, cors_bucket, Access_Control_Request_Method="GET")
    assert (no_origin.status_code, error_code(no_origin)) == (400, "BadRequest")
    assert "Origin request header needed" in no_origin.text
    no_method = preflight(http, server, cors_bucket, Origin="http://anywhere.test")
    assert (no_method.status_code, error_code(no_method)) == (400, "BadRequest")


def test_preflight_ignores_a_presigned_query(http: httpx.Client, server: LiveServer, s3: Any, cors_bucket: str) -> None:
    # A page preflights the very URL it got presigned for GET: OPTIONS is never held to that signature.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "photo.jpg"})
    answer = http.request("OPTIONS", url, headers={"Origin": "http://x.test", "Access-Control-Request-Method": "GET"})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"


# ---- actual requests ------------------------------------------------------------------------------


def test_get_with_an_allowed_origin(http: httpx.Client, server: LiveServer, s3: Any, cors_bucket: str) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "photo.jpg"})
    got = http.get(url, headers={"Origin": "http://viewer.test"})
    assert (got.status_code, got.content) == (200, b"jpeg")
    assert got.headers["access-control-allow-origin"] == "*"
    assert got.headers["access-control-allow-methods"] == "GET, HEAD"
    assert got.headers["vary"] == "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    plain = http.get(url)
    assert "access-control-allow-origin" not in plain.headers


def test_errors_carry_the_cors_headers(http: httpx.Client, server: LiveServer, s3: Any, cors_bucket: str) -> None:
    url = s3.generate_presigned_url("get_object", Params={"Bucket": cors_bucket, "Key": "absent.jpg"})
    missing = http.get(url, headers={"Origin": "http://viewer.test"})
    assert (missing.status_code, error_code(missing)) == (404, "NoSuchKey")
    assert missing.headers["access-control-allow-origin"] == "*"
    # An unsigned PUT from an allowed origin is denied, and the page may still read why.
    denied = http.put(
        f"{server.endpoint}/{cors_bucket}/upload.jpg", content=b"x", headers={"Origin": "https://app.example.com"}
    )
    assert (denied.status_code, error_code(denied)) == (403, "AccessDenied")
    assert denied.headers["access-control-allow-origin"] == "https://app.example.com"
    assert denied.headers["access-control-expose-headers"] == "ETag, x-amz-version-id"


def test_origin_no_rule_allows_gets_no_headers(
    http: httpx.Client, server: LiveServer, s3: Any, cors_bucket: str
) -> None:
    url = s3.generate_presigned_url("delete_object", Params={"Bucket": cors_bucket, "Key": "photo.jpg"})
    deleted = http.delete(url, headers={"Origin": "https://app.example.com"})
    assert deleted.status_code == 204
    assert "access-control-allow-origin" not in deleted.headers
