"""Object versions: the bucket's versioning state, version ids, and listing every version of every key.

A bucket starts unversioned (its objects are "null" versions, replaced in place); once versioning is Enabled
every write adds a version with its own id and a delete adds a delete marker; Suspended writes and deletes
replace the "null" version again while keeping the others. A bucket never goes back to unversioned, as in S3.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import secrets
from typing import Any

from sqlalchemy import Connection, Row, and_, or_, select

from altostratus.core.errors import InvalidArgument
from altostratus.lake.errors import InvalidVersionId
from altostratus.lake.listing import HIGHEST, common_prefix
from altostratus.lake.objects import NULL_VERSION, ObjectInfo
from altostratus.lake.records import to_object
from altostratus.lake.tables import objects

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._"
_VERSION_ID = re.compile(r"^[A-Za-z0-9._]{32}$")


class Versioning(enum.StrEnum):
    """A bucket's versioning state."""

    UNVERSIONED = ""
    ENABLED = "Enabled"
    SUSPENDED = "Suspended"


def parse_status(value: str) -> Versioning:
    """The state PutBucketVersioning asks for; only Enabled and Suspended may be asked for."""
    if value not in (Versioning.ENABLED, Versioning.SUSPENDED):
        raise MalformedVersioning(f"Status={value!r}; expected 'Enabled' or 'Suspended'")
    return Versioning(value)


class MalformedVersioning(InvalidArgument):
    """The versioning configuration is not valid."""

    code = "MalformedXML"


def new_version_id() -> str:
    """A fresh version id: 32 characters of S3's URL-safe alphabet, never reused."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(32))


def check_version_id(value: str) -> str:
    """The version id a request names; InvalidArgument for one this lake could never have handed out."""
    if value != NULL_VERSION and not _VERSION_ID.match(value):
        raise InvalidVersionId(f"Invalid version id specified: versionId={value!r}", version_id=value)
    return value


@dataclasses.dataclass(frozen=True)
class VersionListing:
    """One page of ListObjectVersions: versions and delete markers (key order, newest first), common prefixes."""

    versions: list[tuple[ObjectInfo, bool]]  # each with whether it is its key's latest
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str
    next_version_id_marker: str


def list_versions(
    db: Connection,
    bucket: str,
    *,
    prefix: str,
    delimiter: str,
    key_marker: str,
    version_id_marker: str,
    max_keys: int,
) -> VersionListing:
    """Up to max_keys versions and common prefixes after (key_marker, version_id_marker), as S3 orders them."""
    found: list[tuple[ObjectInfo, bool]] = []
    rolled: list[str] = []
    cursor = _Cursor.start(db, bucket, prefix, key_marker, version_id_marker)
    while True:
        if len(found) + len(rolled) >= max_keys:
            return _page(found, rolled, _more_under(db, bucket, cursor, prefix), cursor)
        batch = _batch(db, bucket, cursor, max_keys - len(found) - len(rolled))
        if not batch:
            return _page(found, rolled, False, cursor)
        for row in batch:
            info, latest, sequence = to_object(row._mapping), row.is_latest, row.sequence
            if not info.key.startswith(prefix):
                return _page(found, rolled, False, cursor)
            common = common_prefix(info.key, prefix, delimiter)
            if common is None:
                found.append((info, latest))
                cursor = _Cursor(info.key, sequence, info.version_id)
                continue
            if common > key_marker:  # a page that ended on this prefix handed it out already
                rolled.append(common)
            cursor = _Cursor(common + HIGHEST, None, "", shown_key=common)
            break


@dataclasses.dataclass(frozen=True)
class _Cursor:
    """Where a listing resumes: after this key's version of this sequence (None: after the whole key)."""

    key: str
    sequence: int | None
    version_id: str
    shown_key: str = ""  # the marker to hand out when the cursor sits past a common prefix

    @classmethod
    def start(cls, db: Connection, bucket: str, prefix: str, key_marker: str, version_id_marker: str) -> _Cursor:
        if version_id_marker and not key_marker:
            raise InvalidArgument("A version-id marker cannot be specified without a key marker.")
        if not version_id_marker:
            if prefix > key_marker:
                return cls(prefix, _BEFORE_ALL, "")
            return cls(key_marker, None, "")
        check_version_id(version_id_marker)
        sequence = db.execute(
            select(objects.c.sequence).where(
                objects.c.bucket == bucket, objects.c.key == key_marker, objects.c.version_id == version_id_marker
            )
        ).scalar()
        if sequence is None:
            # The marker's version is gone (a client deleting what it lists, page by page): resume with the key's
            # newest remaining version, so nothing is skipped.
            return cls(key_marker, _BEFORE_ALL, version_id_marker)
        return cls(key_marker, sequence, version_id_marker)


# A sequence above every real one: a cursor at (key, _BEFORE_ALL) resumes with the key's newest version.
_BEFORE_ALL = 2**63 - 1


def _batch(db: Connection, bucket: str, cursor: _Cursor, limit: int) -> list[Row[Any]]:
    if cursor.sequence is None:
        after = objects.c.key > cursor.key
    else:
        after = or_(objects.c.key > cursor.key, and_(objects.c.key == cursor.key, objects.c.sequence < cursor.sequence))
    query = (
        select(objects)
        .where(objects.c.bucket == bucket, after)
        .order_by(objects.c.key, objects.c.sequence.desc())
        .limit(limit)
    )
    return list(db.execute(query))


def _more_under(db: Connection, bucket: str, cursor: _Cursor, prefix: str) -> bool:
    following = _batch(db, bucket, cursor, 1)
    return bool(following) and following[0].key.startswith(prefix)


def _page(found: list[tuple[ObjectInfo, bool]], rolled: list[str], more: bool, cursor: _Cursor) -> VersionListing:
    if not more:
        return VersionListing(found, rolled, False, "", "")
    if cursor.shown_key:
        return VersionListing(found, rolled, True, cursor.shown_key, "")
    return VersionListing(found, rolled, True, cursor.key, cursor.version_id)
