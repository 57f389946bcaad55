"""Object metadata carried in HTTP headers, byte ranges and conditional requests."""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from altostratus.api.lake.object_lock import lock_headers
from altostratus.api.lake.xml import http_date
from altostratus.core.errors import (
    AccessDenied,
    BadRequest,
    InvalidArgument,
    NotImplementedOperation,
    PreconditionFailed,
)
from altostratus.core.ids import ACCOUNT_ID
from altostratus.lake.errors import InvalidRange, NotModified
from altostratus.lake.objects import NULL_VERSION, ObjectInfo, ObjectMeta, WriteCondition
from altostratus.lake.tagging import header_tags

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


# S3's storage classes: one exists here, STANDARD; the others are refused rather than silently stored as STANDARD.
STORAGE_CLASSES = frozenset(
    {
        "STANDARD",
        "REDUCED_REDUNDANCY",
        "STANDARD_IA",
        "ONEZONE_IA",
        "INTELLIGENT_TIERING",
        "GLACIER",
        "DEEP_ARCHIVE",
        "OUTPOSTS",
        "GLACIER_IR",
        "SNOW",
        "EXPRESS_ONEZONE",
        "FSX_OPENZFS",
    }
)


class InvalidStorageClass(BadRequest):
    """The storage class you specified is not valid."""

    code = "InvalidStorageClass"


def refuse_unoffered(headers: Mapping[str, str]) -> None:
    """InvalidStorageClass or NotImplemented for what a write asks of S3 that the lake does not offer: storage
    classes other than STANDARD, website redirects (there is no website hosting)."""
    storage_class = headers.get("x-amz-storage-class")
    if storage_class is not None and storage_class != "STANDARD":
        if storage_class not in STORAGE_CLASSES:
            raise InvalidStorageClass(
                f"x-amz-storage-class={storage_class[:64]!r}; expected one of {sorted(STORAGE_CLASSES)}"
            )
        raise NotImplementedOperation(
            "A header you provided implies functionality that is not implemented: "
            f"x-amz-storage-class={storage_class!r} (the lake keeps every object in one class, STANDARD)"
        )
    if "x-amz-website-redirect-location" in headers:
        raise NotImplementedOperation(
            "A header you provided implies functionality that is not implemented: x-amz-website-redirect-location "
            "(this server does not host websites)"
        )


EXPECTED_OWNER_HEADERS = ("x-amz-expected-bucket-owner", "x-amz-source-expected-bucket-owner")


def check_expected_owner(headers: Mapping[str, str]) -> None:
    """AccessDenied, as S3 answers, when a request expects its bucket (or its copy source's) to belong to another
    account than this platform's one account, which owns every bucket (its users own theirs within it)."""
    for name in EXPECTED_OWNER_HEADERS:
        wanted = headers.get(name)
        if wanted is not None and wanted.strip() != ACCOUNT_ID:
            raise AccessDenied(
                f"Access Denied: {name}={wanted!r}, but every bucket here belongs to account {ACCOUNT_ID}"
            )


def meta_from_headers(headers: Mapping[str, str]) -> ObjectMeta:
    """The metadata a PUT or CreateMultipartUpload carries in its headers."""
    stored = {name: headers[name] for name in STORED_HEADERS if name in headers}
    encoding = ",".join(p for p in stored.get("content-encoding", "").split(",") if p.strip() != "aws-chunked").strip()
    if encoding:
        stored["content-encoding"] = encoding
    else:
        stored.pop("content-encoding", None)
    user = {name[len(META_PREFIX) :]: _text(value) for name, value in headers.items() if name.startswith(META_PREFIX)}
    return ObjectMeta(headers.get("content-type") or "binary/octet-stream", stored, user)


def _text(value: str) -> str:
    # Header values arrive as Latin-1 text; a client that sent UTF-8 bytes (as the Java and Go SDKs do) meant them
    # as UTF-8, and anything else is taken as the Latin-1 it is.
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _mail_safe(value: str) -> str:
    # S3 answers a metadata value that is not ASCII RFC 2047-encoded (its docs: "to make them mail-safe").
    return value if value.isascii() else "=?UTF-8?B?" + base64.b64encode(value.encode()).decode() + "?="


def object_headers(info: ObjectInfo, query: Mapping[str, str] | None = None) -> dict[str, str]:
    """The headers GET and HEAD answer with for this object."""
    out = {
        "etag": info.etag,
        "last-modified": http_date(info.last_modified),
        "content-type": info.meta.content_type,
        "accept-ranges": "bytes",
        **info.meta.headers,
    }
    out.update({META_PREFIX + name: _mail_safe(value) for name, value in info.meta.user_metadata.items()})
    if info.version_id != NULL_VERSION or (query and "versionId" in query):
        out["x-amz-version-id"] = info.version_id
    out.update(lock_headers(info))
    if info.tags:
        out["x-amz-tagging-count"] = str(len(info.tags))
    for param, header in OVERRIDES.items():
        if query and param in query:
            if not _HEADER_VALUE.match(query[param]):
                raise InvalidArgument(
                    f"{param}={query[param]!r}: a response header value must be Latin-1 text without control characters"
                )
            out[header] = query[param]
    return out


def copy_tags(headers: Mapping[str, str]) -> dict[str, str] | None:
    """The tags CopyObject gives its copy: None for the source's (x-amz-tagging-directive: COPY, the default), or
    x-amz-tagging's (REPLACE; none without it). x-amz-tagging with COPY is refused: it could not be honoured."""
    directive = headers.get("x-amz-tagging-directive", "COPY")
    if directive.upper() not in ("COPY", "REPLACE"):
        raise InvalidArgument(f"x-amz-tagging-directive={directive!r}; expected COPY or REPLACE")
    if directive.upper() == "REPLACE":
        return header_tags(headers.get("x-amz-tagging"))
    if "x-amz-tagging" in headers:
        raise InvalidArgument(
            "x-amz-tagging is used only with x-amz-tagging-directive: REPLACE; with COPY (the default) the copy "
            "takes the source object's tags"
        )
    return None


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
        raise NotModified("Not Modified", response_headers=_validators(info))
    if "if-modified-since" in headers and "if-none-match" not in headers:
        since = _date(headers["if-modified-since"])
        if since is not None and info.last_modified.replace(microsecond=0) <= since:
            raise NotModified("Not Modified", response_headers=_validators(info))


def _validators(info: ObjectInfo) -> dict[str, str]:
    # A 304 carries the headers a cache revalidates with (RFC 9110 15.4.5), as S3 sends them.
    return {"etag": info.etag, "last-modified": http_date(info.last_modified)}


def _etags(value: str) -> set[str]:
    return {part.strip().strip('"') for part in value.split(",")}


def _date(value: str) -> dt.datetime | None:
    # S3 ignores a condition whose date it cannot read; years past 9999 overflow rather than fail to parse.
    try:
        when = parsedate_to_datetime(value)
        return when.astimezone(dt.UTC) if when.tzinfo else when.replace(tzinfo=dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None
