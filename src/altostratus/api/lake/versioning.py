"""S3 versioning operations: the bucket's versioning state and listing object versions."""

from __future__ import annotations

from anyio import to_thread

from altostratus.api.context import Call
from altostratus.api.lake.buckets import listing_encoder, optional, parse_max_keys
from altostratus.api.lake.services import S3Services
from altostratus.api.lake.xml import NAMESPACE, element, fields, iso, parse, text, xml_document, xml_reply
from altostratus.api.replies import Reply
from altostratus.core.errors import NotImplementedOperation
from altostratus.lake.versions import parse_status


class VersioningOperations:
    """PutBucketVersioning, GetBucketVersioning and ListObjectVersions."""

    _s3: S3Services

    async def put_bucket_versioning(self, call: Call) -> Reply:
        """PutBucketVersioning: Enabled or Suspended; MFA delete is refused (this server has no MFA devices)."""
        root = parse(await call.body.read(), "VersioningConfiguration")
        if "x-amz-mfa" in call.headers or text(root, "MfaDelete", "Disabled") != "Disabled":
            raise NotImplementedOperation(
                "A header you provided implies functionality that is not implemented: MFA delete (this server has "
                "no MFA devices); send MfaDelete=Disabled or leave it out"
            )
        state = parse_status(text(root, "Status", ""))
        await to_thread.run_sync(self._s3.lake.set_versioning, call.path_params["Bucket"], state)
        return Reply()

    async def get_bucket_versioning(self, call: Call) -> Reply:
        """GetBucketVersioning: no Status for a bucket that was never versioned, as S3 answers."""
        state = await to_thread.run_sync(self._s3.lake.versioning, call.path_params["Bucket"])
        root = element("VersioningConfiguration", *fields(Status=state.value or None))
        root.set("xmlns", NAMESPACE)
        return xml_document(root)

    async def list_object_versions(self, call: Call) -> Reply:
        """ListObjectVersions: versions and delete markers by key, newest first, with key and version-id markers."""
        q = call.query
        bucket = call.path_params["Bucket"]
        max_keys = parse_max_keys(q)
        encode = listing_encoder(q)
        page = await to_thread.run_sync(
            lambda: self._s3.lake.list_versions(
                bucket,
                prefix=q.get("prefix", ""),
                delimiter=q.get("delimiter", ""),
                key_marker=q.get("key-marker", ""),
                version_id_marker=q.get("version-id-marker", ""),
                max_keys=max_keys,
            )
        )
        named = {info.owner for info, _ in page.versions}
        owners = await to_thread.run_sync(lambda: {name: self._s3.permissions.owner_named(name) for name in named})
        entries = []
        for info, latest in page.versions:
            shown = owners[info.owner]
            owner = element("Owner", *fields(ID=shown[0], DisplayName=shown[1]))
            common = fields(Key=encode(info.key), VersionId=info.version_id, IsLatest=latest)
            if info.delete_marker:
                entries.append(element("DeleteMarker", *common, *fields(LastModified=iso(info.last_modified)), owner))
                continue
            details = fields(LastModified=iso(info.last_modified), ETag=info.etag, Size=info.size)
            entries.append(element("Version", *common, *details, *fields(StorageClass="STANDARD"), owner))
        entries.extend(element("CommonPrefixes", element("Prefix", text=encode(p))) for p in page.common_prefixes)
        head = fields(
            Name=bucket,
            Prefix=encode(q.get("prefix", "")),
            KeyMarker=encode(q.get("key-marker", "")),
            VersionIdMarker=q.get("version-id-marker", ""),
            NextKeyMarker=encode(page.next_key_marker) if page.is_truncated else None,
            NextVersionIdMarker=page.next_version_id_marker if page.is_truncated else None,
            MaxKeys=min(max_keys, 1000),
            Delimiter=optional(encode, q.get("delimiter")),
            IsTruncated=page.is_truncated,
            EncodingType=q.get("encoding-type"),
        )
        return xml_reply("ListVersionsResult", [*head, *entries])
