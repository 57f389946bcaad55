"""Bodies nested deeper than a parser can follow (100,000 '[') get the protocol's 400, never a 500."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.api.errors import error_code, fails
from tests.api.raw import send_signed, service_signed_headers
from tests.functions.wheels import make_zip
from tests.live_server import LiveServer

ROLE = "arn:aws:iam::000000000000:role/test"
DEEP = [b"[" * 100_000, b'{"a":' * 100_000]


def send_service(
    http: httpx.Client, server: LiveServer, method: str, path: str, service: str, body: bytes, **headers: str
) -> httpx.Response:
    url = f"{server.endpoint}{path}"
    signed = service_signed_headers(
        method, url, service, access_key=server.access_key, secret_key=server.secret_key, body=body, headers=headers
    )
    return http.request(method, url, content=body, headers=signed)


@pytest.fixture(scope="module")
def echo(server: LiveServer) -> str:
    """A function that answers with its event."""
    server.client("lambda", read_timeout=120).create_function(
        FunctionName="deep-echo",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return event\n"})},
    )
    return "deep-echo"


@pytest.mark.parametrize("body", DEEP)
def test_a_deep_json_protocol_body_is_a_serialization_error(
    http: httpx.Client, server: LiveServer, body: bytes
) -> None:
    response = send_service(
        http, server, "POST", "/", "machinelearning", body, **{"X-Amz-Target": "AmazonML_20141212.DescribeDataSources"}
    )
    assert (response.status_code, response.json()["__type"]) == (400, "SerializationException")
    assert "too deeply" in response.json()["message"]


@pytest.mark.parametrize("body", DEEP)
def test_a_deep_rest_json_body_is_a_serialization_error(http: httpx.Client, server: LiveServer, body: bytes) -> None:
    response = send_service(http, server, "POST", "/2015-03-31/functions", "lambda", body)
    assert (response.status_code, response.headers["x-amzn-errortype"]) == (400, "SerializationException")


@pytest.mark.parametrize("invocation", ["RequestResponse", "Event"])
def test_a_deep_invoke_payload_is_invalid_request_content(server: LiveServer, echo: str, invocation: str) -> None:
    lam = server.client("lambda")
    error = fails(
        lambda: lam.invoke(FunctionName=echo, InvocationType=invocation, Payload=DEEP[0]),
        "InvalidRequestContentException",
        400,
    )
    assert "too deeply" in error.response["Error"]["Message"]
    assert lam.invoke(FunctionName=echo, Payload=b'{"fine": [[1]]}')["StatusCode"] == 200


def test_a_deep_document_inside_a_request_is_invalid_input(server: LiveServer) -> None:
    ml = server.client("machinelearning")
    spec = {"DataLocationS3": "s3://nowhere/data.csv", "DataSchema": "[" * 100_000}
    error = fails(
        lambda: ml.create_data_source_from_s3(DataSourceId="deep-schema", DataSpec=spec), "InvalidInputException", 400
    )
    assert "too deeply" in error.response["Error"]["Message"]


def test_a_deep_logs_token_is_invalid(server: LiveServer) -> None:
    token = base64.urlsafe_b64encode(b"[" * 100_000).decode()
    logs: Any = server.client("logs")
    fails(
        lambda: logs.filter_log_events(logGroupName="/aws/lambda/deep-echo", nextToken=token),
        "InvalidParameterException",
        400,
    )


def test_deep_xml_for_s3_is_malformed(http: httpx.Client, server: LiveServer, bucket: str) -> None:
    body = b"<Delete>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</Delete>"
    response = send_signed(http, server, "POST", f"/{bucket}?delete", body=body)
    assert (response.status_code, error_code(response)) == (400, "MalformedXML")
