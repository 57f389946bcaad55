"""Object and bucket tags: S3's rules for a tag set, the x-amz-tagging header's format, and setting them.

A tag set is at most 10 tags on an object and 50 on a bucket. A key is 1 to 128 characters and a value 0 to 256,
counted as S3 counts them (in UTF-16 code units, so a character outside the Basic Multilingual Plane counts
twice), made of Unicode letters, digits and white space and the symbols `_ . : / = + - @`; keys are unique and
none starts with the reserved prefix `aws:`. Changing an object's tags is not a new version: its ETag and
Last-Modified stay, and the change is announced as S3's ObjectTagging events, never as ObjectCreated.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from sqlalchemy import select, update

from altostratus.core.caller import Caller
from altostratus.core.errors import InvalidArgument
from altostratus.lake import records
from altostratus.lake.errors import InvalidTag, NoSuchTagSet, OperationAborted, TooManyTags
from altostratus.lake.objects import ObjectInfo
from altostratus.lake.tables import buckets, objects

if TYPE_CHECKING:
    from altostratus.lake.service import LakeService

MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_PREFIX = "aws:"
SYMBOLS = frozenset("_.:/=+-@")
ALLOWED = "Unicode letters, digits and white space, and the symbols _ . : / = + - @"
HEADER = "x-amz-tagging"
_HEADER_RULE = (
    "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name "
    "duplicates."
)
# Error messages show at most this much of a value a caller sent (a hostile one may be long).
_SHOWN = 64


@dataclasses.dataclass(frozen=True)
class TagSetKind:
    """What a tag set belongs to, the most tags it may hold, and S3's words for a set with more."""

    name: str
    most: int
    too_many: str


OBJECT_TAGS = TagSetKind("object", 10, "Object tags cannot be greater than 10")
BUCKET_TAGS = TagSetKind("bucket", 50, "Bucket tag count cannot be greater than 50")


def check_tags(tags: Iterable[tuple[str, str]], kind: TagSetKind) -> dict[str, str]:
    """The (key, value) pairs as a tag set, if S3 would accept them for `kind`; TooManyTags or InvalidTag if not."""
    pairs = list(tags)
    if len(pairs) > kind.most:
        raise TooManyTags(f"{kind.too_many}: the request has {len(pairs)} tags for the {kind.name}")
    checked: dict[str, str] = {}
    for key, value in pairs:
        _check_text("TagKey", key, 1, MAX_KEY_LENGTH)
        _check_text("TagValue", value, 0, MAX_VALUE_LENGTH)
        if key.startswith(RESERVED_PREFIX):
            raise InvalidTag(
                f"Your TagKey cannot be prefixed with {RESERVED_PREFIX}: TagKey={_shown(key)}; that prefix is "
                "reserved for system tags"
            )
        if key in checked:
            raise InvalidTag(f"Cannot provide multiple Tags with the same key: TagKey={_shown(key)}")
        checked[key] = value
    return checked


def parse_header(value: str) -> list[tuple[str, str]]:
    """The (key, value) pairs of an x-amz-tagging header, "a=1&b=two", URL-encoded as a form query; a key without
    "=" holds the empty value. InvalidArgument for a header that is not such a query or names a key twice."""
    if not value.isascii():
        raise InvalidArgument(f"{_HEADER_RULE} {HEADER}={_shown(value)} holds characters that are not URL-encoded")
    pairs: list[tuple[str, str]] = []
    seen: set[str] = set()
    for piece in value.split("&"):
        if not piece:
            continue
        name, _, rest = piece.partition("=")
        if "=" in rest:
            raise InvalidArgument(f"{_HEADER_RULE} {HEADER} holds {_shown(piece)}, which has more than one '='")
        try:
            key, text = unquote_plus(name, errors="strict"), unquote_plus(rest, errors="strict")
        except UnicodeDecodeError:
            raise InvalidArgument(f"{_HEADER_RULE} {HEADER} holds {_shown(piece)}, which is not UTF-8") from None
        if key in seen:
            raise InvalidArgument(f"{_HEADER_RULE} {HEADER} names the key {_shown(key)} more than once")
        seen.add(key)
        pairs.append((key, text))
    return pairs


def header_tags(value: str | None) -> dict[str, str]:
    """An object's tag set from its x-amz-tagging header, checked (none when the header is absent)."""
    return {} if value is None else check_tags(parse_header(value), OBJECT_TAGS)


