"""The one place errors become HTTP responses, per wire protocol."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from starlette.responses import Response

from altostratus.core.errors import AltoError

PROTOCOLS = ("rest-xml", "json", "rest-json")


def error_response(
    protocol: str, error: AltoError, request_id: str, *, resource: str = "", head: bool = False
) -> Response:
    """The error as the protocol's clients expect it (status, body shape, error-type header)."""
    headers = {"x-amz-request-id": request_id, "x-amzn-RequestId": request_id}
    if protocol == "rest-xml":
        return _xml(error, request_id, resource, head, headers)
    headers["x-amzn-ErrorType"] = error.code
    body = {"__type": error.code, "message": error.message, "Message": error.message}
    media = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
    return Response(b"" if head else json.dumps(body).encode(), error.status, headers, media_type=media)


def _xml(error: AltoError, request_id: str, resource: str, head: bool, headers: dict[str, str]) -> Response:
    extra = "".join(
        f"<{name}>{escape(str(value))}</{name}>"
        for name, value in (("BucketName", error.details.get("bucket")), ("Key", error.details.get("key")))
        if value
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>{extra}"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId></Error>"
    )
    return Response(
        b"" if head or error.status == 304 else body.encode(), error.status, headers, media_type="application/xml"
    )
