"""A bucket's default encryption on S3's wire: PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.encryption_headers import KMS_ALGORITHMS
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.tagging import verified_document
from altostratus.api.lake.xml import MalformedXML, children, element, fields, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import InvalidArgument, NotImplementedOperation
from altostratus.lake.bucket_encryption import EncryptionRule
from altostratus.lake.encryption import KmsUnavailable


class EncryptionOperations:
    """PutBucketEncryption, GetBucketEncryption and DeleteBucketEncryption."""

    _s3: S3Services

    async def put_bucket_encryption(self, call: Call) -> Reply:
        """PutBucketEncryption: one rule, SSE-S3 (AES256); SSE-KMS is refused, as no key service is configured."""
        rule = _rule(parse(await verified_document(call), "ServerSideEncryptionConfiguration"))
        await to_thread.run_sync(self._s3.bucket_encryption.configure, call.path_params["Bucket"], rule)
        return Reply()

    async def get_bucket_encryption(self, call: Call) -> Reply:
        """GetBucketEncryption; ServerSideEncryptionConfigurationNotFoundError for a bucket without one."""
        rule = await to_thread.run_sync(self._s3.bucket_encryption.configuration, call.path_params["Bucket"])
        default = element("ApplyServerSideEncryptionByDefault", *fields(SSEAlgorithm=rule.algorithm))
        shown = element("Rule", default, *fields(BucketKeyEnabled=rule.bucket_key_enabled))
        return xml_reply("ServerSideEncryptionConfiguration", [shown])

    async def delete_bucket_encryption(self, call: Call) -> Reply:
        """DeleteBucketEncryption: later objects are stored as they come, unless their writes ask otherwise."""
        await to_thread.run_sync(self._s3.bucket_encryption.remove, call.path_params["Bucket"])
        return Reply(status=204)


def _rule(root: ET.Element) -> EncryptionRule:
    rules = children(root, "Rule")
    if len(rules) != 1:
        raise MalformedXML(f"<ServerSideEncryptionConfiguration> has {len(rules)} <Rule> elements; expected exactly 1")
    rule = rules[0]
    defaults = children(rule, "ApplyServerSideEncryptionByDefault")
    if len(defaults) != 1:
        raise MalformedXML("<Rule> must hold one <ApplyServerSideEncryptionByDefault>")
    algorithm = text(defaults[0], "SSEAlgorithm")
    if algorithm in KMS_ALGORITHMS:
        raise KmsUnavailable(
            f"SSEAlgorithm={algorithm!r} (SSE-KMS) needs a key management service, and this server has none "
            "configured; use AES256"
        )
    if children(defaults[0], "KMSMasterKeyID"):
        raise InvalidArgument(
            f"KMSMasterKeyID is given with SSEAlgorithm={algorithm!r}; it is allowed only with aws:kms"
        )
    bucket_key = text(rule, "BucketKeyEnabled", "false").strip().lower()
    if bucket_key not in ("true", "false"):
        raise MalformedXML(f"BucketKeyEnabled={bucket_key!r}; expected true or false")
    for blocked in children(rule, "BlockedEncryptionTypes"):
        kinds = sorted({node.text or "" for node in children(blocked, "EncryptionType")} - {"NONE"})
        if kinds:
            raise NotImplementedOperation(
                f"A header you provided implies functionality that is not implemented: BlockedEncryptionTypes "
                f"{kinds}; this server does not block encryption types (send NONE or leave it out)"
            )
    return EncryptionRule(algorithm, bucket_key == "true")
