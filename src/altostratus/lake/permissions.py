"""A bucket's access settings: its ACL and its objects', ownership controls, policy and public access block.

Every change here is made in the metadata store, then the authorizer's cached copy of the bucket is forgotten
(lake/access.py); other gateway processes see it within access.CACHE_SECONDS.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select, true, update

from altostratus.core.caller import Caller
from altostratus.core.errors import AccessDenied, NotFound
from altostratus.lake import acl
from altostratus.lake.access import BucketAccess, BucketRecords, ObjectAccess, PublicAccessBlock, parse_policy
from altostratus.lake.acl import AclRequest, Grant, Owned, Ownership
from altostratus.lake.errors import NoSuchBucket, NoSuchKey, NoSuchVersion
from altostratus.lake.objects import Bucket
from altostratus.lake.service import LakeService
from altostratus.lake.tables import buckets, objects


class NoSuchBucketPolicy(NotFound):
    """The bucket policy does not exist."""

    code = "NoSuchBucketPolicy"


class NoSuchPublicAccessBlockConfiguration(NotFound):
    """The public access block configuration was not found."""

    code = "NoSuchPublicAccessBlockConfiguration"


class OwnershipControlsNotFound(NotFound):
    """The bucket ownership controls were not found."""

    code = "OwnershipControlsNotFoundError"


@dataclasses.dataclass(frozen=True)
class AclView:
    """An ACL as GetBucketAcl and GetObjectAcl show it: the owner's canonical id and name, and every grant."""

    owner_id: str
    owner_name: str
    grants: tuple[Grant, ...]


