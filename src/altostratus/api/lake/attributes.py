"""GetObjectAttributes: an object's ETag, checksum, parts, storage class and size, without its bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.checksums import checksum_fields
from altostratus.api.lake.encryption_headers import customer_key
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import element, fields, http_date, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import InvalidArgument
from altostratus.lake.multipart import MAX_PARTS
from altostratus.lake.objects import NULL_VERSION, ObjectInfo

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")
MAX_INT = 2**31 - 1


class AttributeOperations:
    """S3's GetObjectAttributes, named as boto3 names it."""

    _s3: S3Services

    async def get_object_attributes(self, call: Call) -> Reply:
        """GetObjectAttributes: the attributes x-amz-object-attributes names, ObjectParts paged like ListParts."""
        wanted = _attributes(call.headers.get("x-amz-object-attributes", ""))
        max_parts = _header_int(call.headers, "x-amz-max-parts", 1000)
        marker = _header_int(call.headers, "x-amz-part-number-marker", 0)
        bucket, key, version_id = call.path_params["Bucket"], call.path_params["Key"], call.query.get("versionId")
        # An SSE-C object's attributes (its checksums tell of its bytes) are shown only with its key, as S3 does.
        secret = customer_key(call, self._s3.customer_keys_over_http)
        info = await to_thread.run_sync(self._s3.lake.head_for_reading, bucket, key, version_id, secret)
        body = [
            *fields(ETag=info.etag.strip('"') if "ETag" in wanted else None),
            element("Checksum", *checksum_fields(info.checksums, with_type=True))
            if "Checksum" in wanted and info.checksums
            else None,
            _object_parts(info, marker, min(max_parts, 1000)) if "ObjectParts" in wanted and info.parts else None,
            *fields(
                StorageClass="STANDARD" if "StorageClass" in wanted else None,
                ObjectSize=info.size if "ObjectSize" in wanted else None,
            ),
        ]
        reply = xml_reply("GetObjectAttributesResponse", [node for node in body if node is not None])
        reply.headers["last-modified"] = http_date(info.last_modified)
        if info.version_id != NULL_VERSION or version_id is not None:
            reply.headers["x-amz-version-id"] = info.version_id
        return reply


def _attributes(header: str) -> set[str]:
    names = {name.strip() for name in header.split(",") if name.strip()}
    unknown = sorted(names - set(ATTRIBUTES))
    if not names or unknown:
        raise InvalidArgument(
            f"x-amz-object-attributes={header!r}: Invalid attribute name specified; expected some of {list(ATTRIBUTES)}"
        )
    return names


def _header_int(headers: Mapping[str, str], name: str, default: int) -> int:
    value = headers.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and int(value) <= MAX_INT):
        raise InvalidArgument(f"{name}={value!r}; expected an integer from 0 to {MAX_INT}")
    return int(value)


def _object_parts(info: ObjectInfo, marker: int, max_parts: int) -> ET.Element:
    """<ObjectParts>: the parts numbered above `marker`, at most max_parts of them."""
    numbered = list(enumerate(info.parts, start=1))[marker : marker + max_parts] if marker < MAX_PARTS else []
    truncated = bool(numbered) and numbered[-1][0] < len(info.parts)
    return element(
        "ObjectParts",
        *fields(
            PartsCount=len(info.parts),
            PartNumberMarker=marker,
            NextPartNumberMarker=numbered[-1][0] if numbered else marker,
            MaxParts=max_parts,
            IsTruncated=truncated,
        ),
        *[
            element("Part", *fields(PartNumber=number, Size=part.size), *checksum_fields(part.checksums))
            for number, part in numbered
        ],
    )
