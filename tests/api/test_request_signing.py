"""What a signature binds: the body of a non-S3 request, the day of its credential scope, a presigned URL's life."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.api.errors import error_code
from tests.api.raw import service_signed_headers
from tests.functions.wheels import make_zip
from tests.live_server import LiveServer

ROLE = "arn:aws:iam::000000000000:role/test"
ECHO = make_zip({"app.py": "def handler(event, context):\n    return event\n"})
OLD_DAY = "20200101"


@pytest.fixture(scope="module")
def echo(server: LiveServer) -> str:
    """A function that answers with the event it was given."""
    name = "signing-echo"
    server.client("lambda", read_timeout=120).create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": ECHO}
    )
    return name


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_invoke(server: LiveServer, name: str, body: bytes) -> tuple[str, dict[str, str]]:
    """An Invoke URL and the headers boto3's signer sends for it with this body."""
    url = f"{server.endpoint}/2015-03-31/functions/{name}/invocations"
    keys = {"access_key": server.access_key, "secret_key": server.secret_key}
    return url, service_signed_headers("POST", url, "lambda", body=body, **keys)


# ---- the body of a non-S3 request ----------------------------------------------------------------------


def test_a_signed_invoke_resent_with_another_body_is_refused(http: httpx.Client, server: LiveServer, echo: str) -> None:
    signed, other = b'{"amount": 1}', b'{"amount": 1000000}'
    url, headers = signed_invoke(server, echo, signed)
    answer = http.post(url, content=signed, headers=headers)
    assert (answer.status_code, answer.json()) == (200, {"amount": 1})

    # The attack: the captured signature, another body, and the signed body's hash declared in the header that
    # S3 reads the payload hash from.
    forged = http.post(url, content=other, headers={**headers, "x-amz-content-sha256": sha256(signed)})
    assert (forged.status_code, forged.headers["x-amzn-errortype"]) == (403, "SignatureDoesNotMatch")
    assert sha256(signed) in forged.json()["message"] and sha256(other) in forged.json()["message"]
    # Without the header the other body's own hash does not match the signature either.
    plain = http.post(url, content=other, headers=headers)
    assert (plain.status_code, plain.headers["x-amzn-errortype"]) == (403, "SignatureDoesNotMatch")
    # A declared hash that is the body's own is no trouble.
    declared = http.post(url, content=signed, headers={**headers, "x-amz-content-sha256": sha256(signed)})
    assert (declared.status_code, declared.json()) == (200, {"amount": 1})


@pytest.mark.parametrize("declared", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
def test_a_non_s3_request_cannot_declare_its_body_unsigned(
    http: httpx.Client, server: LiveServer, echo: str, declared: str
) -> None:
    url, headers = signed_invoke(server, echo, b'{"a": 1}')
    response = http.post(url, content=b'{"a": 2}', headers={**headers, "x-amz-content-sha256": declared})
    assert (response.status_code, response.headers["x-amzn-errortype"]) == (403, "SignatureDoesNotMatch")


def test_a_presigned_lambda_url_is_bound_to_its_body(http: httpx.Client, server: LiveServer, echo: str) -> None:
    # botocore presigns a non-S3 request over an empty body (it moves body members into the query string), and
    # signs that body's hash, not UNSIGNED-PAYLOAD as for S3: a body sent with the URL is one it was not signed for.
    lam = server.client("lambda")
    url = lam.generate_presigned_url("invoke", Params={"FunctionName": echo})
    assert "X-Amz-Signature=" in url
    answer = http.post(url)
    assert (answer.status_code, answer.json()) == (200, {})
    forged = http.post(url, content=b'{"n": 8}')
    assert (forged.status_code, forged.headers["x-amzn-errortype"]) == (403, "SignatureDoesNotMatch")
    listing = http.get(lam.generate_presigned_url("list_functions"))
    assert listing.status_code == 200 and echo in {f["FunctionName"] for f in listing.json()["Functions"]}


def test_an_s3_body_is_checked_against_its_declared_hash_as_it_streams(
    http: httpx.Client, server: LiveServer, s3: Any, bucket: str
) -> None:
    url = f"{server.endpoint}/{bucket}/streamed"
    signed, sent = b"a" * (3 * 1024 * 1024), b"a" * (3 * 1024 * 1024 - 1) + b"b"
    keys = {"access_key": server.access_key, "secret_key": server.secret_key}
    headers = dict(_sign(S3SigV4Auth, "PUT", url, signed, **keys).headers.items())
    assert headers["X-Amz-Content-SHA256"] == sha256(signed)
    response = http.put(url, content=sent, headers=headers)
    assert (response.status_code, error_code(response)) == (400, "XAmzContentSHA256Mismatch")
    assert "streamed" not in {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}


# ---- the credential scope's date ----------------------------------------------------------------------


class _OldScopeHeader(S3SigV4Auth):
    """botocore's S3 signer with a credential scope (and signing key) for OLD_DAY, and X-Amz-Date of now.

    That is what a signing key leaked on OLD_DAY (it is valid for that day only) would let a thief sign.
    """

    def credential_scope(self, request: Any) -> str:
        return f"{OLD_DAY}/{self._region_name}/{self._service_name}/aws4_request"

    def scope(self, request: Any) -> str:
        return f"{self.credentials.access_key}/{self.credential_scope(request)}"

    def signature(self, string_to_sign: str, request: Any) -> str:
        key = self._sign(("AWS4" + self.credentials.secret_key).encode(), OLD_DAY)
        for part in (self._region_name, self._service_name, "aws4_request"):
            key = self._sign(key, part)
        return str(self._sign(key, string_to_sign, hex=True))


class _OldScopeQuery(_OldScopeHeader, S3SigV4QueryAuth):
    """The same for a presigned URL."""


def _sign(signer: type[Any], method: str, url: str, body: bytes = b"", **keys: str) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body)
    signer(Credentials(keys["access_key"], keys["secret_key"]), "s3", "us-east-1").add_auth(request)
    return request


