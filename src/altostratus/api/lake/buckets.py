"""S3 bucket operations: create, list, head, delete, location, listing objects, notifications, uploads."""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from urllib.parse import quote

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.acl import acl_request
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.tagging import creation_tags
from altostratus.api.lake.xml import NAMESPACE, children, element, fields, iso, parse, text, xml_document, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import InvalidArgument
from altostratus.core.ids import short_id
from altostratus.lake.acl import parse_ownership
from altostratus.lake.objects import Listing, NotificationRule
from altostratus.lake.tagging import BUCKET_TAGS, check_tags

Encoder = Callable[[str], str]
# Owners' (canonical id, display name), by the owner's name (None: the account).
Owners = dict[str | None, tuple[str, str]]


def _owner(shown: tuple[str, str]) -> ET.Element:
    return element("Owner", *fields(ID=shown[0], DisplayName=shown[1]))


MAX_BUCKETS = 10_000


class BucketOperations:
    """S3's bucket operations, one method each, named as boto3 names them."""

    _s3: S3Services

    async def list_buckets(self, call: Call) -> Reply:
        """ListBuckets, by name, filtered by prefix and region, paged by max-buckets and continuation tokens."""
        q = call.query
        limit = _max_buckets(q.get("max-buckets"))
        token = q.get("continuation-token")
        after = _decode_token(token) if token else ""
        prefix, region = q.get("prefix", ""), q.get("bucket-region")
        found = [
            b
            for b in await to_thread.run_sync(self._s3.permissions.buckets_of, call.caller)
            if b.name > after and b.name.startswith(prefix) and region in (None, b.region)
        ]
        shown = found[:limit]
        owner_id, owner_name = await to_thread.run_sync(self._s3.permissions.owner_of, call.caller)
        owner = element("Owner", *fields(ID=owner_id, DisplayName=owner_name))
        entries = [
            element("Bucket", *fields(Name=b.name, CreationDate=iso(b.created_at), BucketRegion=b.region))
            for b in shown
        ]
        more = fields(
            ContinuationToken=_encode_token(shown[-1].name) if len(found) > limit else None,
            Prefix=q.get("prefix"),
        )
        return xml_reply("ListAllMyBucketsResult", [owner, element("Buckets", *entries), *more])

    async def create_bucket(self, call: Call) -> Reply:
        """CreateBucket; the body's LocationConstraint, if any, is accepted for every region, its Tags become the
        bucket's tag set (checked before the bucket is made)."""
        body = await call.body.read()
        tags = check_tags(creation_tags(parse(body, "CreateBucketConfiguration")) if body.strip() else [], BUCKET_TAGS)
        bucket = call.path_params["Bucket"]
        lock = call.headers.get("x-amz-bucket-object-lock-enabled", "false").strip().lower()
        if lock not in ("true", "false"):
            raise InvalidArgument(f"x-amz-bucket-object-lock-enabled={lock!r}; expected true or false")
        ownership = call.headers.get("x-amz-object-ownership")
        await to_thread.run_sync(
            lambda: self._s3.permissions.create_bucket(
                bucket,
                call.caller,
                acl_request(call.headers),
                parse_ownership(ownership) if ownership is not None else None,
                object_lock=lock == "true",
            )
        )
        if tags:
            await to_thread.run_sync(self._s3.tagging.set_bucket_tags, bucket, tags.items())
        return Reply(headers={"location": f"/{bucket}"})

    async def head_bucket(self, call: Call) -> Reply:
        """HeadBucket."""
        bucket = await to_thread.run_sync(self._s3.lake.get_bucket, call.path_params["Bucket"])
        return Reply(headers={"x-amz-bucket-region": bucket.region})

    async def delete_bucket(self, call: Call) -> Reply:
        """DeleteBucket."""
        await to_thread.run_sync(self._s3.lake.delete_bucket, call.path_params["Bucket"])
        return Reply(status=204)

    async def get_bucket_location(self, call: Call) -> Reply:
        """GetBucketLocation: us-east-1 is written as an empty constraint, as S3 does."""
        bucket = await to_thread.run_sync(self._s3.lake.get_bucket, call.path_params["Bucket"])
        root = element("LocationConstraint", text=None if bucket.region == "us-east-1" else bucket.region)
        root.set("xmlns", NAMESPACE)
        return xml_document(root)

    async def list_objects_v2(self, call: Call) -> Reply:
        """ListObjectsV2, with continuation tokens that hold the last key returned."""
        q = call.query
        token = q.get("continuation-token")
        after = max(_decode_token(token) if token else "", q.get("start-after", ""))
        page, max_keys = await _page(self._s3, call, after)
        encode = listing_encoder(q)
        body = [
            *fields(
                Name=call.path_params["Bucket"],
                Prefix=encode(q.get("prefix", "")),
                KeyCount=len(page.objects) + len(page.common_prefixes),
                MaxKeys=max_keys,
                Delimiter=optional(encode, q.get("delimiter") or None),
                IsTruncated=page.is_truncated,
                ContinuationToken=token,
                NextContinuationToken=_encode_token(page.next_marker) if page.is_truncated else None,
                StartAfter=optional(encode, q.get("start-after")),
                EncodingType=q.get("encoding-type"),
            ),
            *_entries(page, encode, await self._owners(page) if q.get("fetch-owner") == "true" else None),
        ]
        return xml_reply("ListBucketResult", body)

    async def list_objects(self, call: Call) -> Reply:
        """ListObjects (version 1), with Marker and NextMarker."""
        q = call.query
        page, max_keys = await _page(self._s3, call, q.get("marker", ""))
        encode = listing_encoder(q)
        next_marker = page.next_marker if page.is_truncated and q.get("delimiter") else None
        body = [
            *fields(
                Name=call.path_params["Bucket"],
                Prefix=encode(q.get("prefix", "")),
                Marker=encode(q.get("marker", "")),
                NextMarker=optional(encode, next_marker),
                MaxKeys=max_keys,
                Delimiter=optional(encode, q.get("delimiter") or None),
                IsTruncated=page.is_truncated,
                EncodingType=q.get("encoding-type"),
            ),
            *_entries(page, encode, await self._owners(page)),
        ]
        return xml_reply("ListBucketResult", body)

    async def _owners(self, page: Listing) -> Owners:
        """Each listed object's owner as listings show one: (canonical id, display name), by the owner's name."""
        named = {obj.owner for obj in page.objects}
        return await to_thread.run_sync(lambda: {name: self._s3.permissions.owner_named(name) for name in named})

    async def put_bucket_notification_configuration(self, call: Call) -> Reply:
        """PutBucketNotificationConfiguration: Lambda function rules with event and prefix/suffix filters."""
        root = parse(await call.body.read(), "NotificationConfiguration")
        for unsupported in ("TopicConfiguration", "QueueConfiguration"):
            if children(root, unsupported):
                raise InvalidArgument(
                    f"Unable to validate the following destination configurations: {unsupported} "
                    "(this platform delivers notifications to functions only: use LambdaFunctionConfiguration)"
                )
        # boto3 writes LambdaFunctionConfigurations as <CloudFunctionConfiguration> (the model's locationName).
        nodes = children(root, "CloudFunctionConfiguration") + children(root, "LambdaFunctionConfiguration")
        rules = [_rule(node) for node in nodes]
        await to_thread.run_sync(self._s3.lake.set_notification_rules, call.path_params["Bucket"], rules)
        return Reply()

    async def put_bucket_notification(self, call: Call) -> Reply:
        """PutBucketNotification, the operation's older name: the same document, as this server reads it."""
        return await self.put_bucket_notification_configuration(call)

    async def get_bucket_notification_configuration(self, call: Call) -> Reply:
        """GetBucketNotificationConfiguration."""
        rules = await to_thread.run_sync(self._s3.lake.notification_rules, call.path_params["Bucket"])
        nodes = []
        for rule in rules:
            filters = [
                element("FilterRule", *fields(Name=name, Value=value))
                for name, value in (("Prefix", rule.prefix), ("Suffix", rule.suffix))
                if value
            ]
            nodes.append(
                element(
                    "CloudFunctionConfiguration",
                    *fields(Id=rule.rule_id, CloudFunction=rule.function_arn),
                    *[element("Event", text=event) for event in rule.events],
                    element("Filter", element("S3Key", *filters)) if filters else None,
                )
            )
        return xml_reply("NotificationConfiguration", nodes)

    async def get_bucket_notification(self, call: Call) -> Reply:
        """GetBucketNotification, the operation's older name: the same answer."""
        return await self.get_bucket_notification_configuration(call)

    async def list_multipart_uploads(self, call: Call) -> Reply:
        """ListMultipartUploads (one page: uploads in progress are few)."""
        bucket = call.path_params["Bucket"]
        uploads = await to_thread.run_sync(self._s3.multipart.list_uploads, bucket, call.query.get("prefix", ""))
        entries = [
            element(
                "Upload", *fields(Key=u.key, UploadId=u.upload_id, Initiated=iso(u.created_at), StorageClass="STANDARD")
            )
            for u in uploads
        ]
        head = fields(Bucket=bucket, KeyMarker="", UploadIdMarker="", MaxUploads=1000, IsTruncated=False)
        return xml_reply("ListMultipartUploadsResult", [*head, *entries])