class Permissions:
    """Reads and changes who may reach a bucket and its objects."""

    def __init__(self, lake: LakeService, records: BucketRecords) -> None:
        self._lake = lake
        self._records = records

    # Creating buckets and writing objects

    def create_bucket(
        self, name: str, caller: Caller, request: AclRequest, ownership: Ownership | None, *, object_lock: bool = False
    ) -> Bucket:
        """A new bucket of the caller's, with the ACL asked for (checked against the ownership control asked for)
        and object lock if asked."""
        acl.check_for_ownership(request, ownership)
        owner_id = self._records.canonical_id(caller.user_name)
        grants = None if ownership is Ownership.BUCKET_OWNER_ENFORCED else self._grants(request, owner_id, owner_id)
        return self._lake.create_bucket(
            name, owner=caller.user_name, acl=grants, ownership=ownership, object_lock=object_lock
        )

    def for_new_object(self, bucket: str, caller: Caller, request: AclRequest) -> Owned:
        """Who owns an object the caller writes now, and its ACL (the one asked for, checked against the bucket's
        ownership control and public access block)."""
        state = self._bucket(bucket)
        acl.check_for_ownership(request, state.ownership)
        owner = acl.object_owner(
            state.ownership,
            state.owner,
            caller.user_name,
            anonymous=caller.anonymous,
            canned=request.canned,
        )
        if state.ownership is Ownership.BUCKET_OWNER_ENFORCED:
            return Owned(owner, None)
        grants = self._grants(request, self._records.canonical_id(owner), self._records.canonical_id(state.owner))
        acl.check_not_public(grants, state.block is not None and state.block.block_public_acls)
        return Owned(owner, grants)

    def buckets_of(self, caller: Caller) -> list[Bucket]:
        """The buckets ListBuckets shows the caller: its own (the account's keys: every bucket)."""
        if caller.user_name is None:
            return self._lake.list_buckets()
        return self._lake.list_buckets(owner=caller.user_name, everyone=False)

    def owner_of(self, caller: Caller) -> tuple[str, str]:
        """The caller's canonical id and display name, as listings show an owner."""
        return self.owner_named(caller.user_name)

    def owner_named(self, owner: str | None) -> tuple[str, str]:
        """An owner's (a user's name; None: the account) canonical id and display name, as listings show them."""
        return self._records.canonical_id(owner), self._records.display_name(owner)

    # ACLs

    def bucket_acl(self, bucket: str) -> AclView:
        """The bucket's ACL."""
        state = self._bucket(bucket)
        return self._view(state.owner, state.acl)

    def set_bucket_acl(self, bucket: str, request: AclRequest) -> None:
        """Replace the bucket's ACL."""
        state = self._bucket(bucket)
        acl.check_for_ownership(request, state.ownership)
        owner_id = self._records.canonical_id(state.owner)
        grants = self._grants(request, owner_id, owner_id)
        acl.check_not_public(grants, state.block is not None and state.block.block_public_acls)
        self._update_bucket(bucket, acl=acl.grants_to_json(grants))

    def object_acl(self, bucket: str, key: str, version_id: str | None) -> AclView:
        """The object's ACL (its latest version's, or the one named)."""
        state = self._bucket(bucket)
        found = self._object(bucket, key, version_id)
        if state.ownership is Ownership.BUCKET_OWNER_ENFORCED:
            return self._view(state.owner, None)
        return self._view(found.owner, found.acl)

    def set_object_acl(self, bucket: str, key: str, version_id: str | None, request: AclRequest) -> None:
        """Replace the object's ACL (its latest version's, or the one named)."""
        state = self._bucket(bucket)
        acl.check_for_ownership(request, state.ownership)
        found = self._object(bucket, key, version_id)
        grants = self._grants(request, self._records.canonical_id(found.owner), self._records.canonical_id(state.owner))
        acl.check_not_public(grants, state.block is not None and state.block.block_public_acls)
        where = [objects.c.bucket == bucket, objects.c.key == key]
        where.append(objects.c.is_latest == true() if version_id is None else objects.c.version_id == version_id)
        with self._lake.store.begin() as db:
            db.execute(update(objects).where(*where).values(acl=acl.grants_to_json(grants)))

    # Ownership controls

    def ownership(self, bucket: str) -> Ownership:
        """The bucket's object ownership control; OwnershipControlsNotFound when it has none."""
        found = self._bucket(bucket).ownership
        if found is None:
            raise OwnershipControlsNotFound(f"Bucket={bucket!r} has no ownership controls")
        return found

    def set_ownership(self, bucket: str, ownership: Ownership | None) -> None:
        """Set (None: remove) the bucket's object ownership control."""
        state = self._bucket(bucket)
        if ownership is Ownership.BUCKET_OWNER_ENFORCED and state.acl is not None:
            owner = self._records.canonical_id(state.owner)
            if any(g.canonical_id != owner for g in state.acl):
                raise acl.InvalidBucketAclWithObjectOwnership(
                    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting: its ACL grants "
                    "others access; make it private first (PutBucketAcl with ACL=private)"
                )
        self._update_bucket(bucket, ownership=ownership.value if ownership else None)

    # Policies

    def policy(self, bucket: str) -> str:
        """The bucket's policy document as it was put; NoSuchBucketPolicy when it has none."""
        with self._lake.store.read() as db:
            row = db.execute(select(buckets.c.policy).where(buckets.c.name == bucket)).first()
        if row is None:
            raise NoSuchBucket(f"Bucket={bucket!r} does not exist", bucket=bucket)
        if row.policy is None:
            raise NoSuchBucketPolicy(f"Bucket={bucket!r} has no bucket policy", bucket=bucket)
        return str(row.policy)

    def set_policy(self, bucket: str, document: str) -> None:
        """Replace the bucket's policy (MalformedPolicy naming what is wrong; AccessDenied for a public policy
        where the public access block says BlockPublicPolicy)."""
        state = self._bucket(bucket)
        statements = parse_policy(document, bucket)
        if state.block is not None and state.block.block_public_policy and any(s.is_public() for s in statements):
            raise AccessDenied(
                "Access Denied: the bucket's public access block (BlockPublicPolicy) refuses a policy that lets "
                'everyone in (Principal "*" with no condition on who or where from)'
            )
        self._update_bucket(bucket, policy=document)

    def delete_policy(self, bucket: str) -> None:
        """Remove the bucket's policy (nothing happens if it has none, as S3 answers)."""
        self._bucket(bucket)
        self._update_bucket(bucket, policy=None)

    def policy_is_public(self, bucket: str) -> bool:
        """Whether the bucket's policy lets everyone in; NoSuchBucketPolicy when it has none."""
        self.policy(bucket)
        return self._bucket(bucket).policy_is_public

    # Public access blocks

    def public_access_block(self, bucket: str) -> PublicAccessBlock:
        """The bucket's public access block; NoSuchPublicAccessBlockConfiguration when it has none."""
        found = self._bucket(bucket).block
        if found is None:
            raise NoSuchPublicAccessBlockConfiguration(
                f"Bucket={bucket!r} has no public access block configuration", bucket=bucket
            )
        return found

    def set_public_access_block(self, bucket: str, block: PublicAccessBlock | None) -> None:
        """Set (None: remove) the bucket's public access block."""
        self._bucket(bucket)
        self._update_bucket(bucket, public_access_block=dataclasses.asdict(block) if block else None)

    # Helpers

    def _bucket(self, bucket: str) -> BucketAccess:
        state = self._records.bucket(bucket)
        if state is None:
            raise NoSuchBucket(f"Bucket={bucket!r} does not exist", bucket=bucket)
        return state

    def _object(self, bucket: str, key: str, version_id: str | None) -> ObjectAccess:
        found = self._records.object(bucket, key, version_id)
        if found is None and version_id is not None:
            raise NoSuchVersion(
                f"VersionId={version_id!r} is not a version of Key={key!r} in Bucket={bucket!r}", bucket=bucket, key=key
            )
        if found is None:
            raise NoSuchKey(f"Key={key!r} does not exist in Bucket={bucket!r}", bucket=bucket, key=key)
        return found

    def _grants(self, request: AclRequest, owner_id: str, bucket_owner_id: str) -> tuple[Grant, ...] | None:
        acl.check_grants(request.grants, self._records.known_canonical_id)
        return acl.resolve(request, owner_id, bucket_owner_id)

    def _view(self, owner: str | None, grants: tuple[Grant, ...] | None) -> AclView:
        owner_id = self._records.canonical_id(owner)
        return AclView(owner_id, self._records.display_name(owner), acl.effective(grants, owner_id))

    def _update_bucket(self, bucket: str, **values: Any) -> None:
        with self._lake.store.begin() as db:
            result = db.execute(update(buckets).where(buckets.c.name == bucket).values(**values))
        self._records.forget(bucket)
        if result.rowcount == 0:
            raise NoSuchBucket(f"Bucket={bucket!r} does not exist", bucket=bucket)
