"""S3 multipart upload operations."""

from __future__ import annotations

from collections.abc import Mapping

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.acl import acl_request
from altostratus.api.lake.checksums import (
    CHECKSUM_PREFIX,
    checksum_fields,
    declared_checksums,
    element_checksums,
    upload_checksum_fields,
    upload_checksum_headers,
)
from altostratus.api.lake.encryption_headers import (
    COPY_SOURCE_SSE_C,
    customer_key,
    encryption_headers,
    write_encryption,
)
from altostratus.api.lake.headers import meta_from_headers, write_condition
from altostratus.api.lake.object_lock import refuse_lock_headers
from altostratus.api.lake.objects import (
    claimed_checksums,
    copy_source_version,
    parse_copy_source,
    require_length,
    stream_into,
    version_headers,
)
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import MalformedXML, children, element, fields, iso, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import BadRequest, InvalidArgument
from altostratus.lake.errors import InvalidRange
from altostratus.lake.multipart import CompletionClaims
from altostratus.lake.objects import Part
from altostratus.lake.tagging import header_tags

MAX_INT = 2**31 - 1


class MultipartOperations:
    """S3's multipart upload operations, one method each, named as boto3 names them."""

    _s3: S3Services

    async def create_multipart_upload(self, call: Call) -> Reply:
        """CreateMultipartUpload; the completed object gets its bucket's default retention (object lock), and a
        retention or legal hold of its own is refused: the upload has nowhere to keep it yet."""
        refuse_lock_headers(call.headers)
        bucket, key = call.path_params["Bucket"], call.path_params["Key"]
        tags = header_tags(call.headers.get("x-amz-tagging"))
        algorithm, checksum_type = call.headers.get("x-amz-checksum-algorithm"), call.headers.get("x-amz-checksum-type")
        encryption = write_encryption(call, self._s3.customer_keys_over_http)
        owned = await to_thread.run_sync(
            self._s3.permissions.for_new_object, bucket, call.caller, acl_request(call.headers)
        )
        upload = await to_thread.run_sync(
            lambda: self._s3.multipart.create(
                bucket,
                key,
                meta_from_headers(call.headers),
                tags=tags,
                owned=owned,
                checksum_algorithm=algorithm.upper() if algorithm else None,
                checksum_type=checksum_type.upper() if checksum_type else None,
                encryption=encryption,
            )
        )
        reply = xml_reply("InitiateMultipartUploadResult", fields(Bucket=bucket, Key=key, UploadId=upload.upload_id))
        reply.headers.update(upload_checksum_headers(upload))
        reply.headers.update(encryption_headers(upload.encryption, encryption.customer_key if encryption else None))
        return reply

    async def upload_part(self, call: Call) -> Reply:
        """UploadPart."""
        require_length(call.headers)
        number = _int(call.query["partNumber"], "partNumber")
        claimed, trailing = claimed_checksums(call.headers)
        secret = customer_key(call, self._s3.customer_keys_over_http)
        writer = await to_thread.run_sync(
            lambda: self._s3.multipart.part_writer(
                call.path_params["Bucket"],
                call.path_params["Key"],
                call.query["uploadId"],
                number,
                checksums=claimed,
                checksum_algorithms=trailing,
                customer_key=secret,
            )
        )
        await stream_into(writer, call.body)
        part = await to_thread.run_sync(writer.commit_part, call.headers.get("content-md5"))
        sealed = encryption_headers(writer.encryption, secret)
        return Reply(headers={"etag": part.etag, **_part_checksum_headers(part), **sealed})

    async def upload_part_copy(self, call: Call) -> Reply:
        """UploadPartCopy: a part copied from an object in the lake, whole or a byte range of it."""
        number = _int(call.query["partNumber"], "partNumber")
        source_bucket, source_key = parse_copy_source(call.headers["x-amz-copy-source"])
        source_version = copy_source_version(call.headers["x-amz-copy-source"])
        source_secret = customer_key(call, self._s3.customer_keys_over_http, COPY_SOURCE_SSE_C)
        source = await to_thread.run_sync(
            self._s3.lake.head_for_reading, source_bucket, source_key, source_version, source_secret
        )
        start, end = _copy_range(call.headers.get("x-amz-copy-source-range"), source.size)
        secret = customer_key(call, self._s3.customer_keys_over_http)
        writer = await to_thread.run_sync(
            lambda: self._s3.multipart.part_writer(
                call.path_params["Bucket"], call.path_params["Key"], call.query["uploadId"], number, customer_key=secret
            )
        )

        def copy() -> Part:
            with writer:
                for chunk in self._s3.lake.read(source, start, end, customer_key=source_secret):
                    writer.write(chunk)
                return writer.commit_part()

        part = await to_thread.run_sync(copy)
        reply = xml_reply(
            "CopyPartResult",
            [*fields(ETag=part.etag, LastModified=iso(part.last_modified)), *checksum_fields(part.checksums)],
        )
        reply.headers.update(encryption_headers(writer.encryption, secret))
        if source_version is not None:
            reply.headers["x-amz-copy-source-version-id"] = source_version
        return reply

    async def complete_multipart_upload(self, call: Call) -> Reply:
        """CompleteMultipartUpload: the parts the body names, in order, become the object (if its condition holds)."""
        condition = write_condition(call.headers)
        root = parse(await call.body.read(), "CompleteMultipartUpload")
        nodes = children(root, "Part")
        chosen = [(_int(text(node, "PartNumber"), "PartNumber", MalformedXML), text(node, "ETag")) for node in nodes]
        if not chosen:
            raise MalformedXML("<CompleteMultipartUpload> must name at least one <Part>")
        claims = _completion_claims(
            call.headers, {number: element_checksums(n) for (number, _), n in zip(chosen, nodes, strict=True)}
        )
        bucket, key = call.path_params["Bucket"], call.path_params["Key"]
        secret = customer_key(call, self._s3.customer_keys_over_http)
        info = await to_thread.run_sync(
            lambda: self._s3.multipart.complete(
                bucket, key, call.query["uploadId"], chosen, call.caller, condition, claims, customer_key=secret
            )
        )
        location = f"{call.base_url}{bucket}/{key}"
        reply = xml_reply(
            "CompleteMultipartUploadResult",
            [
                *fields(Location=location, Bucket=bucket, Key=key, ETag=info.etag),
                *checksum_fields(info.checksums, with_type=True),
            ],
        )
        reply.headers.update(version_headers(info))
        reply.headers.update(encryption_headers(info.encryption, secret))
        return reply

    async def abort_multipart_upload(self, call: Call) -> Reply:
        """AbortMultipartUpload."""
        await to_thread.run_sync(
            self._s3.multipart.abort, call.path_params["Bucket"], call.path_params["Key"], call.query["uploadId"]
        )
        return Reply(status=204)

    async def list_parts(self, call: Call) -> Reply:
        """ListParts, paged by part-number-marker and max-parts."""
        bucket, key, upload_id = call.path_params["Bucket"], call.path_params["Key"], call.query["uploadId"]
        after = _int(call.query.get("part-number-marker", "0"), "part-number-marker", bounds=(0, MAX_INT))
        max_parts = min(_int(call.query.get("max-parts", "1000"), "max-parts", bounds=(0, MAX_INT)), 1000)
        upload, found = await to_thread.run_sync(
            lambda: (
                self._s3.multipart.get(bucket, key, upload_id),
                self._s3.multipart.list_parts(bucket, key, upload_id, after=after, max_parts=max_parts),
            )
        )
        truncated = len(found) > max_parts
        shown = found[:max_parts]
        head = fields(
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            PartNumberMarker=after,
            NextPartNumberMarker=shown[-1].number if shown else 0,
            MaxParts=max_parts,
            IsTruncated=truncated,
            StorageClass="STANDARD",
        )
        parts = [
            element(
                "Part",
                *fields(PartNumber=p.number, LastModified=iso(p.last_modified), ETag=p.etag, Size=p.size),
                *checksum_fields(p.checksums),
            )
            for p in shown
        ]
        return xml_reply("ListPartsResult", [*head, *upload_checksum_fields(upload), *parts])