async def _page(s3: S3Services, call: Call, after: str) -> tuple[Listing, int]:
    q = call.query
    max_keys = parse_max_keys(q)
    page = await to_thread.run_sync(
        lambda: s3.lake.list_objects(
            call.path_params["Bucket"],
            prefix=q.get("prefix", ""),
            delimiter=q.get("delimiter", ""),
            after=after,
            max_keys=max_keys,
        )
    )
    return page, min(max_keys, 1000)


def parse_max_keys(q: Mapping[str, str]) -> int:
    """A listing's max-keys (default 1,000), after checking it and encoding-type."""
    try:
        max_keys = int(q.get("max-keys", "1000"))
    except ValueError:
        raise InvalidArgument(f"max-keys={q.get('max-keys')!r}; expected an integer from 0 to 2147483647") from None
    if max_keys < 0:
        raise InvalidArgument(f"max-keys={max_keys}; expected an integer from 0 to 2147483647")
    if q.get("encoding-type") not in (None, "url"):
        raise InvalidArgument(f"encoding-type={q.get('encoding-type')!r}; expected 'url'")
    return max_keys


def _entries(page: Listing, encode: Encoder, owners: Owners | None) -> list[ET.Element]:
    out = [
        element(
            "Contents",
            *fields(
                Key=encode(obj.key),
                LastModified=iso(obj.last_modified),
                ETag=obj.etag,
                Size=obj.size,
                StorageClass="STANDARD",
            ),
            _owner(owners[obj.owner]) if owners is not None else None,
        )
        for obj in page.objects
    ]
    out.extend(element("CommonPrefixes", element("Prefix", text=encode(p))) for p in page.common_prefixes)
    return out


