"""The policy of a browser form upload (S3's POST Object): what the signer allows the form to send.

A policy is a base64 JSON document: {"expiration": "2026-12-01T12:00:00.000Z", "conditions": [...]}. Each
condition is an exact match ({"acl": "private"} or ["eq", "$acl", "private"]), a prefix (["starts-with", "$key",
"uploads/"]; for Content-Type every comma-separated type must start with it) or the file's size
(["content-length-range", 0, 1048576]). Field names are compared without case, values as sent; a field the form
does not send is the empty text. Every field of the form must be named by a condition, except those S3 leaves out
(the policy and its signature, the file, and x-ignore-* fields): the bucket counts as a field, so a policy must
name it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping, Set
from typing import Any

from altostratus.core import json_input
from altostratus.core.errors import AccessDenied, BadRequest
from altostratus.lake.errors import EntityTooSmall

# S3's own limit on a policy is the 20 KB of the fields before the file; this bounds the decoding of one alone.
MAX_POLICY_BYTES = 20 * 1024
_EXPIRATION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$")
_MATCHES = ("eq", "starts-with")


class InvalidPolicyDocument(BadRequest):
    """The content of the form does not meet the conditions specified in the policy document."""

    code = "InvalidPolicyDocument"


class EntityTooLarge(BadRequest):
    """Your proposed upload exceeds the maximum allowed object size."""

    code = "EntityTooLarge"


@dataclasses.dataclass(frozen=True)
class Condition:
    """One condition on a field: its value equals, or starts with, `value`."""

    match: str  # "eq" or "starts-with"
    field: str  # lower case, without the "$"
    value: str
    text: str  # the condition as the policy wrote it, for messages

    def holds(self, fields: Mapping[str, str]) -> bool:
        """Whether the form's fields meet the condition."""
        given = fields.get(self.field, "")
        if self.match == "eq":
            return given == self.value
        if self.field == "content-type":
            return all(part.strip().startswith(self.value) for part in given.split(","))
        return given.startswith(self.value)


@dataclasses.dataclass(frozen=True)
class PostPolicy:
    """A form's policy: when it expires, its conditions on fields, and the file sizes it allows."""

    expiration: dt.datetime
    conditions: tuple[Condition, ...]
    length_range: tuple[int, int] | None = None

    def check_fields(self, fields: Mapping[str, str], exempt: Set[str], now: dt.datetime) -> None:
        """AccessDenied, with S3's words, if the policy has expired, a condition fails, or a field that is not
        exempt is named by no condition. `fields` are the form's, by lower-case name."""
        if now >= self.expiration:
            raise AccessDenied("Invalid according to Policy: Policy expired.")
        for condition in self.conditions:
            if not condition.holds(fields):
                raise AccessDenied(f"Invalid according to Policy: Policy Condition failed: {condition.text}")
        named = {condition.field for condition in self.conditions}
        extra = sorted(name for name in fields if name not in named and name not in exempt)
        if extra:
            raise AccessDenied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")

    def check_size(self, size: int, *, final: bool) -> None:
        """EntityTooLarge once the file is past the range's top; EntityTooSmall, when it is all read (final),
        for one below its bottom."""
        if self.length_range is None:
            return
        low, high = self.length_range
        if size > high:
            raise EntityTooLarge(
                f"Your proposed upload exceeds the maximum allowed size: the file is more than {high} bytes, the "
                f"most the policy's content-length-range allows ({low} to {high})"
            )
        if final and size < low:
            raise EntityTooSmall(
                f"Your proposed upload is smaller than the minimum allowed size: the file is {size} bytes, the "
                f"policy's content-length-range asks for {low} to {high}"
            )


