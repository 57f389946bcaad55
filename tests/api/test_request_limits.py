"""Credentials are checked before a body is read; bodies, and requests in flight, are capped before they pile up."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from altostratus.core.errors import ConfigurationError
from altostratus.core.settings import Settings
from tests.api.errors import fails
from tests.api.raw import read_until_closed, service_signed_headers, signed_headers
from tests.functions.wheels import make_zip
from tests.live_server import LiveServer, live_server

GIB = 1024**3
MIB = 1024**2
ROLE = "arn:aws:iam::000000000000:role/test"
Keys = dict[str, str]


def raw_exchange(server: LiveServer, head: bytes, body: bytes = b"", *, timeout: float = 10) -> tuple[bytes, float]:
    """Send a request head (and the start of a body), read until the server closes; (what came, seconds taken)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(head + body)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received, time.monotonic() - started


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def status_and_code(answer: bytes) -> tuple[int, str]:
    """The status and AWS error code of a raw answer (json __type or XML <Code>)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if body.startswith(b"{"):
        return status, str(json.loads(body)["__type"])
    text = body.decode()
    return status, text[text.find("<Code>") + 6 : text.find("</Code>")]


def signed_head(
    server: LiveServer,
    method: str,
    path: str,
    service: str,
    length: int,
    *,
    keys: dict[str, str] | None = None,
    **extra: str,
) -> bytes:
    """A head signed as boto3 signs `service` requests, declaring a body of `length` bytes (never sent)."""
    url = f"{server.endpoint}{path}"
    keys = keys or {"access_key": server.access_key, "secret_key": server.secret_key}
    headers = (
        signed_headers(method, url, headers=extra, **keys)
        if service == "s3"
        else service_signed_headers(method, url, service, headers=extra, **keys)
    )
    return request_head(method, path, {**headers, "Host": f"127.0.0.1:{server.port}", "Content-Length": str(length)})


# ---- credentials before the body ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/2015-03-31/functions/f/invocations", {}),
        ("/", {"X-Amz-Target": "AmazonML_20141212.DescribeDataSources"}),
        ("/bucket/key", {}),
    ],
)
def test_an_unsigned_gigabyte_is_refused_before_any_of_it_is_read(
    server: LiveServer, path: str, extra: dict[str, str]
) -> None:
    method = "PUT" if path == "/bucket/key" else "POST"
    head = request_head(method, path, {"Host": "x", "Content-Length": str(GIB), **extra})
    # Not a byte of the body is sent: the answer comes anyway, and the server ends the connection.
    answer, seconds = raw_exchange(server, head)
    assert status_and_code(answer) == (403, "AccessDenied")
    assert b"connection: close" in answer.lower()
    assert seconds < 5


def test_an_unknown_key_or_a_stale_date_is_refused_before_the_body(server: LiveServer) -> None:
    path = "/2015-03-31/functions/f/invocations"
    stranger = {"access_key": "AKIANOSUCHKEY0000000", "secret_key": "x"}
    head = signed_head(server, "POST", path, "lambda", GIB, keys=stranger)
    assert status_and_code(raw_exchange(server, head)[0]) == (403, "InvalidAccessKeyId")
    stamp = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
    credential = f"{server.access_key}/{stamp[:8]}/us-east-1/lambda/aws4_request"
    head = request_head(
        "POST",
        path,
        {
            "Host": "x",
            "X-Amz-Date": stamp,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=00",
            "Content-Length": str(GIB),
        },
    )
    assert status_and_code(raw_exchange(server, head)[0]) == (403, "RequestTimeTooSkewed")


# ---- bodies capped per operation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "service", "length", "extra", "expected"),
    [
        ("POST", "/2015-03-31/functions/f/invocations", "lambda", 6 * MIB + 1, {}, "RequestTooLargeException"),
        (
            "POST",
            "/2015-03-31/functions/f/invocations",
            "lambda",
            MIB + 1,
            {"X-Amz-Invocation-Type": "Event"},
            "RequestTooLargeException",
        ),
        ("POST", "/2015-03-31/functions", "lambda", 70 * MIB, {}, "RequestEntityTooLargeException"),
        ("PUT", "/2015-03-31/functions/f/code", "lambda", 70 * MIB, {}, "RequestEntityTooLargeException"),
        ("GET", "/2015-03-31/functions", "lambda", MIB + 1, {}, "RequestEntityTooLargeException"),
        (
            "POST",
            "/",
            "machinelearning",
            MIB + 1,
            {"X-Amz-Target": "AmazonML_20141212.Predict"},
            "RequestEntityTooLargeException",
        ),
        ("POST", "/endpoints/e/invocations", "sagemaker", 6 * MIB + 1, {}, "RequestEntityTooLargeException"),
        ("POST", "/bucket?delete", "s3", 8 * MIB + 1, {}, "MaxMessageLengthExceeded"),
        ("PUT", "/bucket/key", "s3", 5 * GIB + 1, {}, "EntityTooLarge"),
    ],
)
def test_a_body_over_its_operations_limit_is_refused_before_it_is_read(
    server: LiveServer, method: str, path: str, service: str, length: int, extra: dict[str, str], expected: str
) -> None:
    answer, seconds = raw_exchange(server, signed_head(server, method, path, service, length, **extra))
    status, code = status_and_code(answer)
    assert (status, code) == (400 if expected == "MaxMessageLengthExceeded" else 413, expected)
    assert f"is {length}".encode() in answer
    assert seconds < 5


def test_a_chunked_body_is_cut_off_at_its_operations_limit(server: LiveServer) -> None:
    # No Content-Length to refuse at once: the server stops reading at 6 MiB.
    url = f"{server.endpoint}/2015-03-31/functions/f/invocations"
    headers = service_signed_headers("POST", url, "lambda", access_key=server.access_key, secret_key=server.secret_key)
    head = request_head("POST", "/2015-03-31/functions/f/invocations", {**headers, "Host": "x"})
    head = head[:-2] + b"Transfer-Encoding: chunked\r\n\r\n"
    received = bytearray()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        reader = threading.Thread(target=lambda: received.extend(read_until_closed(sock)), daemon=True)
        reader.start()
        sock.sendall(head)
        sent = 0
        try:
            while sent < 64 * MIB:
                sock.sendall(b"100000\r\n" + b"x" * MIB + b"\r\n")
                sent += MIB
        except OSError:
            pass
        reader.join(20)
    assert status_and_code(bytes(received)) == (413, "RequestTooLargeException")
    assert sent < 32 * MIB


def test_code_larger_than_the_default_limit_is_still_accepted(server: LiveServer) -> None:
    lam = server.client("lambda", read_timeout=120)
    code = make_zip({"app.py": "def handler(event, context):\n    return 1\n", "pad.bin": os.urandom(2 * MIB)})
    created = lam.create_function(
        FunctionName="big-code", Runtime="python3.11", Role=ROLE, Handler="app.handler", Code={"ZipFile": code}
    )
    assert created["CodeSize"] == len(code) and len(base64.b64encode(code)) > MIB
    payload = json.dumps({"pad": "x" * (5 * MIB)}).encode()
    assert lam.invoke(FunctionName="big-code", Payload=payload)["StatusCode"] == 200


# ---- requests in flight ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server that handles two requests at a time."""
    data = Path(tmp_path_factory.mktemp("in-flight")) / "data"
    with live_server(data, env={"ALTO_MAX_REQUESTS_IN_FLIGHT": "2"}) as running:
        yield running


