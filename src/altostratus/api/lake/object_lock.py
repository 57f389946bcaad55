"""S3 object lock operations, and the object lock headers of PutObject, CopyObject, GetObject and HeadObject."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import MalformedXML, children, element, fields, iso, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import BadRequest, InvalidArgument, NotImplementedOperation
from altostratus.lake.object_lock import Retention, default_retention, parse_mode
from altostratus.lake.objects import ObjectInfo

MODE = "x-amz-object-lock-mode"
UNTIL = "x-amz-object-lock-retain-until-date"
HOLD = "x-amz-object-lock-legal-hold"
BYPASS = "x-amz-bypass-governance-retention"
_EVENT_HOLD = "x-amz-object-lock-event-hold"


def bypasses_governance(headers: Mapping[str, str]) -> bool:
    """Whether the request says to bypass GOVERNANCE retention (x-amz-bypass-governance-retention: true)."""
    return headers.get(BYPASS, "").strip().lower() == "true"


def lock_from_headers(headers: Mapping[str, str], now: dt.datetime) -> tuple[Retention | None, bool]:
    """The retention and legal hold a PutObject or CopyObject asks for in its headers."""
    if any(name.startswith(_EVENT_HOLD) for name in headers):
        raise NotImplementedOperation(
            "A header you provided implies functionality that is not implemented: object lock event holds"
        )
    mode, until = headers.get(MODE), headers.get(UNTIL)
    if (mode is None) != (until is None):
        raise InvalidArgument(f"x-amz-object-lock-mode and {UNTIL} must both be supplied")
    retention = None
    if mode is not None and until is not None:
        retention = Retention(parse_mode(mode, MODE), _date(until, UNTIL))
        if retention.until <= now:
            raise InvalidArgument("The retain until date must be in the future!")
    hold = headers.get(HOLD)
    if hold is not None and hold not in ("ON", "OFF"):
        raise InvalidArgument(f"{HOLD}={hold!r}; expected ON or OFF")
    return retention, hold == "ON"


def refuse_lock_headers(headers: Mapping[str, str]) -> None:
    """NotImplemented for object lock headers on an operation that cannot honour them (CreateMultipartUpload)."""
    asked = sorted(name for name in headers if name.startswith("x-amz-object-lock-"))
    if asked:
        raise NotImplementedOperation(
            f"A header you provided implies functionality that is not implemented: {', '.join(asked)} on "
            "CreateMultipartUpload; give the completed object its retention with PutObjectRetention and its legal "
            "hold with PutObjectLegalHold, or set a default retention on the bucket"
        )


def require_integrity_header(headers: Mapping[str, str]) -> None:
    """S3 takes object lock parameters only with a Content-MD5 or checksum header, to be sure of the bytes."""
    if MODE not in headers and HOLD not in headers:
        return
    if "content-md5" in headers or "x-amz-sdk-checksum-algorithm" in headers or "x-amz-trailer" in headers:
        return
    if any(name.startswith("x-amz-checksum-") for name in headers):
        return
    raise BadRequest(
        "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
    )


def lock_headers(info: ObjectInfo) -> dict[str, str]:
    """The object lock headers GetObject and HeadObject answer with."""
    out = {HOLD: "ON"} if info.legal_hold else {}
    if info.retention is not None:
        out[MODE] = info.retention.mode.value
        out[UNTIL] = iso(info.retention.until)
    return out


class ObjectLockOperations:
    """Object lock configuration of buckets; retention and legal hold of object versions."""

    _s3: S3Services

    async def put_object_lock_configuration(self, call: Call) -> Reply:
        """PutObjectLockConfiguration: ObjectLockEnabled=Enabled and an optional default retention rule."""
        root = parse(await call.body.read(), "ObjectLockConfiguration")
        if text(root, "ObjectLockEnabled", "") != "Enabled":
            raise MalformedXML("ObjectLockEnabled must be 'Enabled'")
        default = None
        for rule in children(root, "Rule"):
            retention = children(rule, "DefaultRetention")
            if not retention:
                raise MalformedXML("<Rule> needs a <DefaultRetention>")
            node = retention[0]
            default = default_retention(text(node, "Mode"), _number(node, "Days"), _number(node, "Years"))
        await to_thread.run_sync(self._s3.locks.configure, call.path_params["Bucket"], default)
        return Reply()

    async def get_object_lock_configuration(self, call: Call) -> Reply:
        """GetObjectLockConfiguration."""
        lock = await to_thread.run_sync(self._s3.locks.configuration, call.path_params["Bucket"])
        rule = None
        if lock.default is not None:
            period = fields(Days=lock.default.days or None, Years=lock.default.years or None)
            rule = element("Rule", element("DefaultRetention", *fields(Mode=lock.default.mode.value), *period))
        return xml_reply("ObjectLockConfiguration", [*fields(ObjectLockEnabled="Enabled"), *([rule] if rule else [])])

    async def put_object_retention(self, call: Call) -> Reply:
        """PutObjectRetention: a mode and date, or an empty <Retention/> to remove one (GOVERNANCE with bypass)."""
        root = parse(await call.body.read(), "Retention")
        mode, until = text(root, "Mode", ""), text(root, "RetainUntilDate", "")
        wanted = None
        if mode or until:
            if not (mode and until):
                raise MalformedXML("<Retention> needs both <Mode> and <RetainUntilDate>, or neither")
            wanted = Retention(parse_mode(mode, "Mode"), _date(until, "RetainUntilDate"))
        bucket, key, version = call.path_params["Bucket"], call.path_params["Key"], call.query.get("versionId")
        bypass = bypasses_governance(call.headers)
        await to_thread.run_sync(
            lambda: self._s3.locks.set_retention(bucket, key, version, wanted, bypass_governance=bypass)
        )
        return Reply()

    async def get_object_retention(self, call: Call) -> Reply:
        """GetObjectRetention."""
        bucket, key, version = call.path_params["Bucket"], call.path_params["Key"], call.query.get("versionId")
        retention = await to_thread.run_sync(self._s3.locks.retention, bucket, key, version)
        return xml_reply("Retention", fields(Mode=retention.mode.value, RetainUntilDate=iso(retention.until)))

    async def put_object_legal_hold(self, call: Call) -> Reply:
        """PutObjectLegalHold: Status ON or OFF."""
        status = text(parse(await call.body.read(), "LegalHold"), "Status")
        if status not in ("ON", "OFF"):
            raise MalformedXML(f"LegalHold Status={status!r}; expected ON or OFF")
        bucket, key, version = call.path_params["Bucket"], call.path_params["Key"], call.query.get("versionId")
        await to_thread.run_sync(self._s3.locks.set_legal_hold, bucket, key, version, status == "ON")
        return Reply()

    async def get_object_legal_hold(self, call: Call) -> Reply:
        """GetObjectLegalHold."""
        bucket, key, version = call.path_params["Bucket"], call.path_params["Key"], call.query.get("versionId")
        on = await to_thread.run_sync(self._s3.locks.legal_hold, bucket, key, version)
        return xml_reply("LegalHold", fields(Status="ON" if on else "OFF"))


def _number(node: ET.Element, tag: str) -> int | None:
    value = text(node, tag, "")
    if not value:
        return None
    if not value.strip().isdigit():
        raise MalformedXML(f"<{tag}>{value}</{tag}> is not a whole number")
    return int(value)


def _date(value: str, field: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"{field}={value!r}; expected an ISO 8601 date and time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
