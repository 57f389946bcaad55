"""Garbage at the gateway: whatever arrives, the answer is never a 500 and the server keeps working.

Most examples run in-process (httpx.ASGITransport over create_asgi_app) for speed, both unsigned and signed
with botocore's SigV4 so that they get past authentication into the handlers; a smaller sample goes to the
real `alto serve` process.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import string
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from altostratus.app import Platform, build_platform, create_asgi_app
from altostratus.auth.keys import AccessKey, Role
from altostratus.core.settings import Settings
from altostratus.lake.objects import ObjectMeta
from tests.api.raw import build_signed
from tests.live_server import LiveServer

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    database=None,
)
PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))

# ---- strategies ---------------------------------------------------------------------------------------

# fmt: off
methods = st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"] * 3 + ["PATCH", "OPTIONS"]) | st.text(
    string.ascii_uppercase, min_size=1, max_size=8
)
segments = st.one_of(
    st.sampled_from(["fuzz", "nosuch", "obj", "dir", "a", "UPPER", "xn--x", "_alto", "health", "", "..", "."]),
    st.sampled_from(["%", "%zz", "%C3", "%00", "%2F", "%25", "%E2%82", "%FF%FE", "%0D%0A", "a%20b", "+", "~", ";"]),
    st.text(max_size=20).map(lambda s: quote(s, safe="")),
    st.text(st.sampled_from(PRINTABLE.replace("?", "").replace("#", "").replace(" ", "")), max_size=20),
    st.sampled_from(["k" * 1100, "€" * 400, "%E2%82%AC" * 350]).map(lambda s: quote(s, safe="%")),
)
# Paths and sub-resources that name real operations, so that many examples reach the handlers.
S3_PATHS = [
    "/", "/fuzz", "/fuzz/", "/fuzz/obj", "/fuzz/new", "/fuzz/dir/sub", "/fuzz/obj%00", "/nosuch", "/nosuch/obj",
    "/new-bucket", "/fuzz/" + "k" * 1100,
]
SUBRESOURCES = [
    "", "", "uploads", "uploadId=UPLOAD", "uploadId=UPLOAD&partNumber=1", "uploadId=UPLOAD&partNumber=2",
    "delete", "notification", "list-type=2", "location", "uploadId=nosuch&partNumber=1",
]
paths = st.sampled_from(S3_PATHS) | st.lists(segments, max_size=4).map(lambda parts: "/" + "/".join(parts))
query_keys = st.sampled_from(
    [
        "uploads", "uploadId", "partNumber", "list-type", "prefix", "delimiter", "max-keys", "marker",
        "start-after", "continuation-token", "encoding-type", "delete", "notification", "location", "versionId",
        "max-parts", "part-number-marker", "response-content-type", "response-content-disposition",
        "response-expires", "acl", "tagging", "x-id", "fetch-owner", "max-uploads", "X-Amz-Algorithm",
        "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
        "X-Amz-Content-Sha256", "AWSAccessKeyId", "Signature", "Expires",
    ]
) | st.text(max_size=10)
values = st.one_of(
    st.sampled_from(
        [
            "", "-1", "0", "1", "2", "10001", "99999999999999999999999", "url", "base64", "%", "%zz", "€",
            "AWS4-HMAC-SHA256", "a/b", "bytes=0-1", "2", "true", "\x00", "\r\n", "é", "ZXhhbXBsZQ==", "-",
            "99991231T235959Z", "00010101T000000Z", "20260101T000000Z", "604800",
            "AKIA/20260101/us-east-1/s3/aws4_request", "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
        ]
    ),
    st.text(max_size=30),
)
header_names = st.sampled_from(
    [
        "range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "content-md5",
        "content-type", "x-amz-content-sha256", "x-amz-date", "date", "authorization", "x-amz-copy-source",
        "x-amz-metadata-directive", "x-amz-meta-fuzz", "x-amz-checksum-crc32", "x-amz-checksum-sha256",
        "x-amz-checksum-crc64nvme", "x-amz-checksum-type", "x-amz-trailer", "x-amz-decoded-content-length",
        "content-encoding", "content-length", "x-amz-checksum-mode", "expect", "x-amz-target", "cache-control",
        "content-disposition", "expires", "x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match",
        "x-amz-copy-source-if-modified-since", "x-amz-sdk-checksum-algorithm", "x-amz-storage-class", "x-amz-acl",
        "x-amz-tagging", "transfer-encoding",
    ]
)
header_values = st.one_of(
    st.sampled_from(
        [
            "", "bytes=0-0", "bytes=-1", "bytes=5-", "bytes=9999999999999999999-", "bytes=1-0", "bytes=0-1,2-3", "*",
            '"d41d8cd98f00b204e9800998ecf8427e"', "Mon, 01 Jan 99999999999999999999 00:00:00 GMT",
            "Thu, 01 Jan 1970 00:00:00 GMT", "fuzz/obj", "/fuzz/obj?versionId=1", "nosuch/x", "fuzz", "%", "%zz/%",
            "REPLACE", "COPY", "aws-chunked", "aws-chunked,gzip", "gzip", "100-continue",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "UNSIGNED-PAYLOAD",
            "x-amz-checksum-crc32", "x-amz-checksum-md5", "-5", "abc", "99999999999999999999",
            "1B2M2Y8AsgTpgAmY7PhCfg==", "AAAAAA==",
            "AWS4-HMAC-SHA256 Credential=a/b/c/s3/aws4_request, SignedHeaders=host, Signature=é", "AWS x:y",
            "AWS ", "Bearer x", "AWS4-HMAC-SHA256", "ENABLED", "ü", "\u00ff\u00fe",
        ]
    ),
    st.text(st.sampled_from(PRINTABLE), max_size=40),
    st.text(st.characters(min_codepoint=0xA0, max_codepoint=0xFF), max_size=10),
).filter(lambda v: v.isascii() or all(ord(c) < 256 for c in v))
header_maps = st.dictionaries(header_names, header_values, max_size=6)

XML_DOCS = [
    b'<?xml version="1.0" encoding="UTF-8"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Object><Key>obj</Key></Object><Object><Key>a&amp;b</Key></Object><Quiet>false</Quiet></Delete>",
    b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part>'
    b"<Part><PartNumber>2</PartNumber><ETag>y</ETag></Part></CompleteMultipartUpload>",
    b"<NotificationConfiguration><CloudFunctionConfiguration><Id>i</Id><CloudFunction>arn:f</CloudFunction>"
    b"<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule><Name>prefix</Name><Value>p</Value>"
    b"</FilterRule></S3Key></Filter></CloudFunctionConfiguration></NotificationConfiguration>",
    b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Delete>&b;</Delete>',
]
xml_bodies = st.one_of(
    st.sampled_from(XML_DOCS).flatmap(lambda doc: st.integers(0, len(doc)).map(lambda n: doc[:n])),
    st.tuples(st.sampled_from(XML_DOCS), st.binary(max_size=20), st.integers(0, 300)).map(
        lambda t: t[0][: t[2]] + t[1] + t[0][t[2] :]
    ),
)
chunk = st.tuples(
    st.one_of(st.integers(0, 40).map(lambda n: f"{n:x}"), st.sampled_from(["-5", "zz", "", "ffffffff", " 3"])),
    st.text(st.sampled_from(PRINTABLE + "é"), max_size=70),
    st.binary(max_size=40),
    st.sampled_from([b"\r\n", b"\n", b""]),
)
chunked_bodies = st.tuples(
    st.lists(chunk, max_size=4),
    st.sampled_from([b"0\r\n\r\n", b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", b"0\r\nbad trailer", b"", b"0;x"]),
).map(
    lambda t: (
        b"".join(f"{size};chunk-signature={sig}\r\n".encode() + data + end for size, sig, data, end in t[0]) + t[1]
    )
)
bodies = st.one_of(st.just(b""), st.binary(max_size=300), xml_bodies, chunked_bodies)
payload_hashes = st.sampled_from(
    [
        None, None, None, "UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "0" * 64, "é" * 64,
    ]
)

# fmt: on


@st.composite
def queries(draw: st.DrawFn, *, canonical: bool) -> str:
    """A query string; canonical ones are percent-encoded exactly as SigV4 signs them."""
    pairs = draw(st.lists(st.tuples(query_keys, values), max_size=4))
    if canonical:
        items = [f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs]
    else:
        items = [f"{_loose(k)}={_loose(v)}" if draw(st.booleans()) else quote(k) for k, v in pairs]
    return "&".join(filter(None, [draw(st.sampled_from(SUBRESOURCES)), *items]))


def _loose(text: str) -> str:
    """Text as it may appear in a URL unencoded: printable ASCII kept (garbage like '%zz' included)."""
    return "".join(c if c.isascii() and c.isprintable() and c not in "# " else quote(c) for c in text)


# ---- the in-process platform ----------------------------------------------------------------------------


class InProcess:
    """The gateway over a real platform in a temporary directory, driven through httpx.ASGITransport."""

    def __init__(self, tmp: Path) -> None:
        settings = Settings.load({}, config_file=tmp / "absent.toml", data_dir=tmp / "data")
        self.platform: Platform = build_platform(settings)
        self.key: AccessKey = self.platform.keys.create(Role.ADMIN)
        self.loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=create_asgi_app(self.platform))
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30)
        self.platform.lake.create_bucket("fuzz")
        self.upload_id = ""
        self.restore()

    def restore(self) -> None:
        """(Re)write fuzz/obj and start a fresh upload to it: signed garbage may delete the one and abort the other."""
        writer = self.platform.lake.object_writer("fuzz", "obj", ObjectMeta("text/plain"))
        writer.write(b"0123456789")
        writer.commit()
        self.upload_id = self.platform.multipart.create("fuzz", "obj", ObjectMeta()).upload_id

    def send(self, request: httpx.Request) -> httpx.Response:
        """Send the request through the ASGI app and read the whole response."""

        async def go() -> httpx.Response:
            response = await self.client.send(request)
            await response.aread()
            return response

        return self.loop.run_until_complete(go())

    def signed(
        self, method: str, url: str, headers: dict[str, str], body: bytes, payload_hash: str | None
    ) -> httpx.Request:
        """The request, signed with the admin key by botocore."""
        return build_signed(
            self.client,
            method,
            url,
            access_key=self.key.access_key_id,
            secret_key=self.key.secret_access_key,
            headers=headers,
            body=body,
            payload_hash=payload_hash,
        )

    def close(self) -> None:
        """Close the client, the loop and the platform."""
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()
        self.platform.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    """One in-process gateway for the module's examples."""
    running = InProcess(tmp_path_factory.mktemp("fuzz"))
    yield running
    running.close()


