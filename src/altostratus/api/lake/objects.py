"""S3 object operations: put, get, head, delete (one or many) and copy."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from anyio import to_thread

from altostratus.api.context import Body, Call
from altostratus.api.lake.headers import (
    byte_range,
    check_conditions,
    meta_from_headers,
    object_headers,
    write_condition,
)
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import MalformedXML, children, element, fields, iso, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import AltoError, BadRequest, InvalidArgument, PreconditionFailed
from altostratus.lake.errors import NotModified
from altostratus.lake.objects import ObjectInfo
from altostratus.lake.service import StreamingWriter

CHECKSUM_PREFIX = "x-amz-checksum-"
MAX_DELETE_KEYS = 1000
# Bodies up to this size are read in one go and sent as one piece: a streamed body costs a thread hop
# per chunk and a task group per response, which dominates the time of a small GET.
WHOLE_BODY_BYTES = 1024 * 1024


class MissingContentLength(AltoError):
    """You must provide the Content-Length HTTP header."""

    code = "MissingContentLength"
    status = 411


def require_length(headers: Mapping[str, str]) -> None:
    """MissingContentLength, or BadRequest for a length that is not a number, as S3 checks before reading a PUT.

    (The gateway has refused a length over the operation's limit already.)
    """
    name = "x-amz-decoded-content-length" if "x-amz-decoded-content-length" in headers else "content-length"
    length = headers.get(name)
    if length is None:
        if "chunked" in headers.get("transfer-encoding", ""):
            return
        raise MissingContentLength("You must provide the Content-Length HTTP header.")
    if not (length.isascii() and length.isdigit()):
        raise BadRequest(f"{name}={length!r}; expected a whole number of bytes")


def claimed_checksums(headers: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
    """Checksums the writer sent in headers, and the algorithms whose values come later in trailers."""
    claimed = {
        name[len(CHECKSUM_PREFIX) :].upper(): value
        for name, value in headers.items()
        if name.startswith(CHECKSUM_PREFIX) and name != "x-amz-checksum-type"
    }
    trailing = {
        name.strip()[len(CHECKSUM_PREFIX) :].upper()
        for name in headers.get("x-amz-trailer", "").split(",")
        if name.strip().startswith(CHECKSUM_PREFIX)
    }
    return claimed, trailing


async def stream_into(writer: StreamingWriter, body: Body) -> None:
    """Copy the request body into the writer; the writer is aborted if anything goes wrong."""
    try:
        async for chunk in body:
            writer.write(chunk)
        for name, value in body.trailers.values.items():
            if name.startswith(CHECKSUM_PREFIX):
                writer.expect_checksum(name[len(CHECKSUM_PREFIX) :].upper(), value)
    except BaseException:
        writer.abort()
        raise


class ObjectOperations:
    """S3's object operations, one method each, named as boto3 names them."""

    _s3: S3Services

    async def put_object(self, call: Call) -> Reply:
        """PutObject, streamed to a new blob; the object appears only when all of it arrived intact."""
        require_length(call.headers)
        claimed, trailing = claimed_checksums(call.headers)
        condition = write_condition(call.headers)
        bucket, key = call.path_params["Bucket"], call.path_params["Key"]
        writer = await to_thread.run_sync(
            lambda: self._s3.lake.object_writer(
                bucket,
                key,
                meta_from_headers(call.headers),
                content_md5=call.headers.get("content-md5"),
                checksums=claimed,
                checksum_algorithms=trailing,
            )
        )
        await stream_into(writer, call.body)
        info = await to_thread.run_sync(lambda: writer.commit(call.caller, condition=condition))
        return Reply(headers=_write_headers(info))

    async def get_object(self, call: Call) -> Reply:
        """GetObject, whole or a byte range, streamed from the blob."""
        info = await self._head(call)
        span = byte_range(call.headers.get("range"), info.size)
        headers = object_headers(info, call.query)
        if call.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED" and span is None:
            headers.update(_checksum_headers(info))
        if span is None:
            return await self._body(info, 0, info.size, 200, headers)
        start, end = span
        headers["content-range"] = f"bytes {start}-{end - 1}/{info.size}"
        return await self._body(info, start, end, 206, headers)

    async def _body(self, info: ObjectInfo, start: int, end: int, status: int, headers: dict[str, str]) -> Reply:
        headers["content-length"] = str(end - start)
        if end - start <= WHOLE_BODY_BYTES:
            body = await to_thread.run_sync(lambda: b"".join(self._s3.lake.read(info, start, end)))
            return Reply(status, headers, body)
        return Reply(status, headers, self._s3.lake.read(info, start, end))

    async def head_object(self, call: Call) -> Reply:
        """HeadObject."""
        info = await self._head(call)
        headers = object_headers(info, call.query)
        span = byte_range(call.headers.get("range"), info.size)
        if call.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED":
            headers.update(_checksum_headers(info))
        length = info.size if span is None else span[1] - span[0]
        headers["content-length"] = str(length)
        return Reply(200 if span is None else 206, headers)

    async def delete_object(self, call: Call) -> Reply:
        """DeleteObject: 204 whether or not the key existed, as S3 answers."""
        await to_thread.run_sync(
            self._s3.lake.delete_object, call.path_params["Bucket"], call.path_params["Key"], call.caller
        )
        return Reply(status=204)

    async def delete_objects(self, call: Call) -> Reply:
        """DeleteObjects: up to 1,000 keys, each deleted or reported as an error."""
        root = parse(await call.body.read(), "Delete")
        keys = [text(node, "Key") for node in children(root, "Object")]
        if not keys or len(keys) > MAX_DELETE_KEYS:
            raise MalformedXML(f"<Delete> names {len(keys)} objects; expected 1 to {MAX_DELETE_KEYS}")
        quiet = text(root, "Quiet", "false").strip().lower() == "true"
        bucket = call.path_params["Bucket"]
        await to_thread.run_sync(self._s3.lake.get_bucket, bucket)
        results = []
        for key in keys:
            if not call.allows("s3:DeleteObject", f"arn:aws:s3:::{bucket}/{key}"):
                denied = f"Access Denied: this key's access does not allow s3:DeleteObject on {bucket}/{key}"
                results.append(element("Error", *fields(Key=key, Code="AccessDenied", Message=denied)))
                continue
            try:
                await to_thread.run_sync(self._s3.lake.delete_object, bucket, key, call.caller)
                if not quiet:
                    results.append(element("Deleted", *fields(Key=key)))
            except AltoError as error:
                results.append(element("Error", *fields(Key=key, Code=error.code, Message=error.message)))
        return xml_reply("DeleteResult", results)

    async def copy_object(self, call: Call) -> Reply:
        """CopyObject: metadata copied from the source, or replaced with x-amz-metadata-directive: REPLACE."""
        source_bucket, source_key = parse_copy_source(call.headers["x-amz-copy-source"])
        directive = call.headers.get("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise InvalidArgument(f"x-amz-metadata-directive={directive!r}; expected COPY or REPLACE")
        source = await to_thread.run_sync(self._s3.lake.head, source_bucket, source_key)
        _check_copy_conditions(call.headers, source)
        meta = meta_from_headers(call.headers) if directive == "REPLACE" else None
        info = await to_thread.run_sync(
            self._s3.lake.copy_object, source, call.path_params["Bucket"], call.path_params["Key"], meta, call.caller
        )
        return xml_reply("CopyObjectResult", fields(LastModified=iso(info.last_modified), ETag=info.etag))

    async def _head(self, call: Call) -> ObjectInfo:
        info = await to_thread.run_sync(self._s3.lake.head, call.path_params["Bucket"], call.path_params["Key"])
        check_conditions(call.headers, info)
        return info


def parse_copy_source(value: str) -> tuple[str, str]:
    """(bucket, key) from x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded, maybe ?versionId=."""
    path = unquote(value.split("?", 1)[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise InvalidArgument(f"x-amz-copy-source={value!r}; expected '<bucket>/<key>'")
    return bucket, key


def _check_copy_conditions(headers: Mapping[str, str], source: ObjectInfo) -> None:
    renamed = {
        name.replace("x-amz-copy-source-", ""): value
        for name, value in headers.items()
        if name.startswith("x-amz-copy-source-if-")
    }
    try:
        check_conditions(renamed, source)
    except NotModified:
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold") from None


def _write_headers(info: ObjectInfo) -> dict[str, str]:
    return {"etag": info.etag, **_checksum_headers(info)}


def _checksum_headers(info: ObjectInfo) -> dict[str, str]:
    return {CHECKSUM_PREFIX + name.lower(): value for name, value in info.checksums.items()}
