"""The lake's nouns: buckets, objects, listings, uploads, parts and notification rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

from altostratus.lake.acl import Grant
from altostratus.lake.encryption import Envelope
from altostratus.lake.object_lock import Retention

# The version id of an object written while its bucket's versioning was never enabled, or suspended.
NULL_VERSION = "null"


@dataclasses.dataclass(frozen=True)
class Bucket:
    """A bucket."""

    name: str
    region: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class ObjectMeta:
    """What the writer says about an object besides its bytes."""

    content_type: str = "binary/octet-stream"
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    user_metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ObjectInfo:
    """A stored object: where its bytes are and what is known of them."""

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: dt.datetime
    meta: ObjectMeta
    checksums: Mapping[str, str]
    blob_key: str
    version_id: str = NULL_VERSION
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # A multipart object's parts, in order: (size, checksums of the part); empty for an object written whole.
    parts: tuple[PartSummary, ...] = ()
    delete_marker: bool = False
    # Who owns it (a user's name; None: the account) and its ACL (None: the default, owner FULL_CONTROL).
    owner: str | None = None
    acl: tuple[Grant, ...] | None = None
    # Object lock: keep this version until a date (GOVERNANCE or COMPLIANCE), and/or while a legal hold is on.
    retention: Retention | None = None
    legal_hold: bool = False
    # How its bytes are sealed (encryption at rest); None: stored as they came.
    encryption: Envelope | None = None
    # The multipart upload that made this version, if one did.
    upload_id: str | None = None
    # A small version's stored bytes (lake/bodies.py), when the read that found it fetched them too.
    body: bytes | None = dataclasses.field(default=None, repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class PartSummary:
    """What a finished object remembers of one of the parts it was made of."""

    size: int
    checksums: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Listing:
    """One page of a listing: objects, common prefixes and where the next page starts."""

    objects: list[ObjectInfo]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str
    last_item: str


@dataclasses.dataclass(frozen=True)
class Upload:
    """A multipart upload in progress."""

    upload_id: str
    bucket: str
    key: str
    meta: ObjectMeta
    created_at: dt.datetime
    # The algorithm every part is checksummed with, and how the parts' checksums make the object's
    # (COMPOSITE or FULL_OBJECT); None when the upload was created without one.
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    # The tag set the completed object will have (x-amz-tagging on CreateMultipartUpload).
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    # The owner and ACL the completed object will have.
    owner: str | None = None
    acl: tuple[Grant, ...] | None = None
    # How its parts are sealed, each a segment of the completed object; None: stored as they came.
    encryption: Envelope | None = None


@dataclasses.dataclass(frozen=True)
class Part:
    """One uploaded part of a multipart upload."""

    number: int
    size: int
    etag: str
    last_modified: dt.datetime
    blob_key: str
    checksums: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class NotificationRule:
    """Send events of these kinds, for keys with this prefix and suffix, to a function."""

    rule_id: str
    function_arn: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""


@dataclasses.dataclass(frozen=True)
class WriteCondition:
    """S3's conditional write: the new object replaces the key only if no object has it (If-None-Match: *),
    or only if the current object has this ETag (If-Match)."""

    if_none_match: bool = False
    if_match: str | None = None