def listing_encoder(q: Mapping[str, str]) -> Encoder:
    """How a listing writes keys and prefixes: as they are, or URL-encoded when encoding-type=url."""
    if q.get("encoding-type") == "url":
        # A space is %20 and a plus %2B, as S3 writes them (botocore reads them back with unquote_plus).
        return lambda s: quote(s, safe="/")
    return lambda s: s


def optional(encode: Encoder, value: str | None) -> str | None:
    """The encoded value, or None (no element) when the request had none."""
    return None if value is None else encode(value)


def _max_buckets(value: str | None) -> int:
    if value is None:
        return MAX_BUCKETS
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_BUCKETS):
        raise InvalidArgument(f"max-buckets={value!r}; expected an integer from 1 to {MAX_BUCKETS}")
    return int(value)


def _encode_token(marker: str) -> str:
    return base64.urlsafe_b64encode(marker.encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument("The continuation token provided is incorrect") from None


def _rule(node: ET.Element) -> NotificationRule:
    arn = text(node, "CloudFunction", "")
    events = tuple(e.text or "" for e in children(node, "Event"))
    prefix = suffix = ""
    for flt in children(node, "Filter"):
        for key in children(flt, "S3Key"):
            for rule in children(key, "FilterRule"):
                name = text(rule, "Name").lower()
                if name == "prefix":
                    prefix = text(rule, "Value", "")
                elif name == "suffix":
                    suffix = text(rule, "Value", "")
                else:
                    raise InvalidArgument(f"FilterRule Name={name!r}; expected 'prefix' or 'suffix'")
    return NotificationRule(text(node, "Id", "") or short_id(20).lower(), arn, events, prefix, suffix)
