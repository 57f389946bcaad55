"""S3's rest-xml protocol: routing, body limits, the operation's S3Api method, and its Reply sent as HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from botocore import xform_name
from starlette.responses import Response, StreamingResponse

from altostratus.api.context import BodyLimit, Call
from altostratus.api.lake import S3Api
from altostratus.api.lake.browser import BROWSER_OPERATIONS, FORM_UPLOAD, browser_operation
from altostratus.api.lake.encryption_headers import refuse_unhonoured
from altostratus.api.lake.headers import check_expected_owner, refuse_unoffered
from altostratus.api.lake.post_object import MAX_FIELDS_BYTES
from altostratus.api.model_adapters import operation_handlers
from altostratus.api.operations import RestRouter, RouteMatch, service_model
from altostratus.api.replies import Reply
from altostratus.core.errors import BadRequest, NotImplementedOperation

# Object bytes stream to the lake; every other S3 body is an XML document read whole (DeleteObjects with 1,000
# keys of 1,024 characters, each escaped, or CompleteMultipartUpload with 10,000 parts and their checksums,
# stay under 6 MB).
STREAMED_OPERATIONS = frozenset({"PutObject", "UploadPart"})
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024

S3Handler = Callable[[Call], Awaitable[Reply]]


class MaxMessageLengthExceeded(BadRequest):
    """Your request was too big."""

    code = "MaxMessageLengthExceeded"


def to_response(reply: Reply) -> Response:
    """The HTTP response for a reply: bytes as one piece (Content-Length from them unless set), chunks streamed."""
    if isinstance(reply.body, bytes):
        return Response(reply.body, reply.status, reply.headers, media_type=reply.media_type)
    return StreamingResponse(reply.body, reply.status, reply.headers, media_type=reply.media_type)


class S3Adapter:
    """Routes S3 requests (path-style) to S3Api's methods."""

    service = "s3"
    protocol = "rest-xml"
    signing_name = "s3"
    target_prefix: str | None = None

    def __init__(self, api: S3Api, *, max_object_bytes: int) -> None:
        browser: dict[str, S3Handler] = {name: getattr(api, xform_name(name)) for name in BROWSER_OPERATIONS}
        self._handlers: Mapping[str, S3Handler] = {**operation_handlers(api, "s3"), **browser}
        self._max_object_bytes = max_object_bytes
        self._router = RestRouter(service_model("s3"))

    def route(self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> RouteMatch:
        """The S3 operation the request names (a browser's preflight or form upload, or one of the model's)."""
        return browser_operation(method, raw_path, headers) or self._router.match(method, raw_path, query, headers)

    def body_limit(self, operation: str, headers: Mapping[str, str]) -> BodyLimit:
        """Objects up to max_object_bytes; XML documents up to MAX_DOCUMENT_BYTES."""
        if operation in STREAMED_OPERATIONS:
            return BodyLimit(self._max_object_bytes)
        if operation == FORM_UPLOAD:  # the file, after the form's other fields
            return BodyLimit(self._max_object_bytes + MAX_FIELDS_BYTES)
        return BodyLimit(MAX_DOCUMENT_BYTES, MaxMessageLengthExceeded)

    async def handle(self, call: Call) -> Response:
        """Run the operation's method; NotImplemented for S3 operations or headers the lake does not offer."""
        handler = self._handlers.get(call.operation)
        if handler is None:
            raise NotImplementedOperation(f"S3 operation {call.operation} is not implemented by this server")
        refuse_unhonoured(call.operation, call.headers)
        check_expected_owner(call.headers)
        refuse_unoffered(call.headers)
        return to_response(await handler(call))
