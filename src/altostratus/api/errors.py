"""The one place errors become HTTP responses, per wire protocol."""

from __future__ import annotations

import json
import re
from urllib.parse import quote
from xml.sax.saxutils import escape

from starlette.responses import Response

from altostratus.core.errors import AltoError

PROTOCOLS = ("rest-xml", "json", "rest-json")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def error_response(
    protocol: str, error: AltoError, request_id: str, *, resource: str = "", head: bool = False
) -> Response:
    """The error as the protocol's clients expect it (status, body shape, error-type header)."""
    headers = {"x-amz-request-id": request_id, "x-amzn-RequestId": request_id}
    # An error may say more in headers (S3: x-amz-delete-marker and x-amz-version-id on a deleted key's 404).
    headers.update(error.details.get("response_headers") or {})
    if protocol == "rest-xml":
        return _xml(error, request_id, resource, head, headers)
    headers["x-amzn-ErrorType"] = error.code
    body = {"__type": error.code, "message": error.message, "Message": error.message}
    media = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
    return Response(b"" if head else json.dumps(body).encode(), error.status, headers, media_type=media)


def _xml(error: AltoError, request_id: str, resource: str, head: bool, headers: dict[str, str]) -> Response:
    extra = "".join(
        f"<{name}>{_text(str(value))}</{name}>"
        for name, value in (("BucketName", error.details.get("bucket")), ("Key", error.details.get("key")))
        if value
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{_text(error.code)}</Code><Message>{_text(error.message)}</Message>{extra}"
        f"<Resource>{_text(resource)}</Resource><RequestId>{request_id}</RequestId></Error>"
    )
    return Response(
        b"" if head or error.status == 304 else body.encode(), error.status, headers, media_type="application/xml"
    )


def _text(value: str) -> str:
    # Keys and paths may hold characters XML 1.0 cannot carry at all (NUL, most control characters, lone
    # surrogates); they are percent-encoded so the document stays well-formed.
    return escape(_NOT_XML.sub(lambda found: quote(found.group(), errors="surrogatepass"), value))
