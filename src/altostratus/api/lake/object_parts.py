"""GetObject and HeadObject with partNumber: one part of a multipart object, as S3 serves it."""

from __future__ import annotations

from collections.abc import Mapping

from altostratus.api.lake.checksums import checksum_headers
from altostratus.api.lake.headers import byte_range
from altostratus.core.errors import AltoError, BadRequest, InvalidArgument
from altostratus.lake.multipart import MAX_PARTS
from altostratus.lake.objects import ObjectInfo


class InvalidPartNumber(AltoError):
    """The requested partnumber is not satisfiable."""

    code = "InvalidPartNumber"
    status = 416


def part_number(query: Mapping[str, str], headers: Mapping[str, str]) -> int | None:
    """The partNumber a GET or HEAD asks for (None: the whole object), checked as S3 checks it."""
    value = query.get("partNumber")
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_PARTS):
        raise InvalidArgument(f"partNumber={value!r}; expected an integer from 1 to {MAX_PARTS}")
    if "range" in headers:
        raise BadRequest("Cannot specify both Range header and partNumber query parameter")
    return int(value)


def part_span(info: ObjectInfo, number: int) -> tuple[int, int]:
    """The [start, end) of part `number`; an object written whole is its own part 1."""
    sizes = [part.size for part in info.parts] or [info.size]
    if number > len(sizes):
        raise InvalidPartNumber(
            f"The requested partnumber is not satisfiable: partNumber={number}, and the object has "
            f"{len(sizes)} part{'s' if len(sizes) > 1 else ''}"
        )
    start = sum(sizes[: number - 1])
    return start, start + sizes[number - 1]


def part_headers(info: ObjectInfo, number: int, span: tuple[int, int]) -> dict[str, str]:
    """Content-Range, x-amz-mp-parts-count and the part's checksums, which S3 sends for a part of a multipart object."""
    start, end = span
    out = {"content-range": f"bytes {start}-{end - 1}/{info.size}"} if end > start else {}
    if info.parts:
        out["x-amz-mp-parts-count"] = str(len(info.parts))
        part = info.parts[number - 1]
        if part.checksums and info.checksums:
            out.update(checksum_headers(part.checksums))
            out["x-amz-checksum-type"] = checksum_headers(info.checksums)["x-amz-checksum-type"]
    return out


def read_span(
    info: ObjectInfo, query: Mapping[str, str], headers: Mapping[str, str]
) -> tuple[int, int, int, dict[str, str]]:
    """What a GET or HEAD answers: (start, end, status, headers) for the whole object, a part or a byte range.

    Checksums come with the whole object when x-amz-checksum-mode is ENABLED (a range has none: it is not what
    they were computed over), and with a part of a multipart object always, as S3 sends them.
    """
    checksum_mode = headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"
    number = part_number(query, headers)
    if number is not None:
        start, end = part_span(info, number)
        extra = part_headers(info, number, (start, end))
        if checksum_mode and not info.parts:
            extra.update(checksum_headers(info.checksums))
        return start, end, 206 if end > start else 200, extra
    span = byte_range(headers.get("range"), info.size)
    if span is None:
        return 0, info.size, 200, checksum_headers(info.checksums) if checksum_mode else {}
    start, end = span
    return start, end, 206, {"content-range": f"bytes {start}-{end - 1}/{info.size}"}