def parse_policy(encoded: str) -> PostPolicy:
    """The policy a form's `policy` field holds; InvalidPolicyDocument naming what is wrong."""
    if len(encoded) > MAX_POLICY_BYTES * 4 // 3 + 4:
        raise InvalidPolicyDocument(f"Invalid Policy: the policy is {len(encoded)} characters long; at most 20 KB")
    try:
        document = json_input.loads(base64.b64decode(encoded.encode("ascii"), validate=True).decode("utf-8"))
    except (UnicodeError, binascii.Error, ValueError):
        raise InvalidPolicyDocument("Invalid Policy: the policy is not base64-encoded UTF-8 JSON") from None
    if not isinstance(document, dict):
        raise InvalidPolicyDocument("Invalid Policy: the policy must be a JSON object")
    if "expiration" not in document:
        raise InvalidPolicyDocument("Invalid Policy: Policy missing expiration.")
    if "conditions" not in document:
        raise InvalidPolicyDocument("Invalid Policy: Policy missing conditions.")
    unknown = sorted(set(document) - {"expiration", "conditions"})
    if unknown:
        raise InvalidPolicyDocument(f"Invalid Policy: Unexpected fields {unknown}; expected expiration and conditions")
    conditions = document["conditions"]
    if not isinstance(conditions, list):
        raise InvalidPolicyDocument("Invalid Policy: conditions must be a list")
    parsed = [_condition(item) for item in conditions]
    ranges = [item for item in parsed if isinstance(item, tuple)]
    if len(ranges) > 1:
        raise InvalidPolicyDocument("Invalid Policy: more than one content-length-range condition")
    return PostPolicy(
        _expiration(document["expiration"]),
        tuple(item for item in parsed if isinstance(item, Condition)),
        ranges[0] if ranges else None,
    )


def _expiration(value: Any) -> dt.datetime:
    found = _EXPIRATION.match(value) if isinstance(value, str) else None
    if found is None:
        raise InvalidPolicyDocument(
            f"Invalid Policy: Invalid 'expiration' value: {_shown(value)}; expected an ISO 8601 UTC time such as "
            "2026-12-01T12:00:00.000Z"
        )
    year, month, day, hour, minute, second = (int(part) for part in found.groups()[:6])
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:
        raise InvalidPolicyDocument(f"Invalid Policy: Invalid 'expiration' value: {_shown(value)}") from None


def _condition(item: Any) -> Condition | tuple[int, int]:
    text = _shown(item)
    if isinstance(item, dict):
        if len(item) != 1:
            raise InvalidPolicyDocument(
                f"Invalid Policy: Invalid Simple-Condition: {text}; a condition object names exactly one field"
            )
        ((name, value),) = item.items()
        return Condition("eq", name.lower(), _text(value, text), text)
    if not isinstance(item, list) or not item or not isinstance(item[0], str):
        raise InvalidPolicyDocument(f"Invalid Policy: Invalid Condition: {text}; expected an object or a list")
    operation = item[0].lower()
    if operation == "content-length-range":
        return _length_range(item, text)
    if operation not in _MATCHES or len(item) != 3:
        raise InvalidPolicyDocument(
            f'Invalid Policy: Invalid Condition: {text}; expected ["eq" or "starts-with", "$field", value] '
            'or ["content-length-range", min, max]'
        )
    field = item[1]
    if not isinstance(field, str) or not field.startswith("$") or len(field) < 2:
        raise InvalidPolicyDocument(f'Invalid Policy: Invalid Condition: {text}; the field must be named as "$name"')
    return Condition(operation, field[1:].lower(), _text(item[2], text), text)


def _length_range(item: list[Any], text: str) -> tuple[int, int]:
    bounds = item[1:]
    whole = all(isinstance(b, int) and not isinstance(b, bool) for b in bounds)
    if len(bounds) != 2 or not whole or not 0 <= bounds[0] <= bounds[1]:
        raise InvalidPolicyDocument(
            f'Invalid Policy: Invalid content-length-range: {text}; expected ["content-length-range", min, max] '
            "with whole numbers 0 <= min <= max"
        )
    return bounds[0], bounds[1]


def _text(value: Any, text: str) -> str:
    if not isinstance(value, str):
        raise InvalidPolicyDocument(f"Invalid Policy: Invalid Condition: {text}; its value must be text")
    return value


def _shown(value: Any) -> str:
    shown = json.dumps(value)
    return shown if len(shown) <= 200 else shown[:200] + "..."
