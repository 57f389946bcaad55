"""Lambda proxy integration, payload format 2.0: the event API Gateway's HTTP APIs send, and the answer they read.

The event is the one a custom domain with the API mapped at /api would produce: rawPath and http.path leave the
/api prefix out (API Gateway does the same for an API mapping), so a handler sees the path of its route.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl

from altostratus.core import json_input
from altostratus.functions.routes.definitions import IntegrationFailed, Route

PAYLOAD_VERSION = "2.0"
STAGE = "$default"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_TYPES = frozenset(
    ["application/json", "application/xml", "application/javascript", "application/ecmascript", "application/graphql"]
)
# The server sets these for the answer it sends; a function's values for them would corrupt it.
_HOP_HEADERS = frozenset(["content-length", "transfer-encoding", "connection", "keep-alive"])
# What API Gateway assumes when the function's answer has a statusCode but no content-type.
DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclasses.dataclass(frozen=True)
class ProxyRequest:
    """An HTTP request to a route, as received: path relative to the routes' prefix, still percent-encoded."""

    method: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    scheme: str = "http"
    port: int | None = None


@dataclasses.dataclass(frozen=True)
class ProxyResponse:
    """The HTTP answer to send: status, headers in order (Set-Cookie may repeat), body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


@dataclasses.dataclass(frozen=True)
class EventContext:
    """Who answers: the ids API Gateway puts in requestContext, and when the request arrived."""

    request_id: str
    now: dt.datetime
    account_id: str = "000000000000"
    api_id: str = "alto"


def build_event(
    request: ProxyRequest, route: Route, path_parameters: Mapping[str, str], context: EventContext
) -> dict[str, Any]:
    """The payload format 2.0 event for this request on this route; empty optional fields are left out."""
    headers = _event_headers(request)
    cookies = [c.strip() for name, v in request.headers if name.lower() == "cookie" for c in v.split(";") if c.strip()]
    query = _joined(parse_qsl(request.query, keep_blank_values=True))
    event: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "routeKey": route.key,
        "rawPath": request.path or "/",
        "rawQueryString": request.query,
        "cookies": cookies,
        "headers": headers,
        "queryStringParameters": query,
        "requestContext": _request_context(request, route, headers, context),
        "pathParameters": dict(path_parameters),
        **_body(request.body, headers.get("content-type", "")),
    }
    return {name: value for name, value in event.items() if value != {} and value != []}


def _request_context(
    request: ProxyRequest, route: Route, headers: Mapping[str, str], context: EventContext
) -> dict[str, Any]:
    host = headers.get("host", "")
    when = context.now.astimezone(dt.UTC)
    return {
        "accountId": context.account_id,
        "apiId": context.api_id,
        "domainName": host,
        "domainPrefix": host.split(":")[0].split(".")[0],
        "http": {
            "method": request.method,
            "path": request.path or "/",
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": context.request_id,
        "routeKey": route.key,
        "stage": STAGE,
        "time": f"{when:%d}/{_MONTHS[when.month - 1]}/{when:%Y:%H:%M:%S} +0000",
        "timeEpoch": int(when.timestamp() * 1000),
    }


def _body(body: bytes, content_type: str) -> dict[str, Any]:
    if not body:
        return {"isBase64Encoded": False}
    if _is_text(content_type, body):
        return {"body": body.decode(), "isBase64Encoded": False}
    return {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}


def map_response(payload: bytes) -> ProxyResponse:
    """The HTTP answer for a function's response payload, by the payload format 2.0 rules.

    A JSON object with statusCode is a response description; anything else valid (an object without
    statusCode, a string, a number) is sent as it is with status 200 and content-type application/json.
    """
    try:
        document = json_input.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise IntegrationFailed("the function's answer is not JSON") from None
    if not isinstance(document, dict) or "statusCode" not in document:
        return ProxyResponse(200, [("content-type", "application/json")], payload)
    headers = [(name.lower(), value) for name, value in _response_headers(document.get("headers"))]
    headers += [("set-cookie", cookie) for cookie in _cookies(document.get("cookies"))]
    if not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", DEFAULT_CONTENT_TYPE))
    return ProxyResponse(_status(document["statusCode"]), headers, _response_body(document))


def _event_headers(request: ProxyRequest) -> dict[str, str]:
    pairs = [(name.lower(), value) for name, value in request.headers if name.lower() != "cookie"]
    headers = _joined(pairs)
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers["x-forwarded-proto"] = request.scheme
    if request.port is not None:
        headers["x-forwarded-port"] = str(request.port)
    return headers


def _joined(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Repeated names become one entry with the values joined by commas, as format 2.0 does."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _is_text(content_type: str, body: bytes) -> bool:
    media = content_type.split(";")[0].strip().lower()
    textual = media.startswith("text/") or media in _TEXT_TYPES or media.endswith(("+json", "+xml"))
    if not textual:
        return False
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


def _status(value: object) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 100 <= value <= 599:
        raise IntegrationFailed(f"the function's answer has statusCode={value!r}; expected a number from 100 to 599")
    return value


def _response_headers(value: object) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise IntegrationFailed(f"the function's answer has headers of type {type(value).__name__}; expected an object")
    headers = []
    for name, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        if not isinstance(item, str | int | float):
            raise IntegrationFailed(f"the function's answer has header {name!r} = {item!r}; expected a string")
        if name.lower() not in _HOP_HEADERS:
            headers.append((name, str(item)))
    return headers


def _cookies(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise IntegrationFailed(f"the function's answer has cookies={value!r}; expected a list of strings")
    return value


def _response_body(document: Mapping[str, Any]) -> bytes:
    body = document.get("body")
    encoded = document.get("isBase64Encoded", False)
    if body is None:
        return b""
    if not isinstance(body, str):
        raise IntegrationFailed(f"the function's answer has a body of type {type(body).__name__}; expected a string")
    if encoded is not True:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise IntegrationFailed("the function's answer has isBase64Encoded true but its body is not base64") from None
