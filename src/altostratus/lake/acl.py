"""Access control lists, as S3 keeps them on buckets and objects: grants of a permission to a grantee.

A grantee is a canonical id (a user's id, or the account's) or one of two groups: AllUsers (everyone, the
anonymous included) and AuthenticatedUsers (every signed request). An ACL is stored as its list of grants; None
stands for the default, private ACL (the owner has FULL_CONTROL), which is what every bucket and object had before
ACLs existed. Canned ACLs are shorthands for grant lists. Ownership controls decide who owns a new object and
whether ACLs count at all (BucketOwnerEnforced: they do not; only private or bucket-owner-full-control is taken).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence

from altostratus.core.errors import AccessDenied, BadRequest, InvalidArgument

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
GROUPS = (ALL_USERS, AUTHENTICATED_USERS)
MAX_GRANTS = 100  # S3's limit


class Permission(enum.StrEnum):
    """What a grant allows."""

    FULL_CONTROL = "FULL_CONTROL"
    WRITE = "WRITE"
    WRITE_ACP = "WRITE_ACP"
    READ = "READ"
    READ_ACP = "READ_ACP"


class Ownership(enum.StrEnum):
    """A bucket's object ownership control."""

    BUCKET_OWNER_ENFORCED = "BucketOwnerEnforced"
    BUCKET_OWNER_PREFERRED = "BucketOwnerPreferred"
    OBJECT_WRITER = "ObjectWriter"


class AccessControlListNotSupported(BadRequest):
    """The bucket does not allow ACLs."""

    code = "AccessControlListNotSupported"


class InvalidBucketAclWithObjectOwnership(BadRequest):
    """Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting."""

    code = "InvalidBucketAclWithObjectOwnership"


CANNED = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)
# Canned ACLs S3 has whose grantee is a service this server does not run: refused, never granted to nobody.
REFUSED_CANNED = {
    "aws-exec-read": "it grants Amazon EC2 read access to AMI bundles, and there is no EC2 here",
    "log-delivery-write": "it grants the S3 log delivery group write access, and this server delivers no logs",
}
# Canned ACLs that BucketOwnerEnforced still takes: they give nobody else anything.
OWNER_ONLY_CANNED = ("private", "bucket-owner-full-control")


@dataclasses.dataclass(frozen=True)
class Grant:
    """One permission for one grantee: a canonical id, or a group's URI."""

    permission: Permission
    canonical_id: str | None = None
    group: str | None = None

    def to_json(self) -> dict[str, str]:
        """The grant as stored."""
        grantee = {"id": self.canonical_id} if self.canonical_id is not None else {"uri": self.group or ""}
        return {**grantee, "permission": self.permission.value}

    @property
    def is_public(self) -> bool:
        """Whether the grant reaches principals the owner did not name (S3's "public" ACL)."""
        return self.group in GROUPS


def grants_from_json(stored: Sequence[Mapping[str, str]] | None) -> tuple[Grant, ...] | None:
    """Grants as stored (None: the default ACL)."""
    if stored is None:
        return None
    return tuple(Grant(Permission(g["permission"]), g.get("id"), g.get("uri")) for g in stored)


def grants_to_json(grants: Iterable[Grant] | None) -> list[dict[str, str]] | None:
    """Grants to store (None: the default ACL)."""
    return None if grants is None else [g.to_json() for g in grants]


@dataclasses.dataclass(frozen=True)
class Owned:
    """Who owns a new bucket, object or upload (a user's name; None: the account), and its ACL (None: private)."""

    owner: str | None = None
    acl: tuple[Grant, ...] | None = None


@dataclasses.dataclass(frozen=True)
class AclRequest:
    """What a request asks the ACL to be: a canned ACL, explicit grants, or neither (the default)."""

    canned: str | None = None
    grants: tuple[Grant, ...] = ()

    @property
    def given(self) -> bool:
        """Whether the request names an ACL at all."""
        return self.canned is not None or bool(self.grants)


def check_canned(name: str) -> str:
    """The canned ACL's name if this server has it; InvalidArgument naming why and the ones it has otherwise."""
    if name in REFUSED_CANNED:
        raise InvalidArgument(
            f"x-amz-acl={name!r} is not supported: {REFUSED_CANNED[name]}; expected one of {list(CANNED)}"
        )
    if name not in CANNED:
        raise InvalidArgument(f"x-amz-acl={name!r}; expected one of {list(CANNED)}")
    return name


