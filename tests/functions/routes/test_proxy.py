"""The payload format 2.0 event built from a request, and the HTTP answer mapped from a function's response."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pytest

from altostratus.functions.routes import EventContext, IntegrationFailed, ProxyRequest, Route, build_event, map_response

NOW = dt.datetime(2020, 3, 9, 19, 3, 58, 390000, tzinfo=dt.UTC)
ROUTE = Route("POST", "/bookings/{id}", "book", None, public=False, created_at=NOW)


def request(**changes: Any) -> ProxyRequest:
    fields: dict[str, Any] = {
        "method": "POST",
        "path": "/bookings/42",
        "query": "a=1&a=2&b=x%20y&empty=",
        "headers": [
            ("Host", "127.0.0.1:8340"),
            ("User-Agent", "curl/8"),
            ("Content-Type", "application/json"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "s=1; theme=dark"),
        ],
        "body": b'{"guests": 2}',
        "source_ip": "10.0.0.9",
        "port": 8340,
    }
    return ProxyRequest(**{**fields, **changes})


def event(**changes: Any) -> dict[str, Any]:
    return build_event(request(**changes), ROUTE, {"id": "42"}, EventContext("req-1", NOW))


def test_event_has_every_field_of_format_2_0() -> None:
    assert event() == {
        "version": "2.0",
        "routeKey": "POST /bookings/{id}",
        "rawPath": "/bookings/42",
        "rawQueryString": "a=1&a=2&b=x%20y&empty=",
        "cookies": ["s=1", "theme=dark"],
        "headers": {
            "host": "127.0.0.1:8340",
            "user-agent": "curl/8",
            "content-type": "application/json",
            "x-multi": "one,two",
            "x-forwarded-for": "10.0.0.9",
            "x-forwarded-proto": "http",
            "x-forwarded-port": "8340",
        },
        "queryStringParameters": {"a": "1,2", "b": "x y", "empty": ""},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "alto",
            "domainName": "127.0.0.1:8340",
            "domainPrefix": "127",
            "http": {
                "method": "POST",
                "path": "/bookings/42",
                "protocol": "HTTP/1.1",
                "sourceIp": "10.0.0.9",
                "userAgent": "curl/8",
            },
            "requestId": "req-1",
            "routeKey": "POST /bookings/{id}",
            "stage": "$default",
            "time": "09/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583780638390,
        },
        "pathParameters": {"id": "42"},
        "body": '{"guests": 2}',
        "isBase64Encoded": False,
    }


def test_optional_fields_are_left_out_when_empty() -> None:
    found = build_event(request(query="", headers=[("Host", "h")], body=b""), ROUTE, {}, EventContext("r", NOW))

    assert "cookies" not in found
    assert "queryStringParameters" not in found
    assert "pathParameters" not in found
    assert "body" not in found
    assert found["isBase64Encoded"] is False
    assert found["rawQueryString"] == ""


def test_forwarded_for_is_appended_to() -> None:
    headers = [("X-Forwarded-For", "1.2.3.4")]

    assert event(headers=headers)["headers"]["x-forwarded-for"] == "1.2.3.4, 10.0.0.9"


@pytest.mark.parametrize(
    ("content_type", "body", "encoded"),
    [
        ("application/json", b'{"a": 1}', False),
        ("text/plain; charset=utf-8", "héllo".encode(), False),
        ("application/vnd.api+json", b"{}", False),
        ("application/octet-stream", b"\x00\x01\xff", True),
        ("image/png", b"\x89PNG", True),
        ("text/plain", b"\xff\xfe not utf-8", True),
        ("application/x-www-form-urlencoded", b"a=1", True),
        (None, b"no content type", True),
    ],
)
def test_body_is_base64_unless_it_is_text(content_type: str | None, body: bytes, encoded: bool) -> None:
    headers = [("Content-Type", content_type)] if content_type else []

    found = event(headers=headers, body=body)

    assert found["isBase64Encoded"] is encoded
    assert (base64.b64decode(found["body"]) if encoded else found["body"].encode()) == body


def test_a_response_with_status_code_sets_status_headers_cookies_body() -> None:
    answer = map_response(
        json.dumps(
            {
                "statusCode": 201,
                "headers": {"Content-Type": "text/html", "X-Count": 3, "X-Ok": True, "Content-Length": "999"},
                "cookies": ["a=1; Path=/", "b=2"],
                "body": "<p>made</p>",
            }
        ).encode()
    )

    assert answer.status == 201
    assert answer.headers == [
        ("content-type", "text/html"),
        ("x-count", "3"),
        ("x-ok", "true"),
        ("set-cookie", "a=1; Path=/"),
        ("set-cookie", "b=2"),
    ]
    assert answer.body == b"<p>made</p>"


def test_a_base64_body_is_decoded() -> None:
    data = bytes(range(256))

    answer = map_response(
        json.dumps({"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(data).decode()}).encode()
    )

    assert answer.body == data
    assert ("content-type", "text/plain; charset=utf-8") in answer.headers


def test_status_code_alone_gives_an_empty_body() -> None:
    answer = map_response(b'{"statusCode": 204}')

    assert (answer.status, answer.body) == (204, b"")


@pytest.mark.parametrize("payload", [b'{"hello": "world"}', b'"hello"', b"42", b"null", b"[1, 2]", b'{"status": 201}'])
def test_anything_else_is_sent_as_json_with_200(payload: bytes) -> None:
    answer = map_response(payload)

    assert answer.status == 200
    assert answer.headers == [("content-type", "application/json")]
    assert answer.body == payload


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({"statusCode": "abc"}, "statusCode"),
        ({"statusCode": 700}, "statusCode"),
        ({"statusCode": True}, "statusCode"),
        ({"statusCode": 200, "headers": ["a"]}, "headers"),
        ({"statusCode": 200, "headers": {"a": {"b": 1}}}, "header 'a'"),
        ({"statusCode": 200, "cookies": "a=1"}, "cookies"),
        ({"statusCode": 200, "body": {"a": 1}}, "body"),
        ({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}, "base64"),
    ],
)
def test_a_malformed_response_is_an_integration_failure(document: dict[str, Any], complaint: str) -> None:
    with pytest.raises(IntegrationFailed, match=complaint) as caught:
        map_response(json.dumps(document).encode())
    assert caught.value.status == 500


def test_a_numeric_string_status_code_is_accepted() -> None:
    assert map_response(b'{"statusCode": "418"}').status == 418
