"""S3's POST Object (browser form uploads): forms made by boto3's generate_presigned_post, sent with httpx."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import subprocess
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.api.errors import error_code
from tests.live_server import ALTO, LiveServer


@pytest.fixture(params=["s3v4", "s3"])
def signer(server: LiveServer, request: pytest.FixtureRequest) -> Any:
    """A client whose generate_presigned_post signs with SigV4 (x-amz-signature) or SigV2 (signature)."""
    return server.client("s3", signature_version=request.param)


def post(
    http: httpx.Client, form: dict[str, Any], body: bytes = b"hello form", *, filename: str = "local.txt", **extra: str
) -> httpx.Response:
    """The form sent as a browser sends it: its fields, extra fields, then the file."""
    fields = {**form["fields"], **extra}
    return http.post(form["url"], data=fields, files={"file": (filename, body, "application/octet-stream")})


def message(response: httpx.Response) -> str:
    """The <Message> of an S3 XML error."""
    found = ET.fromstring(response.content).find("Message")
    return found.text or "" if found is not None else ""


def test_upload_with_metadata(http: httpx.Client, s3: Any, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(
        bucket,
        "forms/hello.txt",
        Fields={"Content-Type": "text/plain", "x-amz-meta-owner": "ada"},
        Conditions=[{"Content-Type": "text/plain"}, {"x-amz-meta-owner": "ada"}, ["content-length-range", 1, 100]],
    )
    sent = post(http, form)
    assert sent.status_code == 204, sent.text
    got = s3.get_object(Bucket=bucket, Key="forms/hello.txt")
    assert got["Body"].read() == b"hello form"
    assert (got["ContentType"], got["Metadata"]) == ("text/plain", {"owner": "ada"})
    assert sent.headers["etag"] == got["ETag"] == f'"{hashlib.md5(b"hello form").hexdigest()}"'
    assert sent.headers["location"].endswith(f"/{bucket}/forms/hello.txt")


def test_filename_substitution_and_201(http: httpx.Client, s3: Any, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(
        bucket,
        "uploads/${filename}",
        Fields={"success_action_status": "201"},
        Conditions=[{"success_action_status": "201"}],
    )
    sent = post(http, form, b"photo", filename="cat.jpg")
    assert sent.status_code == 201, sent.text
    answer = ET.fromstring(sent.content)
    assert answer.tag == "PostResponse"
    assert (answer.findtext("Bucket"), answer.findtext("Key")) == (bucket, "uploads/cat.jpg")
    assert answer.findtext("ETag") == f'"{hashlib.md5(b"photo").hexdigest()}"'
    assert s3.get_object(Bucket=bucket, Key="uploads/cat.jpg")["Body"].read() == b"photo"


def test_status_200_and_unknown_statuses(http: httpx.Client, signer: Any, bucket: str) -> None:
    for status, expected in (("200", 200), ("404", 204)):
        form = signer.generate_presigned_post(
            bucket,
            f"s{status}",
            Fields={"success_action_status": status},
            Conditions=[{"success_action_status": status}],
        )
        sent = post(http, form)
        assert (sent.status_code, sent.content) == (expected, b"")


def test_redirect(http: httpx.Client, s3: Any, signer: Any, bucket: str) -> None:
    back = "https://app.example.com/done?from=form"
    form = signer.generate_presigned_post(
        bucket,
        "r.txt",
        Fields={"success_action_redirect": back},
        Conditions=[["starts-with", "$success_action_redirect", "https://app.example.com/"]],
    )
    sent = post(http, form)
    assert sent.status_code == 303, sent.text
    target = urlsplit(sent.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == "https://app.example.com/done"
    etag = s3.head_object(Bucket=bucket, Key="r.txt")["ETag"]
    assert parse_qs(target.query) == {"from": ["form"], "bucket": [bucket], "key": ["r.txt"], "etag": [etag]}


def test_tagging_and_acl(http: httpx.Client, s3: Any, signer: Any, bucket: str) -> None:
    tagging = "<Tagging><TagSet><Tag><Key>team</Key><Value>ml</Value></Tag></TagSet></Tagging>"
    form = signer.generate_presigned_post(
        bucket,
        "tagged",
        Fields={"tagging": tagging, "acl": "public-read"},
        Conditions=[{"tagging": tagging}, {"acl": "public-read"}],
    )
    assert post(http, form).status_code == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == [{"Key": "team", "Value": "ml"}]
    grants = s3.get_object_acl(Bucket=bucket, Key="tagged")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/AllUsers") and g["Permission"] == "READ" for g in grants)


# ---- refusals -------------------------------------------------------------------------------------


def test_extra_field_is_refused(http: httpx.Client, s3: Any, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(bucket, "extra")
    sent = post(http, form, **{"x-amz-meta-sneaky": "1", "x-ignore-this": "fine"})
    assert (sent.status_code, error_code(sent)) == (403, "AccessDenied")
    assert message(sent) == "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky"
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_condition_not_met(http: httpx.Client, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(bucket, "uploads/${filename}")
    sent = post(http, {**form, "fields": {**form["fields"], "key": "elsewhere/x"}})
    assert (sent.status_code, error_code(sent)) == (403, "AccessDenied")
    assert message(sent).startswith('Invalid according to Policy: Policy Condition failed: ["starts-with", "$key"')


def test_expired_policy(http: httpx.Client, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(bucket, "late", ExpiresIn=-60)
    sent = post(http, form)
    assert (sent.status_code, error_code(sent)) == (403, "AccessDenied")
    assert message(sent) == "Invalid according to Policy: Policy expired."


def test_size_range(http: httpx.Client, s3: Any, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(bucket, "sized", Conditions=[["content-length-range", 5, 10]])
    large = post(http, form, b"x" * 11)
    assert (large.status_code, error_code(large)) == (400, "EntityTooLarge")
    small = post(http, form, b"x" * 4)
    assert (small.status_code, error_code(small)) == (400, "EntityTooSmall")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert post(http, form, b"x" * 10).status_code == 204


def test_tampered_signature(http: httpx.Client, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(bucket, "tampered")
    fields = form["fields"]
    name = "x-amz-signature" if "x-amz-signature" in fields else "signature"
    tampered = {**fields, name: fields[name][::-1]}
    sent = post(http, {**form, "fields": tampered})
    assert (sent.status_code, error_code(sent)) == (403, "SignatureDoesNotMatch")
    # The policy changed after signing is refused the same way.
    policy = json.loads(base64.b64decode(fields["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if c != {"key": "tampered"}] + [{"key": "anything"}]
    widened = {**fields, "policy": base64.b64encode(json.dumps(policy).encode()).decode(), "key": "anything"}
    sent = post(http, {**form, "fields": widened})
    assert (sent.status_code, error_code(sent)) == (403, "SignatureDoesNotMatch")


def test_unknown_key(http: httpx.Client, server: LiveServer, bucket: str) -> None:
    stranger = server.client("s3", access_key="AKIANOSUCHKEY0000000", secret_key="x" * 40, signature_version="s3v4")
    sent = post(http, stranger.generate_presigned_post(bucket, "k"))
    assert (sent.status_code, error_code(sent)) == (403, "InvalidAccessKeyId")


def test_read_only_key_cannot_upload(http: httpx.Client, server: LiveServer, bucket: str) -> None:
    done = subprocess.run(
        [ALTO, "keys", "create", "--role", "read-only", "--json", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    key = json.loads(done.stdout)
    reader = server.client(
        "s3", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"], signature_version="s3v4"
    )
    sent = post(http, reader.generate_presigned_post(bucket, "ro"))
    assert (sent.status_code, error_code(sent)) == (403, "AccessDenied")
    assert "read-only" in message(sent)


def test_anonymous_form_needs_a_writable_bucket(http: httpx.Client, server: LiveServer, s3: Any, bucket: str) -> None:
    form = {"url": f"{server.endpoint}/{bucket}", "fields": {"key": "anon.txt"}}
    denied = post(http, form)
    assert (denied.status_code, error_code(denied)) == (403, "AccessDenied")
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    assert post(http, form).status_code == 204
    assert s3.get_object(Bucket=bucket, Key="anon.txt")["Body"].read() == b"hello form"


def test_malformed_forms(http: httpx.Client, server: LiveServer, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(bucket, "m")
    no_file = http.post(form["url"], files={name: (None, value) for name, value in form["fields"].items()})
    assert (no_file.status_code, error_code(no_file)) == (400, "InvalidArgument")
    no_key = post(http, {**form, "fields": {k: v for k, v in form["fields"].items() if k != "key"}})
    assert (no_key.status_code, error_code(no_key)) == (400, "InvalidArgument")
    cut = http.post(
        form["url"],
        content=b'--b\r\nContent-Disposition: form-data; name="key"\r\n\r\nm',
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert (cut.status_code, error_code(cut)) == (400, "MalformedPOSTRequest")
    unknown = signer.generate_presigned_post(
        bucket,
        "m",
        Fields={"x-amz-website-redirect-location": "/x"},
        Conditions=[{"x-amz-website-redirect-location": "/x"}],
    )
    refused = post(http, unknown)
    assert (refused.status_code, error_code(refused)) == (501, "NotImplemented")


def test_hand_written_policy_rules(http: httpx.Client, server: LiveServer, bucket: str) -> None:
    def signed(policy: dict[str, Any], **fields: str) -> dict[str, Any]:
        encoded = base64.b64encode(json.dumps(policy).encode()).decode()
        digest = hmac.new(server.secret_key.encode(), encoded.encode(), hashlib.sha1).digest()
        return {
            "url": f"{server.endpoint}/{bucket}",
            "fields": {
                "AWSAccessKeyId": server.access_key,
                "policy": encoded,
                **fields,
                "signature": base64.b64encode(digest).decode(),
            },
        }

    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    no_bucket = post(http, signed({"expiration": later, "conditions": [{"key": "a"}]}, key="a"))
    assert message(no_bucket) == "Invalid according to Policy: Extra input fields: bucket"
    mixed_case = {"expiration": later, "conditions": [{"bUcKeT": bucket}, ["StArTs-WiTh", "$KeY", "a"]]}
    assert post(http, signed(mixed_case, key="abc")).status_code == 204
    for broken in (
        {"conditions": []},
        {"expiration": later},
        {"expiration": "tomorrow", "conditions": []},
        {"expiration": later, "conditions": [{}]},
        {"expiration": later, "conditions": [["content-length-range", -1, 5]]},
    ):
        sent = post(http, signed(broken, key="a"))
        assert (sent.status_code, error_code(sent)) == (400, "InvalidPolicyDocument"), broken


def test_fields_before_the_file_are_limited(http: httpx.Client, signer: Any, bucket: str) -> None:
    form = signer.generate_presigned_post(bucket, "big-fields")
    sent = post(http, form, **{"x-ignore-padding": "p" * 21 * 1024})
    assert (sent.status_code, error_code(sent)) == (400, "MaxPostPreDataLengthExceededError")
