"""Listing keys in S3 order, with prefixes, delimiters and pages."""

from __future__ import annotations

from sqlalchemy import Connection, false, select, true

from altostratus.lake.objects import Listing, ObjectInfo
from altostratus.lake.records import to_object
from altostratus.lake.tables import objects

# Sorts after every other character, so "prefix/" + HIGHEST is past every key under "prefix/".
HIGHEST = "\U0010ffff"


def list_page(db: Connection, bucket: str, *, prefix: str, delimiter: str, after: str, max_keys: int) -> Listing:
    """Up to max_keys objects and common prefixes after the key `after`, in binary key order."""
    found: list[ObjectInfo] = []
    rolled: list[str] = []
    if max_keys == 0:
        return Listing(found, rolled, False, "", "")
    inclusive = prefix > after
    cursor = prefix if inclusive else after
    last_item = ""
    while True:
        room = max_keys - len(found) - len(rolled)
        batch = _keys_from(db, bucket, cursor, inclusive, limit=max(room, 0) + 1)
        if not batch:
            return Listing(found, rolled, False, "", last_item)
        for obj in batch:
            if not obj.key.startswith(prefix):
                return Listing(found, rolled, False, "", last_item)
            if len(found) + len(rolled) == max_keys:
                return Listing(found, rolled, True, last_item, last_item)
            common = common_prefix(obj.key, prefix, delimiter)
            if common is None:
                found.append(obj)
                last_item = cursor = obj.key
                inclusive = False
                continue
            if common > after:
                rolled.append(common)
                last_item = common
            cursor, inclusive = common + HIGHEST, False
            break
        else:
            if len(batch) < room + 1:
                return Listing(found, rolled, False, "", last_item)


def _keys_from(db: Connection, bucket: str, cursor: str, inclusive: bool, limit: int) -> list[ObjectInfo]:
    bound = objects.c.key >= cursor if inclusive else objects.c.key > cursor
    current = (objects.c.is_latest == true(), objects.c.delete_marker == false())
    query = select(objects).where(objects.c.bucket == bucket, bound, *current).order_by(objects.c.key).limit(limit)
    return [to_object(row._mapping) for row in db.execute(query)]


def common_prefix(key: str, prefix: str, delimiter: str) -> str | None:
    """The common prefix key rolls up into under this delimiter, or None when it is listed itself."""
    if not delimiter:
        return None
    at = key.find(delimiter, len(prefix))
    return None if at < 0 else key[: at + len(delimiter)]
