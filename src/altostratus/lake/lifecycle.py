"""Lifecycle rules: which versions and uploads expire, as S3's lifecycle configuration says.

A rule has a filter (prefix, tags, object size, or all of them under And) and actions: expire current versions
after some days or on a date, permanently remove noncurrent versions some days after they became noncurrent
(keeping the newest few if asked), remove delete markers left with no versions behind them, and abort multipart
uploads some days after they began. Transitions to other storage classes do not exist here (one storage class)
and are refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.core.errors import BadRequest, InvalidArgument, NotFound

MAX_RULES = 1000


class MalformedLifecycle(BadRequest):
    """The XML you provided was not well-formed or did not validate against our published schema."""

    code = "MalformedXML"


class NoSuchLifecycleConfiguration(NotFound):
    """The lifecycle configuration does not exist."""

    code = "NoSuchLifecycleConfiguration"


@dataclasses.dataclass(frozen=True)
class Filter:
    """Which objects a rule is for: all of these must hold (empty: every object)."""

    prefix: str = ""
    tags: Mapping[str, str] = dataclasses.field(default_factory=dict)
    size_greater_than: int | None = None
    size_less_than: int | None = None

    def matches(self, key: str, size: int, tags: Mapping[str, str]) -> bool:
        """Whether an object with this key, size and tag set falls under the rule."""
        if not key.startswith(self.prefix):
            return False
        if any(tags.get(name) != value for name, value in self.tags.items()):
            return False
        if self.size_greater_than is not None and not size > self.size_greater_than:
            return False
        return self.size_less_than is None or size < self.size_less_than


@dataclasses.dataclass(frozen=True)
class Rule:
    """One lifecycle rule."""

    rule_id: str
    enabled: bool
    filter: Filter
    expiration_days: int | None = None
    expiration_date: dt.datetime | None = None
    expired_object_delete_marker: bool = False
    noncurrent_days: int | None = None
    newer_noncurrent_versions: int | None = None
    abort_upload_days: int | None = None
    legacy_prefix: bool = False  # the rule named its prefix outside a Filter (the older form), and is shown so

    def to_json(self) -> dict[str, Any]:
        """As the buckets table keeps it."""
        out = dataclasses.asdict(self)
        out["filter"]["tags"] = dict(self.filter.tags)
        out["expiration_date"] = self.expiration_date.isoformat() if self.expiration_date else None
        return out

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Rule:
        """A rule as the buckets table keeps it."""
        fields = dict(value)
        fields["filter"] = Filter(**fields["filter"])
        date = fields.get("expiration_date")
        fields["expiration_date"] = dt.datetime.fromisoformat(date) if date else None
        return cls(**fields)


def check_rules(rules: Sequence[Rule]) -> list[Rule]:
    """The rules, checked as S3 checks a configuration; MalformedLifecycle or InvalidArgument naming the fault."""
    if not 1 <= len(rules) <= MAX_RULES:
        raise MalformedLifecycle(f"a lifecycle configuration holds 1 to {MAX_RULES} rules; this one has {len(rules)}")
    seen: set[str] = set()
    for rule in rules:
        if len(rule.rule_id) > 255:
            raise InvalidArgument(f"ID={rule.rule_id[:20]!r}...: the ID length should not exceed allowed limit of 255")
        if rule.rule_id in seen:
            raise InvalidArgument(f"ID={rule.rule_id!r}: rule ID must be unique. Found same ID for more than one rule")
        seen.add(rule.rule_id)
        _check_actions(rule)
    return list(rules)


def _check_actions(rule: Rule) -> None:
    where = f"Rule ID={rule.rule_id!r}"
    actions = (
        rule.expiration_days,
        rule.expiration_date,
        rule.expired_object_delete_marker or None,
        rule.noncurrent_days,
        rule.abort_upload_days,
    )
    if all(action is None for action in actions):
        raise InvalidArgument(f"{where}: at least one action needs to be specified in a rule")
    if sum(x is not None for x in (rule.expiration_days, rule.expiration_date)) > 1:
        raise MalformedLifecycle(f"{where}: Expiration takes one of Days, Date or ExpiredObjectDeleteMarker")
    if rule.expired_object_delete_marker and (rule.expiration_days or rule.expiration_date):
        raise MalformedLifecycle(f"{where}: ExpiredObjectDeleteMarker cannot be specified with Days or Date")
    for name, days in (
        ("Expiration Days", rule.expiration_days),
        ("NoncurrentDays", rule.noncurrent_days),
        ("DaysAfterInitiation", rule.abort_upload_days),
    ):
        if days is not None and days <= 0:
            raise InvalidArgument(f"{where}: '{name}' for Expiration action must be a positive integer; got {days}")
    if rule.newer_noncurrent_versions is not None and not 1 <= rule.newer_noncurrent_versions <= 100:
        raise InvalidArgument(f"{where}: NewerNoncurrentVersions must be 1 to 100")
    date = rule.expiration_date
    if date is not None and (date.hour, date.minute, date.second, date.microsecond) != (0, 0, 0, 0):
        raise InvalidArgument(f"{where}: 'Date' must be at midnight GMT")
    if rule.filter.tags and rule.expired_object_delete_marker:
        raise InvalidArgument(f"{where}: ExpiredObjectDeleteMarker cannot be specified with a tag filter")
    if rule.filter.tags and rule.abort_upload_days is not None:
        raise InvalidArgument(f"{where}: AbortIncompleteMultipartUpload cannot be specified with a tag filter")
    low, high = rule.filter.size_greater_than, rule.filter.size_less_than
    if low is not None and high is not None and low >= high:
        raise InvalidArgument(f"{where}: ObjectSizeGreaterThan must be less than ObjectSizeLessThan")


def rules_to_json(rules: Sequence[Rule]) -> list[dict[str, Any]]:
    """The rules as the buckets table keeps them."""
    return [rule.to_json() for rule in rules]


def rules_from_json(value: Sequence[Mapping[str, Any]] | None) -> list[Rule] | None:
    """The rules a row holds; None when the bucket has no lifecycle configuration."""
    return None if value is None else [Rule.from_json(item) for item in value]


@dataclasses.dataclass(frozen=True)
class Clock:
    """When "now" is, and how long a lifecycle day lasts (shortened in tests)."""

    now: dt.datetime
    day_seconds: float

    def days_since(self, when: dt.datetime) -> float:
        """Lifecycle days from `when` to now."""
        return (self.now - when).total_seconds() / self.day_seconds


def current_expires(rule: Rule, last_modified: dt.datetime, clock: Clock) -> bool:
    """Whether the rule expires a current version written at last_modified."""
    if not rule.enabled:
        return False
    if rule.expiration_days is not None:
        return clock.days_since(last_modified) >= rule.expiration_days
    return rule.expiration_date is not None and clock.now >= rule.expiration_date


def noncurrent_expire(rule: Rule, noncurrent_since: Sequence[dt.datetime], clock: Clock) -> list[int]:
    """Which of a key's noncurrent versions (newest first, each with when it stopped being current) the rule
    removes: those noncurrent for NoncurrentDays, past the NewerNoncurrentVersions newest kept."""
    if not rule.enabled or rule.noncurrent_days is None:
        return []
    keep = rule.newer_noncurrent_versions or 0
    return [
        index
        for index, since in enumerate(noncurrent_since)
        if index >= keep and clock.days_since(since) >= rule.noncurrent_days
    ]