def check_grants(grants: Sequence[Grant], known_id: Callable[[str], bool]) -> tuple[Grant, ...]:
    """The grants if each names a group this server has or a known canonical id (known_id(id) -> bool)."""
    if len(grants) > MAX_GRANTS:
        raise InvalidArgument(f"the ACL has {len(grants)} grants; at most {MAX_GRANTS}")
    for grant in grants:
        if grant.group is not None and grant.group not in GROUPS:
            raise InvalidArgument(f"Grantee URI={grant.group!r}; expected one of {list(GROUPS)}")
        if grant.canonical_id is not None and not known_id(grant.canonical_id):
            raise InvalidArgument(f"Invalid id: Grantee ID={grant.canonical_id!r} is no user's or the account's")
    return tuple(grants)


def resolve(request: AclRequest, owner_id: str, bucket_owner_id: str) -> tuple[Grant, ...] | None:
    """The grants a request's ACL makes for an owner (None: the default ACL, owner FULL_CONTROL)."""
    if request.canned is not None and request.grants:
        raise InvalidArgument("Specifying both Canned ACLs and Header Grants is not allowed")
    if request.grants:
        return request.grants
    if request.canned is None or request.canned == "private":
        return None
    owner = Grant(Permission.FULL_CONTROL, owner_id)
    extra = {
        "public-read": [Grant(Permission.READ, group=ALL_USERS)],
        "public-read-write": [Grant(Permission.READ, group=ALL_USERS), Grant(Permission.WRITE, group=ALL_USERS)],
        "authenticated-read": [Grant(Permission.READ, group=AUTHENTICATED_USERS)],
        "bucket-owner-read": [Grant(Permission.READ, bucket_owner_id)],
        "bucket-owner-full-control": [Grant(Permission.FULL_CONTROL, bucket_owner_id)],
    }[check_canned(request.canned)]
    # Group grants come first, as S3-compatible servers list them (ceph's s3-tests compare the order); the
    # owner's grant is not repeated where the bucket's owner is the object's owner too.
    groups = [g for g in extra if g.group is not None]
    people = [g for g in extra if g.group is None and g != owner]
    return (*groups, owner, *people)


def effective(grants: tuple[Grant, ...] | None, owner_id: str) -> tuple[Grant, ...]:
    """The grants an ACL holds, the default one spelled out."""
    return (Grant(Permission.FULL_CONTROL, owner_id),) if grants is None else grants


def permits(grants: Iterable[Grant], permission: Permission, canonical_id: str | None, *, ignore_public: bool) -> bool:
    """Whether the grants give `permission` to the principal of this canonical id (None: the anonymous one)."""
    for grant in grants:
        if grant.permission not in (permission, Permission.FULL_CONTROL):
            continue
        if grant.group == ALL_USERS or (grant.group == AUTHENTICATED_USERS and canonical_id is not None):
            if not ignore_public:
                return True
        elif grant.canonical_id is not None and grant.canonical_id == canonical_id:
            return True
    return False


def check_for_ownership(request: AclRequest, ownership: Ownership | None) -> None:
    """AccessControlListNotSupported for an ACL that BucketOwnerEnforced does not take, as S3 answers."""
    if ownership is not Ownership.BUCKET_OWNER_ENFORCED:
        return
    if request.grants or (request.canned is not None and request.canned not in OWNER_ONLY_CANNED):
        raise AccessControlListNotSupported(
            "The bucket does not allow ACLs: its object ownership is BucketOwnerEnforced, which takes only the "
            "canned ACLs private and bucket-owner-full-control"
        )


def check_not_public(grants: Iterable[Grant] | None, block_public_acls: bool) -> None:
    """AccessDenied for a public ACL on a bucket whose public access block says BlockPublicAcls."""
    if block_public_acls and any(g.is_public for g in grants or ()):
        raise AccessDenied("Access Denied: the bucket's public access block (BlockPublicAcls) refuses public ACLs")


def parse_ownership(value: str) -> Ownership:
    """The Ownership named; InvalidArgument naming the allowed ones otherwise."""
    try:
        return Ownership(value)
    except ValueError:
        raise InvalidArgument(f"ObjectOwnership={value!r}; expected one of {[o.value for o in Ownership]}") from None


def object_owner(
    ownership: Ownership | None, bucket_owner: str | None, writer: str | None, *, anonymous: bool, canned: str | None
) -> str | None:
    """Who owns an object written now (a user's name; None: the account), by the bucket's ownership control.

    An object the anonymous principal writes (into a bucket whose ACL or policy lets everyone write) belongs to
    the bucket's owner: the anonymous principal owns nothing.
    """
    if anonymous or ownership is Ownership.BUCKET_OWNER_ENFORCED:
        return bucket_owner
    if ownership is Ownership.BUCKET_OWNER_PREFERRED and canned == "bucket-owner-full-control":
        return bucket_owner
    return writer
