"""Who may do what: SigV4 and SigV2 signatures, clock skew, presigned URLs, and read-only keys."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
import types
import urllib.error
import urllib.request
from typing import Any

import boto3
import botocore.auth
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from tests.api.errors import error_code, fails
from tests.api.raw import signed_headers
from tests.live_server import ALTO, LiveServer


@pytest.fixture(scope="module")
def read_only(server: LiveServer) -> dict[str, str]:
    """A read-only key made with `alto keys create` against the running server's data directory."""
    done = subprocess.run(
        [ALTO, "keys", "create", "--role", "read-only", "--json", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    key: dict[str, str] = json.loads(done.stdout)
    assert key["Role"] == "read-only"
    return key


@pytest.fixture
def shared(s3: Any, bucket: str) -> str:
    """A bucket holding one object, 'readme.txt'."""
    s3.put_object(Bucket=bucket, Key="readme.txt", Body=b"read me")
    return bucket


# ---- signatures ------------------------------------------------------------------------------------


def test_wrong_secret(server: LiveServer, shared: str) -> None:
    s3 = server.client("s3", secret_key="not-the-secret")
    fails(lambda: s3.list_buckets(), "SignatureDoesNotMatch", 403)
    fails(lambda: s3.get_object(Bucket=shared, Key="readme.txt"), "SignatureDoesNotMatch", 403)
    fails(lambda: s3.put_object(Bucket=shared, Key="x", Body=b"x"), "SignatureDoesNotMatch", 403)
    fails(lambda: s3.head_object(Bucket=shared, Key="readme.txt"), "403", 403)


def test_unknown_key(server: LiveServer, shared: str) -> None:
    s3 = server.client("s3", access_key="AKIANOSUCHKEY0000000", secret_key="whatever")
    fails(lambda: s3.list_buckets(), "InvalidAccessKeyId", 403)
    fails(lambda: s3.put_object(Bucket=shared, Key="x", Body=b"x"), "InvalidAccessKeyId", 403)


def test_no_credentials(server: LiveServer, shared: str) -> None:
    s3 = server.client("s3", signature_version=UNSIGNED)
    fails(lambda: s3.list_buckets(), "AccessDenied", 403)
    fails(lambda: s3.get_object(Bucket=shared, Key="readme.txt"), "AccessDenied", 403)
    fails(lambda: s3.put_object(Bucket=shared, Key="x", Body=b"x"), "AccessDenied", 403)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server.endpoint}/{shared}/readme.txt", timeout=10)
    assert caught.value.code == 403
    caught.value.close()


def test_unsupported_authorization_scheme(http: httpx.Client, server: LiveServer, shared: str) -> None:
    response = http.get(f"{server.endpoint}/{shared}/readme.txt", headers={"Authorization": "Bearer abc"})
    assert (response.status_code, error_code(response)) == (400, "InvalidArgument")


@pytest.mark.parametrize(
    "credential",
    ["AKIA/20260101/us-east-1/s3", "AKIA/20260101/us-east-1/s3/aws5_request", "/20260101/us-east-1/s3/aws4_request"],
)
def test_malformed_credential(http: httpx.Client, server: LiveServer, shared: str, credential: str) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=00",
        "x-amz-date": stamp,
        "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
    }
    response = http.get(f"{server.endpoint}/{shared}/readme.txt", headers=headers)
    assert (response.status_code, error_code(response)) == (400, "AuthorizationHeaderMalformed")


def test_tampered_request(http: httpx.Client, server: LiveServer, shared: str) -> None:
    url = f"{server.endpoint}/{shared}/readme.txt"
    headers = signed_headers("GET", url, access_key=server.access_key, secret_key=server.secret_key)
    assert http.get(url, headers=headers).content == b"read me"
    response = http.get(f"{server.endpoint}/{shared}/other.txt", headers=headers)
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("minutes", [20, -20])
def test_clock_skew(server: LiveServer, monkeypatch: pytest.MonkeyPatch, minutes: int) -> None:
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=minutes)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: skewed)
    fails(lambda: server.client("s3").list_buckets(), "RequestTimeTooSkewed", 403)