def _copy_range(header: str | None, size: int) -> tuple[int, int]:
    """[start, end) from x-amz-copy-source-range ("bytes=first-last", both inclusive and required).

    As S3: a range that is not of that form is InvalidArgument; one that reaches past the source, InvalidRange.
    """
    if header is None:
        return 0, size
    first, sep, last = header.removeprefix("bytes=").partition("-")
    well_formed = header.startswith("bytes=") and sep and first.isascii() and last.isascii()
    if not (well_formed and first.isdigit() and last.isdigit()) or int(first) > int(last):
        raise InvalidArgument(
            f"x-amz-copy-source-range={header!r}; the range value must be of the form bytes=first-last where first "
            "and last are the zero-based offsets of the first and last bytes to copy"
        )
    start, stop = int(first), int(last) + 1
    if stop > size:
        raise InvalidRange(f"x-amz-copy-source-range={header!r} is not satisfiable: the source object has {size} bytes")
    return start, stop


def _completion_claims(headers: Mapping[str, str], part_checksums: dict[int, dict[str, str]]) -> CompletionClaims:
    size = headers.get("x-amz-mp-object-size")
    checksum_type = headers.get("x-amz-checksum-type")
    return CompletionClaims(
        part_checksums={number: found for number, found in part_checksums.items() if found},
        checksums=declared_checksums(headers),
        checksum_type=checksum_type.upper() if checksum_type else None,
        size=None if size is None else _int(size, "x-amz-mp-object-size", bounds=(0, 2**63 - 1)),
    )


def _part_checksum_headers(part: Part) -> dict[str, str]:
    return {CHECKSUM_PREFIX + name.lower(): value for name, value in part.checksums.items()}


def _int(
    value: str, name: str, error: type[BadRequest] = InvalidArgument, *, bounds: tuple[int, int] | None = None
) -> int:
    try:
        number = int(value)
    except ValueError:
        raise error(f"{name}={value!r}; expected an integer") from None
    if bounds is not None and not bounds[0] <= number <= bounds[1]:
        raise error(f"{name}={value!r}; expected an integer from {bounds[0]} to {bounds[1]}")
    return number
