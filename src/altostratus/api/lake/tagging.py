"""S3 tagging operations: the tag sets of objects (any version) and of buckets."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.objects import claimed_checksums, version_headers
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import MalformedXML, children, element, fields, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.lake.checksums import Checksums, check_content_md5


class TaggingOperations:
    """S3's tagging operations, one method each, named as boto3 names them."""

    _s3: S3Services

    async def put_object_tagging(self, call: Call) -> Reply:
        """PutObjectTagging: the body's tag set replaces the object's (an empty one removes it)."""
        tags = tag_pairs(await verified_document(call))
        info = await to_thread.run_sync(
            lambda: self._s3.tagging.set_object_tags(
                call.path_params["Bucket"],
                call.path_params["Key"],
                tags,
                version_id=call.query.get("versionId"),
                caller=call.caller,
            )
        )
        return Reply(headers=version_headers(info))

    async def get_object_tagging(self, call: Call) -> Reply:
        """GetObjectTagging: the object's tag set, empty when it has none."""
        bucket, key, version_id = call.path_params["Bucket"], call.path_params["Key"], call.query.get("versionId")
        info = await to_thread.run_sync(self._s3.tagging.object_tags, bucket, key, version_id)
        reply = xml_reply("Tagging", [tag_set(info.tags)])
        reply.headers.update(version_headers(info))
        return reply

    async def delete_object_tagging(self, call: Call) -> Reply:
        """DeleteObjectTagging: 204, the object keeps no tags."""
        info = await to_thread.run_sync(
            lambda: self._s3.tagging.delete_object_tags(
                call.path_params["Bucket"],
                call.path_params["Key"],
                version_id=call.query.get("versionId"),
                caller=call.caller,
            )
        )
        return Reply(status=204, headers=version_headers(info))

    async def put_bucket_tagging(self, call: Call) -> Reply:
        """PutBucketTagging: the body's tag set replaces the bucket's; 204 as S3 answers."""
        tags = tag_pairs(await verified_document(call))
        await to_thread.run_sync(self._s3.tagging.set_bucket_tags, call.path_params["Bucket"], tags)
        return Reply(status=204)

    async def get_bucket_tagging(self, call: Call) -> Reply:
        """GetBucketTagging; NoSuchTagSet (404) for a bucket without tags."""
        tags = await to_thread.run_sync(self._s3.tagging.bucket_tags, call.path_params["Bucket"])
        return xml_reply("Tagging", [tag_set(tags)])

    async def delete_bucket_tagging(self, call: Call) -> Reply:
        """DeleteBucketTagging: 204, the bucket keeps no tag set."""
        await to_thread.run_sync(self._s3.tagging.delete_bucket_tags, call.path_params["Bucket"])
        return Reply(status=204)


async def verified_document(call: Call) -> bytes:
    """The request's XML body, checked against its Content-MD5 and x-amz-checksum-* headers (botocore sends one:
    the tagging operations require a checksum)."""
    body = await call.body.read()
    check_content_md5(call.headers.get("content-md5"), hashlib.md5(body, usedforsecurity=False).hexdigest())
    claimed, _ = claimed_checksums(call.headers)
    digests = Checksums(set(), claimed)
    digests.update(body)
    digests.verify()
    return body


def tag_pairs(body: bytes) -> list[tuple[str, str]]:
    """The (key, value) pairs of a <Tagging> document, in order, as sent (the lake checks them)."""
    root = parse(body, "Tagging")
    sets = children(root, "TagSet")
    if len(sets) != 1:
        raise MalformedXML(f"<Tagging> holds {len(sets)} <TagSet> elements; expected exactly one")
    return _pairs(sets[0])


def creation_tags(config: ET.Element) -> list[tuple[str, str]]:
    """The (key, value) pairs of a <CreateBucketConfiguration>'s <Tags>, none when it has none."""
    lists = children(config, "Tags")
    if len(lists) > 1:
        raise MalformedXML(f"<CreateBucketConfiguration> holds {len(lists)} <Tags> elements; expected at most one")
    return _pairs(lists[0]) if lists else []


def _pairs(tags: ET.Element) -> list[tuple[str, str]]:
    return [(text(tag, "Key"), text(tag, "Value")) for tag in children(tags, "Tag")]


def tag_set(tags: Mapping[str, str]) -> ET.Element:
    """<TagSet> with one <Tag> per tag, by key (S3 answers in key order, not the order they were sent)."""
    return element("TagSet", *[element("Tag", *fields(Key=key, Value=tags[key])) for key in sorted(tags)])
