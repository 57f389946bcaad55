"""The S3 service as the gateway sees it: how to route, which operations read, which handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.responses import Response

from altostratus.api.context import BodyLimit, Call
from altostratus.api.operations import RestRouter, RouteMatch, service_model
from altostratus.api.s3 import buckets, multipart, objects
from altostratus.api.s3.headers import refuse_encryption
from altostratus.api.s3.services import S3Services
from altostratus.core.errors import BadRequest, NotImplementedOperation

# Object bytes stream to the lake; every other S3 body is an XML document read whole (DeleteObjects with 1,000
# keys of 1,024 characters, each escaped, or CompleteMultipartUpload with 10,000 parts and their checksums,
# stay under 6 MB).
STREAMED_OPERATIONS = frozenset({"PutObject", "UploadPart"})
MAX_DOCUMENT_BYTES = 8 * 1024 * 1024


class MaxMessageLengthExceeded(BadRequest):
    """Your request was too big."""

    code = "MaxMessageLengthExceeded"


Handler = Callable[[Call, S3Services], Awaitable[Response]]

HANDLERS: Mapping[str, Handler] = {
    "ListBuckets": buckets.list_buckets,
    "CreateBucket": buckets.create_bucket,
    "HeadBucket": buckets.head_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "GetBucketLocation": buckets.get_bucket_location,
    "ListObjects": buckets.list_objects,
    "ListObjectsV2": buckets.list_objects_v2,
    "PutBucketNotificationConfiguration": buckets.put_notification,
    "PutBucketNotification": buckets.put_notification,
    "GetBucketNotificationConfiguration": buckets.get_notification,
    "GetBucketNotification": buckets.get_notification,
    "ListMultipartUploads": buckets.list_multipart_uploads,
    "PutObject": objects.put_object,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "DeleteObject": objects.delete_object,
    "DeleteObjects": objects.delete_objects,
    "CopyObject": objects.copy_object,
    "CreateMultipartUpload": multipart.create_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_upload,
    "AbortMultipartUpload": multipart.abort_upload,
    "ListParts": multipart.list_parts,
}


class S3Adapter:
    """Routes S3 requests (path-style) to the lake."""

    service = "s3"
    protocol = "rest-xml"
    signing_name = "s3"
    target_prefix: str | None = None

    def __init__(self, services: S3Services) -> None:
        self._services = services
        self._router = RestRouter(service_model("s3"))

    def route(self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> RouteMatch:
        """The S3 operation the request names."""
        return self._router.match(method, raw_path, query, headers)

    def body_limit(self, operation: str, headers: Mapping[str, str]) -> BodyLimit:
        """Objects up to the lake's limit; XML documents up to MAX_DOCUMENT_BYTES."""
        if operation in STREAMED_OPERATIONS:
            return BodyLimit(self._services.max_object_bytes)
        return BodyLimit(MAX_DOCUMENT_BYTES, MaxMessageLengthExceeded)

    async def handle(self, call: Call) -> Response:
        """Run the operation's handler; NotImplemented for S3 operations or headers the lake does not offer."""
        handler = HANDLERS.get(call.operation)
        if handler is None:
            raise NotImplementedOperation(f"S3 operation {call.operation} is not implemented by this server")
        refuse_encryption(call.headers)
        return await handler(call, self._services)
