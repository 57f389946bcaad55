"""S3 lifecycle operations: the bucket's lifecycle rules as LifecycleConfiguration XML."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import MalformedXML, children, element, fields, iso, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import InvalidArgument, NotImplementedOperation
from altostratus.core.ids import short_id
from altostratus.lake.lifecycle import Filter, Rule

_ONE_STORAGE_CLASS = (
    "A header you provided implies functionality that is not implemented: {} (this server has one storage class, "
    "STANDARD; expire objects instead)"
)


class LifecycleOperations:
    """Put, Get and DeleteBucketLifecycle(Configuration)."""

    _s3: S3Services

    async def put_bucket_lifecycle_configuration(self, call: Call) -> Reply:
        """PutBucketLifecycleConfiguration: replaces every rule of the bucket."""
        root = parse(await call.body.read(), "LifecycleConfiguration")
        rules = [_rule(node) for node in children(root, "Rule")]
        await to_thread.run_sync(self._s3.lifecycles.configure, call.path_params["Bucket"], rules)
        return Reply()

    async def put_bucket_lifecycle(self, call: Call) -> Reply:
        """PutBucketLifecycle, the older name of the same operation."""
        return await self.put_bucket_lifecycle_configuration(call)

    async def get_bucket_lifecycle_configuration(self, call: Call) -> Reply:
        """GetBucketLifecycleConfiguration; NoSuchLifecycleConfiguration when the bucket has none."""
        rules = await to_thread.run_sync(self._s3.lifecycles.rules, call.path_params["Bucket"])
        return xml_reply("LifecycleConfiguration", [_rule_element(rule) for rule in rules])

    async def get_bucket_lifecycle(self, call: Call) -> Reply:
        """GetBucketLifecycle, the older name of the same operation."""
        return await self.get_bucket_lifecycle_configuration(call)

    async def delete_bucket_lifecycle(self, call: Call) -> Reply:
        """DeleteBucketLifecycle."""
        await to_thread.run_sync(self._s3.lifecycles.configure, call.path_params["Bucket"], None)
        return Reply(status=204)


def _rule(node: ET.Element) -> Rule:
    for unsupported in ("Transition", "NoncurrentVersionTransition"):
        if children(node, unsupported):
            raise NotImplementedOperation(_ONE_STORAGE_CLASS.format(unsupported))
    status = text(node, "Status")
    if status not in ("Enabled", "Disabled"):
        raise MalformedXML(f"Rule Status={status!r}; expected Enabled or Disabled")
    legacy = children(node, "Prefix")
    filters = children(node, "Filter")
    if legacy and filters:
        raise MalformedXML("a Rule takes a Filter or a Prefix, not both")
    legacy_prefix = (legacy[0].text or "") if legacy else ""
    rule_filter = _filter(filters[0]) if filters else Filter(prefix=legacy_prefix)
    expiration = _one(node, "Expiration")
    noncurrent = _one(node, "NoncurrentVersionExpiration")
    abort = _one(node, "AbortIncompleteMultipartUpload")
    return Rule(
        rule_id=text(node, "ID", "") or short_id(20).lower(),
        enabled=status == "Enabled",
        filter=rule_filter,
        expiration_days=_int(expiration, "Days"),
        expiration_date=_date(expiration),
        expired_object_delete_marker=expiration is not None
        and text(expiration, "ExpiredObjectDeleteMarker", "false").strip().lower() == "true",
        noncurrent_days=_int(noncurrent, "NoncurrentDays"),
        newer_noncurrent_versions=_int(noncurrent, "NewerNoncurrentVersions"),
        abort_upload_days=_int(abort, "DaysAfterInitiation"),
        legacy_prefix=bool(legacy),
    )


def _filter(node: ET.Element) -> Filter:
    both = _one(node, "And")
    parts = both if both is not None else node
    named = [
        local for local in ("Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan") if children(parts, local)
    ]
    if both is None and (len(named) > 1 or len(children(node, "Tag")) > 1):
        raise MalformedXML("a Filter names one condition; put several under <And>")
    tags: dict[str, str] = {}
    for tag in children(parts, "Tag"):
        name = text(tag, "Key")
        if name in tags:
            raise InvalidArgument(f"Filter Tag Key={name!r} is given twice")
        tags[name] = text(tag, "Value", "")
    return Filter(
        prefix=text(parts, "Prefix", ""),
        tags=tags,
        size_greater_than=_int(parts, "ObjectSizeGreaterThan"),
        size_less_than=_int(parts, "ObjectSizeLessThan"),
    )


def _one(node: ET.Element, tag: str) -> ET.Element | None:
    found = children(node, tag)
    if len(found) > 1:
        raise MalformedXML(f"<{tag}> may appear once in a <Rule>")
    return found[0] if found else None


def _int(node: ET.Element | None, tag: str) -> int | None:
    if node is None or not children(node, tag):
        return None
    value = text(node, tag).strip()
    if not value.lstrip("-").isdigit():
        raise MalformedXML(f"<{tag}>{value}</{tag}> is not a whole number")
    return int(value)


def _date(node: ET.Element | None) -> dt.datetime | None:
    if node is None or not children(node, "Date"):
        return None
    value = text(node, "Date").strip()
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"Expiration Date={value!r}; expected an ISO 8601 date at midnight GMT") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _rule_element(rule: Rule) -> ET.Element:
    f = rule.filter
    tags = [element("Tag", *fields(Key=k, Value=v)) for k, v in f.tags.items()]
    sizes = fields(ObjectSizeGreaterThan=f.size_greater_than, ObjectSizeLessThan=f.size_less_than)
    conditions = [*([element("Prefix", text=f.prefix)] if f.prefix or not (tags or sizes) else []), *tags, *sizes]
    if rule.legacy_prefix:
        where = element("Prefix", text=f.prefix)
    elif len(conditions) > 1:
        where = element("Filter", element("And", *conditions))
    else:
        where = element("Filter", *conditions)
    expiration = fields(
        Days=rule.expiration_days,
        Date=iso(rule.expiration_date) if rule.expiration_date else None,
        ExpiredObjectDeleteMarker=True if rule.expired_object_delete_marker else None,
    )
    noncurrent = fields(NoncurrentDays=rule.noncurrent_days, NewerNoncurrentVersions=rule.newer_noncurrent_versions)
    abort = fields(DaysAfterInitiation=rule.abort_upload_days)
    return element(
        "Rule",
        *fields(ID=rule.rule_id),
        where,
        *fields(Status="Enabled" if rule.enabled else "Disabled"),
        element("Expiration", *expiration) if expiration else None,
        element("NoncurrentVersionExpiration", *noncurrent) if noncurrent else None,
        element("AbortIncompleteMultipartUpload", *abort) if abort else None,
    )
