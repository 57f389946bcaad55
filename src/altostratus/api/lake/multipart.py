"""S3 multipart upload operations."""

from __future__ import annotations

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.headers import meta_from_headers, write_condition
from altostratus.api.lake.objects import claimed_checksums, parse_copy_source, require_length, stream_into
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import MalformedXML, children, element, fields, iso, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import BadRequest, InvalidArgument
from altostratus.lake.objects import Part

MAX_INT = 2**31 - 1


class MultipartOperations:
    """S3's multipart upload operations, one method each, named as boto3 names them."""

    _s3: S3Services

    async def create_multipart_upload(self, call: Call) -> Reply:
        """CreateMultipartUpload."""
        bucket, key = call.path_params["Bucket"], call.path_params["Key"]
        upload = await to_thread.run_sync(self._s3.multipart.create, bucket, key, meta_from_headers(call.headers))
        return xml_reply("InitiateMultipartUploadResult", fields(Bucket=bucket, Key=key, UploadId=upload.upload_id))

    async def upload_part(self, call: Call) -> Reply:
        """UploadPart."""
        require_length(call.headers)
        number = _int(call.query["partNumber"], "partNumber")
        claimed, trailing = claimed_checksums(call.headers)
        writer = await to_thread.run_sync(
            lambda: self._s3.multipart.part_writer(
                call.path_params["Bucket"],
                call.path_params["Key"],
                call.query["uploadId"],
                number,
                checksums=claimed,
                checksum_algorithms=trailing,
            )
        )
        await stream_into(writer, call.body)
        part = await to_thread.run_sync(writer.commit_part, call.headers.get("content-md5"))
        return Reply(headers={"etag": part.etag})

    async def upload_part_copy(self, call: Call) -> Reply:
        """UploadPartCopy: a part copied from an object in the lake, whole or a byte range of it."""
        number = _int(call.query["partNumber"], "partNumber")
        source_bucket, source_key = parse_copy_source(call.headers["x-amz-copy-source"])
        source = await to_thread.run_sync(self._s3.lake.head, source_bucket, source_key)
        start, end = _copy_range(call.headers.get("x-amz-copy-source-range"), source.size)
        writer = await to_thread.run_sync(
            self._s3.multipart.part_writer,
            call.path_params["Bucket"],
            call.path_params["Key"],
            call.query["uploadId"],
            number,
        )

        def copy() -> Part:
            with writer:
                for chunk in self._s3.lake.read(source, start, end):
                    writer.write(chunk)
                return writer.commit_part()

        part = await to_thread.run_sync(copy)
        return xml_reply("CopyPartResult", fields(ETag=part.etag, LastModified=iso(part.last_modified)))

    async def complete_multipart_upload(self, call: Call) -> Reply:
        """CompleteMultipartUpload: the parts the body names, in order, become the object (if its condition holds)."""
        condition = write_condition(call.headers)
        root = parse(await call.body.read(), "CompleteMultipartUpload")
        chosen = [
            (_int(text(node, "PartNumber"), "PartNumber", MalformedXML), text(node, "ETag"))
            for node in children(root, "Part")
        ]
        if not chosen:
            raise MalformedXML("<CompleteMultipartUpload> must name at least one <Part>")
        bucket, key = call.path_params["Bucket"], call.path_params["Key"]
        info = await to_thread.run_sync(
            self._s3.multipart.complete, bucket, key, call.query["uploadId"], chosen, call.caller, condition
        )
        location = f"{call.base_url}{bucket}/{key}"
        return xml_reply(
            "CompleteMultipartUploadResult", fields(Location=location, Bucket=bucket, Key=key, ETag=info.etag)
        )

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
        found = await to_thread.run_sync(
            lambda: self._s3.multipart.list_parts(bucket, key, upload_id, after=after, max_parts=max_parts)
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
            element("Part", *fields(PartNumber=p.number, LastModified=iso(p.last_modified), ETag=p.etag, Size=p.size))
            for p in shown
        ]
        return xml_reply("ListPartsResult", [*head, *parts])


def _copy_range(header: str | None, size: int) -> tuple[int, int]:
    """[start, end) from x-amz-copy-source-range ("bytes=first-last", both inclusive and required)."""
    if header is None:
        return 0, size
    first, sep, last = header.removeprefix("bytes=").partition("-")
    if not header.startswith("bytes=") or not sep or not first.isdigit() or not last.isdigit():
        raise InvalidArgument(f"x-amz-copy-source-range={header!r}; expected bytes=first-last")
    start, stop = int(first), int(last) + 1
    if start >= stop or stop > size:
        raise InvalidArgument(f"x-amz-copy-source-range={header!r} lies outside the source object of {size} bytes")
    return start, stop


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