def test_a_credential_scope_for_another_day_is_refused(http: httpx.Client, server: LiveServer, s3: Any) -> None:
    s3.create_bucket(Bucket="scope-dates")
    s3.put_object(Bucket="scope-dates", Key="k", Body=b"secret")
    url = f"{server.endpoint}/scope-dates/k"
    keys = {"access_key": server.access_key, "secret_key": server.secret_key}

    request = _sign(_OldScopeHeader, "GET", url, **keys)
    assert f"/{OLD_DAY}/us-east-1/s3/aws4_request" in request.headers["Authorization"]
    assert request.headers["X-Amz-Date"].startswith(dt.datetime.now(dt.UTC).strftime("%Y%m%d"))
    response = http.get(url, headers=dict(request.headers.items()))
    assert (response.status_code, error_code(response)) == (400, "AuthorizationHeaderMalformed")
    assert OLD_DAY in response.text and "X-Amz-Date" in response.text

    presigned = _sign(_OldScopeQuery, "GET", url, **keys).url
    assert f"%2F{OLD_DAY}%2F" in urlsplit(presigned).query
    response = http.get(presigned)
    assert (response.status_code, error_code(response)) == (400, "AuthorizationQueryParametersError")
    assert http.get(s3.generate_presigned_url("get_object", Params={"Bucket": "scope-dates", "Key": "k"})).content == (
        b"secret"
    )


@pytest.mark.parametrize("credential_date", ["2026-1-01", "2026010x", "202601011"])
def test_a_credential_date_not_of_the_form_yyyymmdd_is_malformed(
    http: httpx.Client, server: LiveServer, credential_date: str
) -> None:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    credential = f"{server.access_key}/{credential_date}/us-east-1/s3/aws4_request"
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=00",
        "x-amz-date": stamp,
    }
    response = http.get(f"{server.endpoint}/", headers=headers)
    assert (response.status_code, error_code(response)) == (400, "AuthorizationHeaderMalformed")


# ---- SigV2 presigned URLs live a week at most, as SigV4's do ---------------------------------------------


def test_a_sigv2_url_valid_for_more_than_a_week_is_refused(http: httpx.Client, server: LiveServer, s3: Any) -> None:
    s3.create_bucket(Bucket="v2-expiry")
    s3.put_object(Bucket="v2-expiry", Key="k", Body=b"data")
    presigner = server.client("s3", signature_version="s3")
    params = {"Bucket": "v2-expiry", "Key": "k"}
    long_lived = presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=30 * 24 * 3600)
    assert "Expires=" in long_lived and "AWSAccessKeyId=" in long_lived
    response = http.get(long_lived)
    # 403, as S3 answers an X-Amz-Expires past a week (ceph s3-tests check the status).
    assert (response.status_code, error_code(response)) == (403, "AuthorizationQueryParametersError")
    assert "604800" in response.text
    a_week = presigner.generate_presigned_url("get_object", Params=params, ExpiresIn=7 * 24 * 3600)
    assert http.get(a_week).content == b"data"
