"""S3's bucket policy and public access block operations."""

from __future__ import annotations

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import MalformedXML, fields, parse, text, xml_reply
from altostratus.api.replies import Reply
from altostratus.auth.policy import MalformedBucketPolicy
from altostratus.lake.access import PublicAccessBlock

BLOCK_FIELDS = {
    "BlockPublicAcls": "block_public_acls",
    "IgnorePublicAcls": "ignore_public_acls",
    "BlockPublicPolicy": "block_public_policy",
    "RestrictPublicBuckets": "restrict_public_buckets",
}


class PolicyOperations:
    """S3's bucket policy, policy status and public access block operations, named as boto3 names them."""

    _s3: S3Services

    async def put_bucket_policy(self, call: Call) -> Reply:
        """PutBucketPolicy: the body is the policy's JSON text."""
        body = await call.body.read()
        try:
            document = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedBucketPolicy("the policy is not UTF-8 text") from None
        await to_thread.run_sync(self._s3.permissions.set_policy, call.path_params["Bucket"], document)
        return Reply(status=204)

    async def get_bucket_policy(self, call: Call) -> Reply:
        """GetBucketPolicy: the policy's text as it was put."""
        document = await to_thread.run_sync(self._s3.permissions.policy, call.path_params["Bucket"])
        return Reply(body=document.encode(), media_type="application/json")

    async def delete_bucket_policy(self, call: Call) -> Reply:
        """DeleteBucketPolicy."""
        await to_thread.run_sync(self._s3.permissions.delete_policy, call.path_params["Bucket"])
        return Reply(status=204)

    async def get_bucket_policy_status(self, call: Call) -> Reply:
        """GetBucketPolicyStatus: whether the policy lets everyone in."""
        public = await to_thread.run_sync(self._s3.permissions.policy_is_public, call.path_params["Bucket"])
        return xml_reply("PolicyStatus", fields(IsPublic=public))

    async def put_public_access_block(self, call: Call) -> Reply:
        """PutPublicAccessBlock: the four flags, each false when left out, as S3 reads them."""
        root = parse(await call.body.read(), "PublicAccessBlockConfiguration")
        flags = {}
        for name, field in BLOCK_FIELDS.items():
            value = text(root, name, "false").strip().lower()
            if value not in ("true", "false"):
                raise MalformedXML(f"<{name}>{value}</{name}>; expected true or false")
            flags[field] = value == "true"
        block = PublicAccessBlock(**flags)
        await to_thread.run_sync(self._s3.permissions.set_public_access_block, call.path_params["Bucket"], block)
        return Reply()

    async def get_public_access_block(self, call: Call) -> Reply:
        """GetPublicAccessBlock."""
        block = await to_thread.run_sync(self._s3.permissions.public_access_block, call.path_params["Bucket"])
        values = {name: getattr(block, field) for name, field in BLOCK_FIELDS.items()}
        return xml_reply("PublicAccessBlockConfiguration", fields(**values))

    async def delete_public_access_block(self, call: Call) -> Reply:
        """DeletePublicAccessBlock."""
        await to_thread.run_sync(self._s3.permissions.set_public_access_block, call.path_params["Bucket"], None)
        return Reply(status=204)