def test_small_clock_skew_is_accepted(server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: skewed)
    assert server.client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_sigv2_header_signing(server: LiveServer, shared: str) -> None:
    s3 = server.client("s3", signature_version="s3")
    assert s3.get_object(Bucket=shared, Key="readme.txt")["Body"].read() == b"read me"
    s3.put_object(Bucket=shared, Key="v2 key+ü", Body=b"v2", Metadata={"m": "1"})
    assert s3.head_object(Bucket=shared, Key="v2 key+ü")["Metadata"] == {"m": "1"}
    assert [o["Key"] for o in s3.list_objects(Bucket=shared)["Contents"]] == ["readme.txt", "v2 key+ü"]
    wrong = server.client("s3", signature_version="s3", secret_key="nope")
    fails(lambda: wrong.get_object(Bucket=shared, Key="readme.txt"), "SignatureDoesNotMatch", 403)


# ---- presigned URLs --------------------------------------------------------------------------------

SIGNATURES = ["s3", "s3v4"]


def presigner(server: LiveServer, version: str, **keys: str) -> Any:
    """A client that presigns with SigV2 ('s3', boto3's default for presigning) or SigV4 ('s3v4')."""
    return server.client("s3", signature_version=version, **keys)


def test_default_presigning_is_sigv2(server: LiveServer) -> None:
    url = server.client("s3").generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert "AWSAccessKeyId=" in url and "Signature=" in url


@pytest.mark.parametrize("version", SIGNATURES)
def test_presigned_get(http: httpx.Client, server: LiveServer, shared: str, version: str) -> None:
    url = presigner(server, version).generate_presigned_url(
        "get_object", Params={"Bucket": shared, "Key": "readme.txt"}, ExpiresIn=300
    )
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"read me"
    assert http.get(url).content == b"read me"
    ranged = http.get(url, headers={"Range": "bytes=0-3"})
    assert (ranged.status_code, ranged.content) == (206, b"read")


@pytest.mark.parametrize("version", SIGNATURES)
def test_presigned_get_with_response_overrides(
    http: httpx.Client, server: LiveServer, shared: str, version: str
) -> None:
    url = presigner(server, version).generate_presigned_url(
        "get_object",
        Params={"Bucket": shared, "Key": "readme.txt", "ResponseContentDisposition": 'attachment; filename="r.txt"'},
    )
    response = http.get(url)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="r.txt"'


@pytest.mark.parametrize("version", SIGNATURES)
def test_presigned_put(http: httpx.Client, server: LiveServer, s3: Any, bucket: str, version: str) -> None:
    key = "uploads/ü n+.bin"
    url = presigner(server, version).generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key})
    response = http.put(url, content=b"uploaded by url")
    assert response.status_code == 200, response.text
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"uploaded by url"
    # urllib sends Content-Type: application/x-www-form-urlencoded with a body; SigV2 signs Content-Type, so
    # that URL (signed for none) refuses it, as S3 would.
    request = urllib.request.Request(url, data=b"again", method="PUT")
    if version == "s3v4":
        with urllib.request.urlopen(request, timeout=10) as reply:
            assert reply.status == 200
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"again"
    else:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 403
        caught.value.close()


@pytest.mark.parametrize("version", SIGNATURES)
def test_presigned_url_is_bound_to_its_request(
    http: httpx.Client, server: LiveServer, shared: str, version: str
) -> None:
    url = presigner(server, version).generate_presigned_url(
        "get_object", Params={"Bucket": shared, "Key": "readme.txt"}
    )
    other = url.replace("/readme.txt?", "/other.txt?")
    response = http.get(other)
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")
    response = http.put(url, content=b"x")
    assert (response.status_code, error_code(response)) == (403, "SignatureDoesNotMatch")


@pytest.mark.parametrize("version", SIGNATURES)
def test_presigned_url_with_unknown_key(http: httpx.Client, server: LiveServer, shared: str, version: str) -> None:
    client = presigner(server, version, access_key="AKIANOSUCHKEY0000000", secret_key="x")
    url = client.generate_presigned_url("get_object", Params={"Bucket": shared, "Key": "readme.txt"})
    response = http.get(url)
    assert (response.status_code, error_code(response)) == (403, "InvalidAccessKeyId")


