"""S3 object operations: put, get, head, delete (one or many) and copy."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import parse_qsl, unquote

from anyio import to_thread

from altostratus.api.context import Body, Call
from altostratus.api.lake.acl import acl_request
from altostratus.api.lake.checksums import CHECKSUM_PREFIX, checksum_headers
from altostratus.api.lake.encryption_headers import (
    COPY_SOURCE_SSE_C,
    customer_key,
    encryption_headers,
    write_encryption,
)
from altostratus.api.lake.headers import (
    check_conditions,
    copy_tags,
    meta_from_headers,
    object_headers,
    write_condition,
)
from altostratus.api.lake.object_lock import bypasses_governance, lock_from_headers, require_integrity_header
from altostratus.api.lake.object_parts import read_span
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.small_commits import CommitBatcher
from altostratus.api.lake.xml import MalformedXML, children, element, fields, iso, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import AltoError, BadRequest, InvalidArgument, PreconditionFailed
from altostratus.lake.encryption import CustomerKey
from altostratus.lake.errors import NotModified
from altostratus.lake.objects import NULL_VERSION, ObjectInfo
from altostratus.lake.service import ObjectWriter, PendingCommit, StreamingWriter
from altostratus.lake.tagging import header_tags
from altostratus.lake.version_records import Removal

R = TypeVar("R")
MAX_DELETE_KEYS = 1000
# Bodies up to this size are read in one go and sent as one piece: a streamed body costs a thread hop
# per chunk and a task group per response, which dominates the time of a small GET.
WHOLE_BODY_BYTES = 1024 * 1024
# A small object read with its row is sent from the event loop when at most this long (decrypting 64 KiB of SSE
# takes about 10 us here); a longer span takes a thread hop, as a blob's does.
INLINE_READ_BYTES = 64 * 1024


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
        _expect_trailing_checksums(writer, body)
    except BaseException:
        writer.abort()
        raise


def _expect_trailing_checksums(writer: StreamingWriter, body: Body) -> None:
    """The checksums that came in the body's trailers (aws-chunked), checked when the writer commits."""
    for name, value in body.trailers.values.items():
        if name.startswith(CHECKSUM_PREFIX):
            writer.expect_checksum(name[len(CHECKSUM_PREFIX) :].upper(), value)


def _declared_length(headers: Mapping[str, str]) -> int:
    """The body's length as its headers declare it (require_length checked it); past WHOLE_BODY_BYTES if unknown."""
    length = headers.get("x-amz-decoded-content-length", headers.get("content-length", ""))
    return int(length) if length.isdigit() else WHOLE_BODY_BYTES + 1


def _write_whole(writer: ObjectWriter, chunks: list[bytes], body: Body, finish: Callable[[ObjectWriter], R]) -> R:
    """Write the chunks of a body read whole, expect its trailing checksums, and finish (commit or prepare)."""
    with writer:
        for chunk in chunks:
            writer.write(chunk)
        _expect_trailing_checksums(writer, body)
        return finish(writer)


