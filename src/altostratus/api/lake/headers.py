"""Object metadata carried in HTTP headers, byte ranges and conditional requests."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from altostratus.api.lake.xml import http_date
from altostratus.core.errors import InvalidArgument, NotImplementedOperation, PreconditionFailed
from altostratus.lake.errors import InvalidRange, NotModified
from altostratus.lake.objects import ObjectInfo, ObjectMeta, WriteCondition

STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
META_PREFIX = "x-amz-meta-"
# Response headers a GET may override with response-* query parameters.
OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# What an HTTP header value may hold: visible Latin-1 and tabs, no line breaks or other controls.
_HEADER_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")
# Server-side encryption of every kind (SSE-S3, SSE-KMS, SSE-C, and SSE-C for a copy's source) is asked for with
# headers of these prefixes. The lake stores bytes as they come, so a request naming any of them is refused.
ENCRYPTION_PREFIXES = ("x-amz-server-side-encryption", "x-amz-copy-source-server-side-encryption")
# Values that are not secrets (a customer key is one) and may be shown back.
_SHOWN_ENCRYPTION_VALUES = ("x-amz-server-side-encryption", "x-amz-server-side-encryption-customer-algorithm")


def refuse_encryption(headers: Mapping[str, str]) -> None:
    """NotImplemented for a request asking for server-side encryption, which the lake would silently not do."""
    asked = sorted(name for name in headers if name.startswith(ENCRYPTION_PREFIXES))
    if not asked:
        return
    shown = [f"{name}={headers[name]!r}" if name in _SHOWN_ENCRYPTION_VALUES else name for name in asked]
    raise NotImplementedOperation(
        f"A header you provided implies functionality that is not implemented: {', '.join(shown)}. This server "
        "stores objects unencrypted and offers no server-side encryption (SSE-S3, SSE-KMS or SSE-C); send the "
        "request without these headers, or encrypt on the client"
    )


def meta_from_headers(headers: Mapping[str, str]) -> ObjectMeta:
    """The metadata a PUT or CreateMultipartUpload carries in its headers."""
    stored = {name: headers[name] for name in STORED_HEADERS if name in headers}
    encoding = ",".join(p for p in stored.get("content-encoding", "").split(",") if p.strip() != "aws-chunked")
    if encoding:
        stored["content-encoding"] = encoding
    else:
        stored.pop("content-encoding", None)
    user = {name[len(META_PREFIX) :]: value for name, value in headers.items() if name.startswith(META_PREFIX)}
    return ObjectMeta(headers.get("content-type") or "binary/octet-stream", stored, user)


def object_headers(info: ObjectInfo, query: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers GET and HEAD answer with for this object."""
    out = {
        "etag": info.etag,
        "last-modified": http_date(info.last_modified),
        "content-type": info.meta.content_type,
        "accept-ranges": "bytes",
        **info.meta.headers,
    }
    out.update({META_PREFIX + name: value for name, value in info.meta.user_metadata.items()})
    for param, header in OVERRIDES.items():
        if query and param in query:
            if not _HEADER_VALUE.match(query[param]):
                raise InvalidArgument(
                    f"{param}={query[param]!r}: a response header value must be Latin-1 text without control characters"
                )
            out[header] = query[param]
    return out


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The [start, end) a Range header asks for; None for the whole object; InvalidRange if unsatisfiable."""
    if not header:
        return None
    found = _RANGE.match(header.strip())
    if found is None or found.groups() == ("", ""):
        return None  # S3 ignores a Range it cannot parse and sends the whole object
    first, last = found.groups()
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise InvalidRange(f"Range={header!r} asks for no bytes of an object of {size} bytes")
        return max(0, size - length), size
    start = int(first)
    if last != "" and int(last) < start:
        return None  # an invalid byte-range-spec (RFC 9110 14.1.1) is ignored like an unparseable one
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size:
        raise InvalidRange(f"Range={header!r} is not satisfiable for an object of {size} bytes")
    return start, end


def write_condition(headers: Mapping[str, str]) -> WriteCondition | None:
    """A PUT's (or CompleteMultipartUpload's) If-None-Match: * and If-Match: ETag, as S3's conditional writes."""
    none_match, match = headers.get("if-none-match"), headers.get("if-match")
    if none_match is None and match is None:
        return None
    if none_match is not None and none_match.strip() != "*":
        raise NotImplementedOperation(
            "A header you provided implies functionality that is not implemented: If-None-Match accepts only *"
        )
    return WriteCondition(if_none_match=none_match is not None, if_match=match)


def check_conditions(headers: Mapping[str, str], info: ObjectInfo) -> None:
    """Apply If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since as S3 does."""
    etag = info.etag.strip('"')
    if "if-match" in headers and headers["if-match"].strip() != "*" and etag not in _etags(headers["if-match"]):
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold: If-Match")
    if "if-unmodified-since" in headers and "if-match" not in headers:
        since = _date(headers["if-unmodified-since"])
        if since is not None and info.last_modified.replace(microsecond=0) > since:
            raise PreconditionFailed(
                "At least one of the pre-conditions you specified did not hold: If-Unmodified-Since"
            )
    if "if-none-match" in headers and (etag in _etags(headers["if-none-match"]) or headers["if-none-match"] == "*"):
        raise NotModified("Not Modified")
    if "if-modified-since" in headers and "if-none-match" not in headers:
        since = _date(headers["if-modified-since"])
        if since is not None and info.last_modified.replace(microsecond=0) <= since:
            raise NotModified("Not Modified")


def _etags(value: str) -> set[str]:
    return {part.strip().strip('"') for part in value.split(",")}


def _date(value: str) -> dt.datetime | None:
    # S3 ignores a condition whose date it cannot read; years past 9999 overflow rather than fail to parse.
    try:
        when = parsedate_to_datetime(value)
        return when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None
