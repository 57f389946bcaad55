"""Object lock (WORM): retention periods and legal holds that keep an object version from being deleted.

As S3 has it: a bucket gets object lock when it is created (which turns versioning on for good); a version may
carry a retention (GOVERNANCE: removable by those who may bypass it and say so; COMPLIANCE: by nobody, until
the date passes) and a legal hold (on until taken off). A locked version cannot be deleted or have its
retention shortened; a delete without a version id still adds a delete marker, since that removes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from altostratus.core.errors import AccessDenied, BadRequest, Conflict, InvalidArgument, NotFound

if TYPE_CHECKING:
    from altostratus.lake.objects import ObjectInfo


class Mode(enum.StrEnum):
    """A retention's mode."""

    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


class InvalidBucketState(Conflict):
    """The request is not valid with the current state of the bucket."""

    code = "InvalidBucketState"


class ObjectLockNotEnabled(BadRequest):
    """Bucket is missing Object Lock Configuration."""

    code = "InvalidRequest"


class NoSuchObjectLockConfiguration(NotFound):
    """The specified object does not have an ObjectLock configuration."""

    code = "NoSuchObjectLockConfiguration"


class ObjectLocked(AccessDenied):
    """Access Denied because object protected by object lock."""


@dataclasses.dataclass(frozen=True)
class Retention:
    """Keep the version until this moment, in this mode."""

    mode: Mode
    until: dt.datetime

    def to_json(self) -> dict[str, str]:
        """The retention as the objects table keeps it."""
        return {"mode": self.mode.value, "until": self.until.isoformat()}

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> Retention | None:
        """The retention a row holds, if any."""
        if not value:
            return None
        return cls(Mode(value["mode"]), dt.datetime.fromisoformat(value["until"]))


@dataclasses.dataclass(frozen=True)
class DefaultRetention:
    """A bucket's default: every new version is kept this long in this mode."""

    mode: Mode
    days: int = 0
    years: int = 0

    def retention_from(self, now: dt.datetime) -> Retention:
        """The retention a version written now gets."""
        return Retention(self.mode, now + dt.timedelta(days=self.days + 365 * self.years))


@dataclasses.dataclass(frozen=True)
class LockConfiguration:
    """A bucket's object lock: enabled (always, once set) and an optional default retention."""

    default: DefaultRetention | None = None

    def to_json(self) -> dict[str, Any]:
        """As the buckets table keeps it."""
        if self.default is None:
            return {"enabled": True}
        rule = {"mode": self.default.mode.value, "days": self.default.days, "years": self.default.years}
        return {"enabled": True, "default": rule}

    @classmethod
    def from_json(cls, value: Mapping[str, Any] | None) -> LockConfiguration | None:
        """The configuration a row holds; None for a bucket without object lock."""
        if not value:
            return None
        rule = value.get("default")
        if not rule:
            return cls()
        return cls(DefaultRetention(Mode(rule["mode"]), rule["days"], rule["years"]))


def parse_mode(value: str, field: str) -> Mode:
    """The mode a request names; InvalidArgument naming the allowed ones otherwise."""
    try:
        return Mode(value)
    except ValueError:
        raise InvalidArgument(f"{field}={value!r}; expected GOVERNANCE or COMPLIANCE") from None


def default_retention(mode: str, days: int | None, years: int | None) -> DefaultRetention:
    """A default retention; exactly one of Days and Years, a positive whole number, as S3 requires."""
    if (days is None) == (years is None):
        raise MalformedLock("DefaultRetention needs exactly one of Days and Years")
    period = days if days is not None else years
    assert period is not None
    if period <= 0:
        raise InvalidArgument(f"Default retention period must be a positive integer value; got {period}")
    if (days or 0) > 36500 or (years or 0) > 100:
        raise InvalidArgument("Default retention period is too large: at most 36,500 days or 100 years")
    return DefaultRetention(parse_mode(mode, "Mode"), days or 0, years or 0)


class MalformedLock(BadRequest):
    """The XML you provided was not well-formed or did not validate against our published schema."""

    code = "MalformedXML"


def check_removable(retention: Retention | None, legal_hold: bool, bypass_governance: bool, now: dt.datetime) -> None:
    """ObjectLocked unless the version may be deleted now."""
    if legal_hold:
        raise ObjectLocked("Access Denied because object protected by object lock: the version has a legal hold")
    if retention is None or retention.until <= now:
        return
    if retention.mode is Mode.GOVERNANCE and bypass_governance:
        return
    raise ObjectLocked(
        f"Access Denied because object protected by object lock: {retention.mode.value} retention until "
        f"{retention.until.isoformat()}"
    )


def check_retention_change(
    current: Retention | None, wanted: Retention | None, bypass_governance: bool, now: dt.datetime
) -> None:
    """ObjectLocked unless a version's retention may go from current to wanted: it may always be made longer;
    shortened, removed or made GOVERNANCE only when it has passed, or is GOVERNANCE and the caller bypasses it."""
    if current is None or current.until <= now:
        return
    lengthened = (
        wanted is not None
        and wanted.until >= current.until
        and (wanted.mode is current.mode or wanted.mode is Mode.COMPLIANCE)
    )
    if lengthened or (current.mode is Mode.GOVERNANCE and bypass_governance):
        return
    raise ObjectLocked(
        f"Access Denied because object protected by object lock: its {current.mode.value} retention until "
        f"{current.until.isoformat()} may not be shortened or removed"
    )


def protected(info: ObjectInfo, lock: LockConfiguration | None, now: dt.datetime) -> ObjectInfo:
    """The version as its bucket's object lock has it written: with the default retention unless it names its own;
    ObjectLockNotEnabled if it asks for a lock its bucket does not have."""
    if lock is None:
        if info.retention is not None or info.legal_hold:
            raise ObjectLockNotEnabled("Bucket is missing Object Lock Configuration")
        return info
    if info.retention is None and lock.default is not None:
        return dataclasses.replace(info, retention=lock.default.retention_from(now))
    return info