class ObjectOperations:
    """S3's object operations, one method each, named as boto3 names them."""

    _s3: S3Services
    _small_commits: CommitBatcher

    async def put_object(self, call: Call) -> Reply:
        """PutObject, streamed to a new blob; the object appears only when all of it arrived intact."""
        require_length(call.headers)
        claimed, trailing = claimed_checksums(call.headers)
        condition = write_condition(call.headers)
        # A presigned PUT carries x-amz-tagging in its (signed) query string: SDK presigners hoist x-amz-* there.
        tags = header_tags(call.headers.get("x-amz-tagging", call.query.get("x-amz-tagging")))
        require_integrity_header(call.headers)
        retention, hold = lock_from_headers(call.headers, self._s3.lake.clock.now())
        encryption = write_encryption(call, self._s3.customer_keys_over_http)
        bucket, key = call.path_params["Bucket"], call.path_params["Key"]
        meta = meta_from_headers(call.headers)

        def open_writer() -> ObjectWriter:
            owned = self._s3.permissions.for_new_object(bucket, call.caller, acl_request(call.headers))
            return self._s3.lake.object_writer(
                bucket,
                key,
                meta,
                content_md5=call.headers.get("content-md5"),
                checksums=claimed,
                checksum_algorithms=trailing,
                tags=tags,
                owned=owned,
                encryption=encryption,
            )

        def commit(writer: ObjectWriter) -> ObjectInfo:
            return writer.commit(call.caller, condition=condition, retention=retention, legal_hold=hold)

        def prepare(writer: ObjectWriter) -> PendingCommit:
            return writer.prepare(call.caller, condition=condition, retention=retention, legal_hold=hold)

        length = _declared_length(call.headers)
        inline_limit = self._s3.lake.inline_limit  # 0: every object is a file, which the event loop never writes
        if inline_limit > 0 and length <= inline_limit and self._s3.lake.store.quick_reads:
            # Kept beside its row: read, checked and held on the event loop (its metadata reads are SQLite's
            # quick ones), then committed with the other small PUTs of the moment in one hop (small_commits.py).
            chunks = [chunk async for chunk in call.body]
            info = await self._small_commits.commit(_write_whole(open_writer(), chunks, call.body, prepare))
        elif length <= WHOLE_BODY_BYTES:
            # A small body is read first, then written and committed in one thread hop: hops cost more than it.
            chunks = [chunk async for chunk in call.body]
            info = await to_thread.run_sync(lambda: _write_whole(open_writer(), chunks, call.body, commit))
        else:
            writer = await to_thread.run_sync(open_writer)
            await stream_into(writer, call.body)
            info = await to_thread.run_sync(commit, writer)
        sealed = encryption_headers(info.encryption, encryption.customer_key if encryption else None)
        return Reply(headers={**_write_headers(info), **sealed})

    async def get_object(self, call: Call) -> Reply:
        """GetObject, whole or a byte range, streamed from the blob."""
        if "attributes" in call.query:
            # GetObjectAttributes is told apart by its required header; without one, S3 does not send the object.
            raise InvalidArgument(
                "GetObjectAttributes needs the x-amz-object-attributes header naming at least one of ETag, "
                "Checksum, ObjectParts, StorageClass, ObjectSize"
            )
        info, secret = await self._head(call, with_body=True)
        headers = {**object_headers(info, call.query), **encryption_headers(info.encryption, secret)}
        start, end, status, extra = read_span(info, call.query, call.headers)
        return await self._body(info, start, end, status, {**headers, **extra}, secret)

    async def _body(
        self, info: ObjectInfo, start: int, end: int, status: int, headers: dict[str, str], secret: CustomerKey | None
    ) -> Reply:
        headers["content-length"] = str(end - start)
        if info.body is not None and end - start <= INLINE_READ_BYTES:  # read with its row: no thread hop
            return Reply(status, headers, b"".join(self._s3.lake.read(info, start, end, customer_key=secret)))
        if end - start <= WHOLE_BODY_BYTES:
            body = await to_thread.run_sync(lambda: b"".join(self._s3.lake.read(info, start, end, customer_key=secret)))
            return Reply(status, headers, body)
        return Reply(status, headers, self._s3.lake.read(info, start, end, customer_key=secret))

    async def head_object(self, call: Call) -> Reply:
        """HeadObject."""
        info, secret = await self._head(call)
        headers = {**object_headers(info, call.query), **encryption_headers(info.encryption, secret)}
        start, end, status, extra = read_span(info, call.query, call.headers)
        return Reply(status, {**headers, **extra, "content-length": str(end - start)})

    async def delete_object(self, call: Call) -> Reply:
        """DeleteObject: 204 whether or not the key existed, as S3 answers."""
        bucket, key = call.path_params["Bucket"], call.path_params["Key"]
        version_id = call.query.get("versionId")
        bypass = bypasses_governance(call.headers)
        removal = await to_thread.run_sync(
            lambda: self._s3.lake.delete_object(
                bucket, key, call.caller, version_id=version_id, bypass_governance=bypass
            )
        )
        headers = {"x-amz-version-id": removal.version_id} if removal.version_id else {}
        if removal.delete_marker:
            headers["x-amz-delete-marker"] = "true"
        return Reply(status=204, headers=headers)

    async def delete_objects(self, call: Call) -> Reply:
        """DeleteObjects: up to 1,000 keys, each deleted or reported as an error."""
        root = parse(await call.body.read(), "Delete")
        keys = [(text(node, "Key"), text(node, "VersionId", "") or None) for node in children(root, "Object")]
        if not keys or len(keys) > MAX_DELETE_KEYS:
            raise MalformedXML(f"<Delete> names {len(keys)} objects; expected 1 to {MAX_DELETE_KEYS}")
        quiet = text(root, "Quiet", "false").strip().lower() == "true"
        bucket = call.path_params["Bucket"]
        await to_thread.run_sync(self._s3.lake.get_bucket, bucket)
        results = []
        for key, version_id in keys:
            action = "s3:DeleteObject" if version_id is None else "s3:DeleteObjectVersion"  # as DeleteObject's
            if not call.allows(action, f"arn:aws:s3:::{bucket}/{key}"):
                denied = f"Access Denied: this key's access does not allow {action} on {bucket}/{key}"
                results.append(
                    element("Error", *fields(Key=key, VersionId=version_id, Code="AccessDenied", Message=denied))
                )
                continue
            try:
                removal = await to_thread.run_sync(self._delete_one, bucket, key, call, version_id)
                if not quiet:
                    marker = removal.version_id if removal.delete_marker else None
                    shown = fields(
                        Key=key,
                        VersionId=version_id,
                        DeleteMarker=True if removal.delete_marker else None,
                        DeleteMarkerVersionId=marker,
                    )
                    results.append(element("Deleted", *shown))
            except AltoError as error:
                results.append(
                    element("Error", *fields(Key=key, VersionId=version_id, Code=error.code, Message=error.message))
                )
        return xml_reply("DeleteResult", results)

    def _delete_one(self, bucket: str, key: str, call: Call, version_id: str | None) -> Removal:
        bypass = bypasses_governance(call.headers)
        return self._s3.lake.delete_object(bucket, key, call.caller, version_id=version_id, bypass_governance=bypass)

    async def copy_object(self, call: Call) -> Reply:
        """CopyObject: metadata and tags copied from the source, or replaced with x-amz-metadata-directive and
        x-amz-tagging-directive: REPLACE."""
        source_bucket, source_key = parse_copy_source(call.headers["x-amz-copy-source"])
        directive = call.headers.get("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise InvalidArgument(f"x-amz-metadata-directive={directive!r}; expected COPY or REPLACE")
        tags = copy_tags(call.headers)
        source_version = copy_source_version(call.headers["x-amz-copy-source"])
        source_secret = customer_key(call, self._s3.customer_keys_over_http, COPY_SOURCE_SSE_C)
        source = await to_thread.run_sync(
            self._s3.lake.head_for_reading, source_bucket, source_key, source_version, source_secret
        )
        _check_copy_conditions(call.headers, source)
        meta = meta_from_headers(call.headers) if directive == "REPLACE" else None
        retention, hold = lock_from_headers(call.headers, self._s3.lake.clock.now())
        encryption = write_encryption(call, self._s3.customer_keys_over_http)
        bucket, key = call.path_params["Bucket"], call.path_params["Key"]
        owned = await to_thread.run_sync(
            self._s3.permissions.for_new_object, bucket, call.caller, acl_request(call.headers)
        )
        info = await to_thread.run_sync(
            lambda: self._s3.lake.copy_object(
                source,
                bucket,
                key,
                meta,
                call.caller,
                tags=tags,
                retention=retention,
                legal_hold=hold,
                owned=owned,
                encryption=encryption,
                source_key=source_secret,
            )
        )
        reply = xml_reply("CopyObjectResult", fields(LastModified=iso(info.last_modified), ETag=info.etag))
        reply.headers.update(version_headers(info))
        reply.headers.update(encryption_headers(info.encryption, encryption.customer_key if encryption else None))
        if source_version is not None:
            reply.headers["x-amz-copy-source-version-id"] = source_version
        return reply

    async def _head(self, call: Call, *, with_body: bool = False) -> tuple[ObjectInfo, CustomerKey | None]:
        """The object a GET or HEAD names, and the customer key it is opened with (refused if it does not open it);
        with_body: a small object's bytes too (ObjectInfo.body)."""
        bucket, key, version_id = call.path_params["Bucket"], call.path_params["Key"], call.query.get("versionId")
        secret = customer_key(call, self._s3.customer_keys_over_http)

        def head() -> ObjectInfo:
            return self._s3.lake.head_for_reading(bucket, key, version_id, secret, with_body=with_body)

        info = head() if self._s3.lake.store.quick_reads else await to_thread.run_sync(head)
        check_conditions(call.headers, info)
        return info, secret


def parse_copy_source(value: str) -> tuple[str, str]:
    """(bucket, key) from x-amz-copy-source: "bucket/key" or "/bucket/key", URL-encoded, maybe ?versionId=."""
    path = unquote(value.split("?", 1)[0]).lstrip("/")
    bucket, _, key = path.partition("/")
    if not bucket or not key:
        raise InvalidArgument(f"x-amz-copy-source={value!r}; expected '<bucket>/<key>'")
    return bucket, key


def copy_source_version(value: str) -> str | None:
    """The versionId an x-amz-copy-source names ("bucket/key?versionId=..."), or None for the latest version."""
    _, _, query = value.partition("?")
    versions = [v for name, v in parse_qsl(query, keep_blank_values=True) if name == "versionId"]
    if query and not versions:
        raise InvalidArgument(f"x-amz-copy-source={value!r}; the only parameter it may carry is versionId")
    return versions[-1] if versions else None


def version_headers(info: ObjectInfo) -> dict[str, str]:
    """x-amz-version-id for a version of a versioned bucket (a "null" version names none)."""
    return {} if info.version_id == NULL_VERSION else {"x-amz-version-id": info.version_id}


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
    return {"etag": info.etag, **_checksum_headers(info), **version_headers(info)}


def _checksum_headers(info: ObjectInfo) -> dict[str, str]:
    return checksum_headers(info.checksums)
