"""Who may do what in the lake: one function decides, for every S3 request, with S3's rules.

    explicit Deny anywhere (the bucket policy) wins; then the key's role caps what it may ever do (read-only,
    a function's access); then the bucket's owner, and the account's own keys, are allowed; then an Allow of the
    bucket policy, or a grant of the bucket's or object's ACL; anything else is denied.

The public access block narrows the last step as S3 does (IgnorePublicAcls drops AllUsers/AuthenticatedUsers
grants, RestrictPublicBuckets drops a public policy's Allow for the anonymous principal) and BucketOwnerEnforced
ownership turns ACLs off. A user is a principal apart: it owns the buckets it creates, and reaches another's only
through that bucket's policy or ACLs. The anonymous principal (an unsigned request) owns nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Protocol

from sqlalchemy import bindparam, select, true

from altostratus.auth import policy
from altostratus.auth.keys import Role
from altostratus.auth.policy import PolicyRequest, Statement, Verdict
from altostratus.auth.s3_actions import KNOWN_ACTIONS, READ_ACTIONS
from altostratus.auth.users import ACCOUNT_CANONICAL_ID, User
from altostratus.core.clock import Clock
from altostratus.core.errors import AccessDenied
from altostratus.core.ids import ACCOUNT_ID
from altostratus.core.ttl_cache import TtlCache
from altostratus.lake.acl import Grant, Ownership, Permission, effective, grants_from_json, permits
from altostratus.lake.tables import buckets, objects
from altostratus.storage.metadata import MetadataStore

# A change of a bucket's owner, ACL, policy or public access block reaches every gateway process within this
# many seconds; in this process at once (BucketRecords.forget).
CACHE_SECONDS = 1.0

# Which ACL permission, on the bucket or on the object, lets a non-owner take an action (S3's ACL table).
BUCKET_ACL_PERMISSIONS = {
    "s3:ListBucket": Permission.READ,
    "s3:ListBucketVersions": Permission.READ,
    "s3:ListBucketMultipartUploads": Permission.READ,
    "s3:PutObject": Permission.WRITE,
    "s3:DeleteObject": Permission.WRITE,
    "s3:DeleteObjectVersion": Permission.WRITE,
    "s3:AbortMultipartUpload": Permission.WRITE,
    "s3:GetBucketAcl": Permission.READ_ACP,
    "s3:PutBucketAcl": Permission.WRITE_ACP,
}
OBJECT_ACL_PERMISSIONS = {
    "s3:GetObject": Permission.READ,
    "s3:GetObjectVersion": Permission.READ,
    "s3:GetObjectAcl": Permission.READ_ACP,
    "s3:GetObjectVersionAcl": Permission.READ_ACP,
    "s3:PutObjectAcl": Permission.WRITE_ACP,
    "s3:PutObjectVersionAcl": Permission.WRITE_ACP,
}

POLICY_ACTIONS = frozenset({"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"})
# A function's key -> whether its access lets it take an action on a resource (functions/access.py).
FunctionAccess = Callable[[str, str, str], bool]


class Directory(Protocol):
    """Users by name and by id (auth/users.py's UserStore)."""

    def get(self, name: str) -> User | None:
        """The user of this name, or None."""
        ...

    def by_id(self, user_id: str) -> User | None:
        """The user of this id, or None."""
        ...


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who asks: a key (its id, role and user: None for the account's own keys), or nobody (anonymous)."""

    access_key_id: str | None = None
    user_name: str | None = None
    role: Role = Role.ADMIN

    @property
    def anonymous(self) -> bool:
        """Whether the request was not signed."""
        return self.access_key_id is None

    def describe(self) -> str:
        """The principal, for messages."""
        if self.access_key_id is None:
            return "an anonymous request"
        return f"key {self.access_key_id}" + (f" of user {self.user_name}" if self.user_name else "")


ANONYMOUS = Principal()


@dataclasses.dataclass(frozen=True)
class Need:
    """An action on a resource: the account (no bucket), a bucket, or an object (a version of it)."""

    action: str
    bucket: str | None = None
    key: str | None = None
    version_id: str | None = None

    @property
    def arn(self) -> str:
        """The resource's ARN."""
        if self.bucket is None:
            return "*"
        return f"arn:aws:s3:::{self.bucket}" + (f"/{self.key}" if self.key is not None else "")


@dataclasses.dataclass(frozen=True)
class RequestFacts:
    """What a request tells the policy's conditions: its transport, its address, and the listing parameters
    (s3:prefix, s3:delimiter, s3:max-keys, by condition key, only those the request gave)."""

    secure: bool = False
    source_ip: str = "127.0.0.1"
    listing: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class PublicAccessBlock:
    """A bucket's public access block; every flag off is the same as none."""

    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False


@dataclasses.dataclass(frozen=True)
class BucketAccess:
    """What decides access to a bucket: its owner (a user's name; None: the account), ACL, policy, controls."""

    owner: str | None
    acl: tuple[Grant, ...] | None
    policy: tuple[Statement, ...]
    block: PublicAccessBlock | None
    ownership: Ownership | None

    @property
    def policy_is_public(self) -> bool:
        """Whether the policy lets everyone in somewhere (S3's IsPublic)."""
        return any(statement.is_public() for statement in self.policy)


@dataclasses.dataclass(frozen=True)
class ObjectAccess:
    """What decides access to an object: its owner, ACL and tags."""

    owner: str | None
    acl: tuple[Grant, ...] | None
    tags: Mapping[str, str]


_BUCKET = select(
    buckets.c.owner, buckets.c.acl, buckets.c.policy, buckets.c.public_access_block, buckets.c.ownership
).where(buckets.c.name == bindparam("bucket"))
_LATEST = select(objects.c.owner, objects.c.acl, objects.c.tags, objects.c.delete_marker).where(
    objects.c.bucket == bindparam("bucket"), objects.c.key == bindparam("key"), objects.c.is_latest == true()
)
_VERSION = select(objects.c.owner, objects.c.acl, objects.c.tags, objects.c.delete_marker).where(
    objects.c.bucket == bindparam("bucket"),
    objects.c.key == bindparam("key"),
    objects.c.version_id == bindparam("version_id"),
)


def parse_policy(text: str, bucket: str) -> tuple[Statement, ...]:
    """A bucket policy's statements (MalformedBucketPolicy naming what is wrong)."""
    return policy.parse_bucket_policy(text, bucket, KNOWN_ACTIONS)


def block_from_json(stored: Mapping[str, bool] | None) -> PublicAccessBlock | None:
    """A stored public access block (None: the bucket has none)."""
    return None if stored is None else PublicAccessBlock(**{k: bool(v) for k, v in stored.items()})


class BucketRecords:
    """Reads what access depends on, a bucket's state cached for CACHE_SECONDS (the small-request path asks it
    on every request) and forgotten at once on a change made in this process."""

    def __init__(self, store: MetadataStore, users: Directory, clock: Clock) -> None:
        self._store = store
        self._users = users
        self._clock = clock
        self._cache: TtlCache[BucketAccess | None] = TtlCache(clock, CACHE_SECONDS)

    def bucket(self, name: str) -> BucketAccess | None:
        """The bucket's access state, or None when there is no such bucket (never cached: it may appear)."""
        return self._cache.get(name, lambda: self._load(name), keep=lambda state: state is not None)

    def _load(self, name: str) -> BucketAccess | None:
        with self._store.read() as db:
            row = db.execute(_BUCKET, {"bucket": name}).first()
        if row is None:
            return None
        return BucketAccess(
            owner=row.owner,
            acl=grants_from_json(row.acl),
            policy=parse_policy(row.policy, name) if row.policy else (),
            block=block_from_json(row.public_access_block),
            ownership=Ownership(row.ownership) if row.ownership else None,
        )

    def object(self, bucket: str, key: str, version_id: str | None) -> ObjectAccess | None:
        """The object's (its latest version's, or the one named) access state; None for none or a delete marker."""
        with self._store.read() as db:
            if version_id is None:
                row = db.execute(_LATEST, {"bucket": bucket, "key": key}).first()
            else:
                row = db.execute(_VERSION, {"bucket": bucket, "key": key, "version_id": version_id}).first()
        if row is None or row.delete_marker:
            return None
        return ObjectAccess(row.owner, grants_from_json(row.acl), dict(row.tags))

    def forget(self, name: str) -> None:
        """Drop the bucket's cached state: it changed."""
        self._cache.forget(name)

    def canonical_id(self, owner: str | None) -> str:
        """The canonical id of an owner (a user's name; None: the account)."""
        if owner is None:
            return ACCOUNT_CANONICAL_ID
        user = self._users.get(owner)
        # A user deleted while it still owned something leaves that owned by a canonical id no one has.
        return user.user_id if user is not None else f"deleted-user:{owner}"

    def display_name(self, owner: str | None) -> str:
        """What listings show as an owner's name."""
        return "account" if owner is None else owner

    def known_canonical_id(self, canonical_id: str) -> bool:
        """Whether the id is the account's or a user's."""
        return canonical_id == ACCOUNT_CANONICAL_ID or self._users.by_id(canonical_id) is not None


class LakeAuthorizer:
    """Decides every S3 request: allowed, or AccessDenied naming who may not do what (see the module's rules)."""

    def __init__(self, records: BucketRecords, *, function_access: FunctionAccess | None = None) -> None:
        self._records = records
        self._function_access = function_access

    def check(self, principal: Principal, need: Need, facts: RequestFacts) -> None:
        """Nothing if the principal may take the action; AccessDenied saying why not otherwise."""
        refusal = self._refusal(principal, need, facts)
        if refusal is not None:
            raise AccessDenied(f"Access Denied: {refusal}")

    def check_role(self, principal: Principal, action: str) -> None:
        """AccessDenied if the principal's role may never take the action (on any resource)."""
        if principal.role is Role.READ_ONLY and action not in READ_ACTIONS:
            raise AccessDenied(f"Access Denied: {principal.describe()} is read-only and {action} writes")

    def allows(self, principal: Principal, need: Need, facts: RequestFacts) -> bool:
        """Whether the principal may take the action."""
        return self._refusal(principal, need, facts) is None

    def _refusal(self, principal: Principal, need: Need, facts: RequestFacts) -> str | None:
        who, action, resource = principal.describe(), need.action, need.arn
        if principal.role is Role.READ_ONLY and action not in READ_ACTIONS:
            return f"{who} is read-only and {action} writes"
        if principal.role is Role.FUNCTION and self._function_access is not None:
            assert principal.access_key_id is not None
            if not self._function_access(principal.access_key_id, action, resource):
                return (
                    f"{who} belongs to a function whose access does not allow {action} on {resource} (a function "
                    "reaches its triggers' buckets and dead-letter location; widen it with `alto functions access set`)"
                )
        state = self._records.bucket(need.bucket) if need.bucket is not None else None
        if state is None:
            # The account's own operations, or a bucket that does not exist (the operation answers NoSuchBucket).
            return f"{who} may not {action}: sign the request" if principal.anonymous else None
        account = not principal.anonymous and principal.user_name is None
        if account and action in POLICY_ACTIONS:
            return None  # the account can always mend a policy that locks everyone out, as S3's root user can
        verdict = self._policy_verdict(state, principal, need, facts)
        if verdict is Verdict.DENY:
            return f"the policy of bucket {need.bucket} denies {action} on {resource} to {who}"
        if not principal.anonymous and principal.user_name in (None, state.owner):
            return None
        restricted = state.block is not None and state.block.restrict_public_buckets and state.policy_is_public
        if verdict is Verdict.ALLOW and not (restricted and principal.anonymous):
            return None
        if self._acl_allows(state, principal, need):
            return None
        return f"{who} may not {action} on {resource}"

    def _policy_verdict(self, state: BucketAccess, principal: Principal, need: Need, facts: RequestFacts) -> Verdict:
        if not state.policy:
            return Verdict.NONE
        ids: frozenset[str] = frozenset()
        if principal.access_key_id is not None:
            user_arn = {f"arn:aws:iam::{ACCOUNT_ID}:user/{principal.user_name}"} if principal.user_name else set()
            ids = frozenset({"account", principal.access_key_id, *user_arn})
        context = self._context(principal, need, facts)
        return policy.evaluate(state.policy, PolicyRequest(need.action, need.arn, ids, context))

    def _context(
        self, principal: Principal, need: Need, facts: RequestFacts
    ) -> Callable[[str], tuple[str, ...] | None]:
        signed = principal.access_key_id is not None
        user = principal.user_name
        user_id = ACCOUNT_ID if user is None else self._records.canonical_id(user)
        arn = f"arn:aws:iam::{ACCOUNT_ID}:" + (f"user/{user}" if user else "root")
        known: dict[str, str | None] = {
            "aws:securetransport": "true" if facts.secure else "false",
            "aws:sourceip": facts.source_ip,
            "aws:username": user if signed else None,
            "aws:userid": user_id if signed else "anonymous",
            "aws:principalaccount": ACCOUNT_ID if signed else None,
            "aws:principalarn": arn if signed else None,
            **{k: v for k, v in facts.listing.items() if need.action == "s3:ListBucket"},
        }

        def lookup(name: str) -> tuple[str, ...] | None:
            if name.startswith("s3:existingobjecttag/"):
                found = self._object(need)
                tag = name[len("s3:existingobjecttag/") :]
                return (found.tags[tag],) if found is not None and tag in found.tags else None
            value = known.get(name)
            return None if value is None else (value,)

        return lookup

    def _object(self, need: Need) -> ObjectAccess | None:
        if need.bucket is None or need.key is None:
            return None
        return self._records.object(need.bucket, need.key, need.version_id)

    def _acl_allows(self, state: BucketAccess, principal: Principal, need: Need) -> bool:
        if state.ownership is Ownership.BUCKET_OWNER_ENFORCED:
            return False  # ACLs are off
        ignore_public = state.block is not None and state.block.ignore_public_acls
        me = None if principal.anonymous else self._records.canonical_id(principal.user_name)
        wanted = BUCKET_ACL_PERMISSIONS.get(need.action)
        if wanted is not None:
            grants = effective(state.acl, self._records.canonical_id(state.owner))
            return permits(grants, wanted, me, ignore_public=ignore_public)
        wanted = OBJECT_ACL_PERMISSIONS.get(need.action)
        found = self._object(need) if wanted is not None else None
        if wanted is None or found is None:
            return False
        if not principal.anonymous and found.owner is not None and found.owner == principal.user_name:
            return True  # an object's owner always reaches it and its ACL
        grants = effective(found.acl, self._records.canonical_id(found.owner))
        return permits(grants, wanted, me, ignore_public=ignore_public)
