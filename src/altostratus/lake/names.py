"""Rules for bucket names and object keys, as S3 enforces them."""

from __future__ import annotations

import re

from altostratus.lake.errors import InvalidBucketName, InvalidKey, KeyTooLong

MAX_KEY_BYTES = 1024
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


def check_bucket_name(name: str) -> str:
    """Return name if S3 would accept it as a bucket name; InvalidBucketName saying why otherwise."""
    if not _BUCKET.match(name):
        raise InvalidBucketName(
            f"Bucket={name!r}: a bucket name has 3 to 63 characters: lower-case letters, digits, "
            "'.' and '-', beginning and ending with a letter or digit"
        )
    if ".." in name or ".-" in name or "-." in name or _IP.match(name):
        raise InvalidBucketName(
            f"Bucket={name!r}: a bucket name may not hold '..', '.-' or '-.', nor look like an IP address"
        )
    if name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3")):
        raise InvalidBucketName(f"Bucket={name!r}: that prefix or suffix is reserved by S3")
    return name


def check_key(key: str) -> str:
    """Return key if it is a valid object key: 1 to 1024 bytes of UTF-8."""
    if not key:
        raise InvalidKey("Key='': an object key must not be empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidKey(f"Key={key!r}: an object key must be valid UTF-8") from None
    if size > MAX_KEY_BYTES:
        raise KeyTooLong(f"Key of {size} bytes: an object key may have at most {MAX_KEY_BYTES} bytes of UTF-8")
    return key