def _check_text(field: str, text: str, shortest: int, longest: int) -> None:
    length = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    if not shortest <= length <= longest:
        raise InvalidTag(
            f"The {field} you have provided is invalid: {field}={_shown(text)} has {length} characters; expected "
            f"{shortest} to {longest}"
        )
    wrong = next((c for c in text if c not in SYMBOLS and unicodedata.category(c)[0] not in "LNZ"), None)
    if wrong is not None:
        raise InvalidTag(
            f"The {field} you have provided is invalid: {field}={_shown(text)} holds {wrong!r}; expected {ALLOWED}"
        )


def _shown(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN else f"{text[:_SHOWN]!r}... ({len(text)} characters)"


class Tagging:
    """Read, replace and remove the tag sets of objects (any version) and buckets."""

    def __init__(self, lake: LakeService) -> None:
        self._lake = lake

    def object_tags(self, bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        """The object (its latest version, or the one named), whose `tags` are its tag set."""
        return self._lake.head(bucket, key, version_id)

    def set_object_tags(
        self,
        bucket: str,
        key: str,
        tags: Iterable[tuple[str, str]],
        *,
        version_id: str | None = None,
        caller: Caller | None = None,
    ) -> ObjectInfo:
        """Replace the object's tag set (an empty one removes it); the object keeps its ETag and Last-Modified."""
        checked = check_tags(tags, OBJECT_TAGS)
        info = self._replace(bucket, key, version_id, checked)
        self._lake.announce("ObjectTagging:Put", bucket, key, info, caller)
        return info

    def delete_object_tags(
        self, bucket: str, key: str, *, version_id: str | None = None, caller: Caller | None = None
    ) -> ObjectInfo:
        """Remove the object's tag set."""
        info = self._replace(bucket, key, version_id, {})
        self._lake.announce("ObjectTagging:Delete", bucket, key, info, caller)
        return info

    def bucket_tags(self, bucket: str) -> dict[str, str]:
        """The bucket's tag set; NoSuchTagSet when it has none."""
        with self._lake.store.read() as db:
            found = db.execute(select(buckets.c.tags).where(buckets.c.name == bucket)).first()
            if found is None:
                records.get_bucket(db, bucket)
        if found is None or found.tags is None:
            raise NoSuchTagSet(f"The TagSet does not exist: Bucket={bucket!r} has no tags", bucket=bucket)
        return dict(found.tags)

    def set_bucket_tags(self, bucket: str, tags: Iterable[tuple[str, str]]) -> None:
        """Replace the bucket's tag set; an empty one leaves the bucket with none, as DeleteBucketTagging does."""
        self._set_bucket_tags(bucket, check_tags(tags, BUCKET_TAGS) or None)

    def delete_bucket_tags(self, bucket: str) -> None:
        """Remove the bucket's tag set."""
        self._set_bucket_tags(bucket, None)

    def _set_bucket_tags(self, bucket: str, tags: Mapping[str, str] | None) -> None:
        with self._lake.store.begin() as db:
            changed = db.execute(update(buckets).where(buckets.c.name == bucket).values(tags=tags)).rowcount
            if not changed:
                records.get_bucket(db, bucket)

    def _replace(self, bucket: str, key: str, version_id: str | None, tags: dict[str, str]) -> ObjectInfo:
        info = self._lake.head(bucket, key, version_id)
        # The version found above, by its own blob (a small one has none: by its ETag and time): an overwrite
        # meanwhile (which replaces an unversioned object's row) leaves nothing to tag, rather than the newer object.
        same = (
            objects.c.bucket == bucket,
            objects.c.key == key,
            objects.c.version_id == info.version_id,
            objects.c.blob_key == info.blob_key,
            objects.c.etag == info.etag,
            objects.c.last_modified == info.last_modified,
        )
        with self._lake.store.begin() as db:
            if not db.execute(update(objects).where(*same).values(tags=tags)).rowcount:
                raise OperationAborted(
                    f"A conflicting conditional operation is currently in progress against this resource: Key={key!r} "
                    f"in Bucket={bucket!r} changed while its tags were being set. Please try again."
                )
        return dataclasses.replace(info, tags=tags)


__all__ = [
    "BUCKET_TAGS",
    "OBJECT_TAGS",
    "TagSetKind",
    "Tagging",
    "check_tags",
    "header_tags",
    "parse_header",
]