def test_expired_presigned_urls(
    http: httpx.Client, server: LiveServer, shared: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Presign an hour ago for a minute: SigV4 takes its time from get_current_datetime, SigV2 from time.time.
    hour_ago = time.time() - 3600
    monkeypatch.setattr(botocore.auth, "time", types.SimpleNamespace(time=lambda: hour_ago))
    then = dt.datetime.fromtimestamp(hour_ago, dt.UTC).replace(tzinfo=None)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *args, **kwargs: then)
    urls = [
        presigner(server, version).generate_presigned_url(
            "get_object", Params={"Bucket": shared, "Key": "readme.txt"}, ExpiresIn=60
        )
        for version in SIGNATURES
    ]
    assert "Expires=" in urls[0] and "X-Amz-Expires=60" in urls[1]
    for url in urls:
        response = http.get(url)
        assert (response.status_code, error_code(response)) == (403, "AccessDenied")
        assert "expired" in response.text


def test_presigned_expiry_longer_than_a_week(http: httpx.Client, server: LiveServer, shared: str) -> None:
    url = presigner(server, "s3v4").generate_presigned_url(
        "get_object", Params={"Bucket": shared, "Key": "readme.txt"}, ExpiresIn=8 * 24 * 3600
    )
    response = http.get(url)
    assert (response.status_code, error_code(response)) == (403, "AuthorizationQueryParametersError")


# ---- read-only keys --------------------------------------------------------------------------------


def test_read_only_key_reads(http: httpx.Client, server: LiveServer, read_only: dict[str, str], shared: str) -> None:
    s3 = server.client("s3", access_key=read_only["AccessKeyId"], secret_key=read_only["SecretAccessKey"])
    assert shared in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=shared)["Contents"]] == ["readme.txt"]
    assert [o["Key"] for o in s3.list_objects(Bucket=shared)["Contents"]] == ["readme.txt"]
    assert s3.get_object(Bucket=shared, Key="readme.txt")["Body"].read() == b"read me"
    assert s3.head_object(Bucket=shared, Key="readme.txt")["ContentLength"] == 7
    s3.head_bucket(Bucket=shared)
    assert s3.get_bucket_location(Bucket=shared)["LocationConstraint"] is None
    url = s3.generate_presigned_url("get_object", Params={"Bucket": shared, "Key": "readme.txt"})
    assert http.get(url).content == b"read me"


def test_read_only_key_cannot_write(
    http: httpx.Client, server: LiveServer, read_only: dict[str, str], s3: Any, shared: str
) -> None:
    ro = server.client("s3", access_key=read_only["AccessKeyId"], secret_key=read_only["SecretAccessKey"])
    writes = [
        lambda: ro.put_object(Bucket=shared, Key="new", Body=b"x" * 1000),
        lambda: ro.put_object(Bucket=shared, Key="new", Body=b""),
        lambda: ro.delete_object(Bucket=shared, Key="readme.txt"),
        lambda: ro.delete_objects(Bucket=shared, Delete={"Objects": [{"Key": "readme.txt"}]}),
        lambda: ro.create_bucket(Bucket=f"{shared}-ro"),
        lambda: ro.delete_bucket(Bucket=shared),
        lambda: ro.copy_object(Bucket=shared, Key="copy", CopySource=f"{shared}/readme.txt"),
        lambda: ro.create_multipart_upload(Bucket=shared, Key="mp"),
        lambda: ro.put_bucket_notification_configuration(Bucket=shared, NotificationConfiguration={}),
    ]
    for write in writes:
        fails(write, "AccessDenied", 403)
    url = ro.generate_presigned_url("put_object", Params={"Bucket": shared, "Key": "new"})
    response = http.put(url, content=b"x")
    assert (response.status_code, error_code(response)) == (403, "AccessDenied")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=shared)["Contents"]] == ["readme.txt"]
    assert f"{shared}-ro" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_cli_key_works_with_a_fresh_boto3_session(server: LiveServer, read_only: dict[str, str]) -> None:
    session = boto3.session.Session(
        aws_access_key_id=read_only["AccessKeyId"], aws_secret_access_key=read_only["SecretAccessKey"]
    )
    client = session.client("s3", endpoint_url=server.endpoint, region_name="eu-central-1", config=Config())
    assert client.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