def test_requests_past_the_in_flight_cap_are_told_to_slow_down(small_server: LiveServer) -> None:
    s3 = small_server.client("s3")
    s3.create_bucket(Bucket="held")
    body = b"h" * MIB
    held = []
    for n in range(2):
        path = f"/held/upload-{n}"
        headers = signed_headers(
            "PUT",
            small_server.endpoint + path,
            access_key=small_server.access_key,
            secret_key=small_server.secret_key,
            body=body,
        )
        sock = socket.create_connection(("127.0.0.1", small_server.port), timeout=30)
        host = f"127.0.0.1:{small_server.port}"
        head = request_head("PUT", path, {**headers, "Host": host, "Content-Length": str(len(body))})
        sock.sendall(head + body[: MIB // 2])
        held.append(sock)
    time.sleep(0.5)
    try:
        started = time.monotonic()
        fails(lambda: s3.list_buckets(), "SlowDown", 503)
        error = fails(lambda: small_server.client("lambda").list_functions(), "ServiceUnavailable", 503)
        assert "2 requests" in error.response["Error"]["Message"]
        assert time.monotonic() - started < 5
    finally:
        for sock in held:
            sock.sendall(body[MIB // 2 :])
            assert sock.recv(100).startswith(b"HTTP/1.1 200")
            sock.close()
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="held")["Contents"]] == ["upload-0", "upload-1"]


def test_the_cap_is_a_setting(tmp_path: Path) -> None:
    assert Settings.load({}, config_file=tmp_path / "absent.toml", data_dir=tmp_path).max_requests_in_flight == 128
    with pytest.raises(ConfigurationError, match="max_requests_in_flight=0; expected 1 or more"):
        Settings.load({"ALTO_MAX_REQUESTS_IN_FLIGHT": "0"}, config_file=tmp_path / "absent.toml", data_dir=tmp_path)