def target(base: str, path: str, query: str, upload_id: str) -> httpx.URL:
    """The URL with its path and query exactly as drawn (no normalisation), UPLOAD naming a real upload."""
    raw = path + ("?" + query.replace("UPLOAD", upload_id) if query else "")
    return httpx.URL(base).copy_with(raw_path=raw.encode())


def check(response: httpx.Response, method: str) -> None:
    """Never a 500; an error with a body is a well-formed S3 error document."""
    assert response.status_code != 500, response.text
    assert response.status_code < 500 or response.status_code == 501, response.text
    if response.status_code < 400 or method == "HEAD" or not response.content:
        return
    if "json" in response.headers.get("content-type", ""):
        # Unsigned requests with X-Amz-Target are taken for json-protocol services.
        assert json.loads(response.content)["__type"]
        return
    root = ET.fromstring(response.content)
    assert root.tag == "Error"
    assert root.findtext("Code")


def body_headers(headers: dict[str, str], body: bytes, chunked: bool) -> dict[str, str]:
    """Headers that make an aws-chunked body look like one."""
    if chunked:
        return {**headers, "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(body))}
    return headers


def still_healthy(send: Any, signed: Any) -> None:
    """The health check answers and a signed PUT then GET round-trips."""
    assert send("GET", "/_alto/health").json() == {"status": "ok"}
    assert signed("PUT", "/fuzz/after-fuzz", b"still here").status_code == 200
    assert signed("GET", "/fuzz/after-fuzz", b"").content == b"still here"


@settings(FUZZ, max_examples=250)
@given(method=methods, path=paths, query=queries(canonical=False), headers=header_maps, body=bodies)
def test_unsigned_garbage(
    app: InProcess, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> None:
    url = target("http://testserver", path, query, app.upload_id)
    encoded = {k: v.encode("latin-1") for k, v in headers.items()}
    request = app.client.build_request(method, url, headers=encoded, content=body)
    check(app.send(request), method)


@settings(FUZZ, max_examples=350)
@given(
    method=methods,
    path=paths,
    query=queries(canonical=True),
    headers=st.dictionaries(
        header_names.filter(lambda n: n not in ("authorization", "x-amz-date", "date", "x-amz-content-sha256")),
        header_values.filter(lambda v: v.isascii() and v.isprintable()),
        max_size=6,
    ),
    body=bodies,
    chunked=st.booleans(),
    payload_hash=payload_hashes,
)
def test_signed_garbage(
    app: InProcess,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    chunked: bool,
    payload_hash: str | None,
) -> None:
    url = str(target("http://testserver", path, query, app.upload_id))
    request = app.signed(method, url, body_headers(headers, body, chunked), body, payload_hash)
    check(app.send(request), method)


# Requests the fuzzing turned up (or that sit next to them), kept as fixed cases: signed with the admin key.
FAR_FUTURE = "Mon, 01 Jan 99999999999999999999 00:00:00 GMT"
REGRESSIONS = {
    "non-latin-1 response override": ("GET", "/fuzz/obj", "response-content-type=%E2%82%AC", {}, b"", None, 400),
    "line break in response override": ("GET", "/fuzz/obj", "response-content-type=a%0D%0Ab", {}, b"", None, 400),
    "marker past the parts": ("GET", "/fuzz/obj", "uploadId=UPLOAD&part-number-marker=9", {}, b"", None, 200),
    "part-number-marker past 2**31": (
        "GET", "/fuzz/obj", "uploadId=UPLOAD&part-number-marker=99999999999999999999999", {}, b"", None, 400,
    ),
    "negative max-parts": ("GET", "/fuzz/obj", "uploadId=UPLOAD&max-parts=-1", {}, b"", None, 400),
    "year past 9999 in If-Modified-Since": ("GET", "/fuzz/obj", "", {"if-modified-since": FAR_FUTURE}, b"", None, 200),
    "year past 9999 in a copy condition": (
        "PUT", "/fuzz/copy", "", {"x-amz-copy-source": "fuzz/obj", "x-amz-copy-source-if-unmodified-since": FAR_FUTURE},
        b"", None, 200,
    ),
    "non-ASCII payload hash": ("PUT", "/fuzz/k", "", {}, b"x", "é" * 64, 400),
    "non-ASCII chunk signature": (
        "PUT", "/fuzz/k", "", {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": "5"},
        "5;chunk-signature=é\r\nhello\r\n0;chunk-signature=x\r\n\r\n".encode("latin-1"),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 403,
    ),
    "negative chunk size": (
        "PUT", "/fuzz/k", "", {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": "1"},
        b"-2\r\nx\r\n0\r\n\r\n", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", 400,
    ),
    "negative Content-Length": ("PUT", "/fuzz/k", "", {"content-length": "-5"}, b"", None, 400),
    "stray X-Amz-Target on an S3 request": ("PATCH", "/fuzz", "", {"x-amz-target": "S3.Nothing"}, b"", None, 405),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REGRESSIONS))
def test_known_garbage_signed(app: InProcess, case: str) -> None:
    method, path, query, headers, body, payload_hash, status = REGRESSIONS[case]
    app.restore()
    url = str(target("http://testserver", path, query, app.upload_id))
    response = app.send(app.signed(method, url, headers, body, payload_hash))
    check(response, method)
    assert response.status_code == status, response.text
    if status >= 400:
        assert "xml" in response.headers["content-type"]


def test_known_garbage_unsigned(app: InProcess) -> None:
    key = app.key.access_key_id
    today = dt.datetime.now(dt.UTC)
    credential = f"{key}/{today:%Y%m%d}/us-east-1/s3/aws4_request"
    far_credential = f"{key}/99991231/us-east-1/s3/aws4_request"
    cases = {
        # A control character in the path must not make the error document malformed XML.
        ("GET", "/fuzz/%00%1F", ()): (403, "AccessDenied"),
        # hmac.compare_digest refuses non-ASCII text: a signature holding some is simply wrong.
        (
            "GET",
            "/fuzz/obj",
            (
                ("authorization", f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=é"),
                ("x-amz-date", f"{today:%Y%m%dT%H%M%SZ}"),
            ),
        ): (403, "SignatureDoesNotMatch"),
        (
            "GET",
            f"/fuzz/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={quote(credential, safe='')}"
            f"&X-Amz-Date={today:%Y%m%dT%H%M%SZ}&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=%C3%A9",
            (),
        ): (403, "SignatureDoesNotMatch"),
        (
            "GET",
            f"/fuzz/obj?AWSAccessKeyId={key}&Expires={int(today.timestamp()) + 3600}&Signature=%C3%A9",
            (),
        ): (403, "SignatureDoesNotMatch"),
        # A SigV2 URL valid for centuries is refused as SigV4's X-Amz-Expires past a week is.
        (
            "GET",
            f"/fuzz/obj?AWSAccessKeyId={key}&Expires=99999999999&Signature=%C3%A9",
            (),
        ): (403, "AuthorizationQueryParametersError"),
        # Adding the expiry to a date at the end of year 9999 overflowed.
        (
            "GET",
            f"/fuzz/obj?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={quote(far_credential, safe='')}"
            "&X-Amz-Date=99991231T235959Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
            (),
        ): (403, "RequestTimeTooSkewed"),
        ("GET", "/fuzz/obj", (("authorization", "AWS " + key + ":x"), ("date", FAR_FUTURE))): (403, "AccessDenied"),
        ("GET", "/fuzz/obj", (("authorization", "   "),)): (400, "InvalidArgument"),
    }
    for (method, path, headers), (status, code) in cases.items():
        url = httpx.URL("http://testserver").copy_with(raw_path=path.encode())
        request = app.client.build_request(method, url, headers=[(k, v.encode("latin-1")) for k, v in headers])
        response = app.send(request)
        check(response, method)
        assert (response.status_code, ET.fromstring(response.content).findtext("Code")) == (status, code), path


def test_in_process_gateway_still_healthy(app: InProcess) -> None:
    def send(method: str, path: str) -> httpx.Response:
        return app.send(app.client.build_request(method, f"http://testserver{path}"))

    def signed(method: str, path: str, body: bytes) -> httpx.Response:
        return app.send(app.signed(method, f"http://testserver{path}", {}, body, None))

    still_healthy(send, signed)


# ---- the live server ----------------------------------------------------------------------------------


@settings(FUZZ, max_examples=60)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD"]),
    path=paths,
    query=queries(canonical=True),
    headers=st.dictionaries(
        header_names.filter(lambda n: n not in ("content-length", "transfer-encoding", "expect")),
        header_values.filter(lambda v: v.isascii() and v.isprintable() and v == v.strip()),
        max_size=5,
    ),
    body=bodies,
    sign=st.booleans(),
)
def test_live_server_garbage(
    server: LiveServer,
    http: httpx.Client,
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    sign: bool,
) -> None:
    url = str(target(server.endpoint, path, query, "nosuch"))
    if sign:
        clean = {k: v for k, v in headers.items() if k not in ("authorization", "x-amz-date", "date")}
        request = build_signed(
            http, method, url, access_key=server.access_key, secret_key=server.secret_key, headers=clean, body=body
        )
    else:
        request = http.build_request(method, url, headers=headers, content=body)
    check(http.send(request), method)


def test_live_server_still_healthy(server: LiveServer, http: httpx.Client, s3: Any) -> None:
    assert server.process is not None and server.process.poll() is None
    assert http.get(f"{server.endpoint}/_alto/health").json() == {"status": "ok"}
    s3.create_bucket(Bucket="after-fuzz")
    s3.put_object(Bucket="after-fuzz", Key="k", Body=b"still here")
    assert s3.get_object(Bucket="after-fuzz", Key="k")["Body"].read() == b"still here"
