"""Access keys: created, listed and deleted by the operator; looked up by the gateway on every request."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import os
import secrets
import string
from pathlib import Path

from sqlalchemy import delete, insert, select

from altostratus.auth.s3_actions import S3_ACTIONS
from altostratus.auth.tables import access_keys, users
from altostratus.core.clock import Clock
from altostratus.core.errors import InvalidArgument, NotFound
from altostratus.core.ttl_cache import TtlCache
from altostratus.storage.metadata import MetadataStore
from altostratus.storage.private_files import PRIVATE_FILE_MODE, make_private_dirs

# A deleted key stops working within this many seconds on every gateway process.
CACHE_SECONDS = 5.0
_KEY_ALPHABET = string.ascii_uppercase + string.digits


class Role(enum.StrEnum):
    """What a key may do: everything, only reads, or what a function may do (see FUNCTION_S3_ACTIONS)."""

    ADMIN = "admin"
    READ_ONLY = "read-only"
    FUNCTION = "function"


# A function's own key reads and writes objects in the lake and reads buckets; it cannot create, delete or
# reconfigure buckets (so it cannot change the notifications that trigger it) nor call any other service.
# Each S3 operation it may call, with the IAM action it needs and what that acts on (auth/s3_actions.py). What the
# function's access policy allows on those resources is checked too (functions/access.py, lake/access.py).
FUNCTION_S3_OPERATIONS = (
    "ListBuckets",
    "HeadBucket",
    "GetBucketLocation",
    "ListObjects",
    "ListObjectsV2",
    "ListMultipartUploads",
    "HeadObject",
    "GetObject",
    "GetObjectAttributes",
    "PutObject",
    "CopyObject",
    "DeleteObject",
    "DeleteObjects",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListParts",
    "GetObjectTagging",
    "PutObjectTagging",
    "DeleteObjectTagging",
)
FUNCTION_S3_ACTIONS: dict[str, tuple[str, str]] = {op: S3_ACTIONS[op] for op in FUNCTION_S3_OPERATIONS}


def function_may_call(service: str | None, operation: str) -> bool:
    """Whether a key of Role.FUNCTION may call this operation of this service (its signing name)."""
    return service == "s3" and operation in FUNCTION_S3_ACTIONS


class AccessKeyNotFound(NotFound):
    """The access key does not exist."""

    code = "NoSuchEntity"


class UserNotFound(NotFound):
    """The user does not exist."""

    code = "NoSuchEntity"


@dataclasses.dataclass(frozen=True)
class AccessKey:
    """An access key id, its secret, its role, and the user it belongs to (None: the account's own key)."""

    access_key_id: str
    secret_access_key: str
    role: Role
    description: str
    created_at: dt.datetime
    user_name: str | None = None


def parse_role(value: str) -> Role:
    """The Role named by value; InvalidArgument naming the allowed roles otherwise."""
    try:
        return Role(value)
    except ValueError:
        raise InvalidArgument(f"role={value!r}; expected one of {[r.value for r in Role]}") from None


class KeyStore:
    """Access keys kept in the metadata store, with a short read cache for the request path."""

    def __init__(self, store: MetadataStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._cache: TtlCache[AccessKey | None] = TtlCache(clock, CACHE_SECONDS)

    def create(self, role: Role = Role.ADMIN, description: str = "", *, user_name: str | None = None) -> AccessKey:
        """A new key pair with the given role, for the user named (None: the account's own key);
        UserNotFound when there is no such user."""
        key = AccessKey(
            access_key_id="AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16)),
            secret_access_key=secrets.token_urlsafe(30)[:40],
            role=role,
            description=description,
            created_at=self._clock.now(),
            user_name=user_name,
        )
        with self._store.begin() as db:
            if (
                user_name is not None
                and db.execute(select(users.c.user_name).where(users.c.user_name == user_name)).first() is None
            ):
                raise UserNotFound(f"user {user_name!r} does not exist; create it with `alto users create {user_name}`")
            db.execute(insert(access_keys).values(**dataclasses.asdict(key)))
        return key

    def get(self, access_key_id: str) -> AccessKey | None:
        """The key with this id, or None."""
        return self._cache.get(access_key_id, lambda: self._load(access_key_id))

    def _load(self, access_key_id: str) -> AccessKey | None:
        with self._store.read() as db:
            row = db.execute(select(access_keys).where(access_keys.c.access_key_id == access_key_id)).first()
        return _to_key(row._mapping) if row is not None else None

    def list(self) -> list[AccessKey]:
        """Every key, oldest first."""
        with self._store.begin() as db:
            rows = db.execute(select(access_keys).order_by(access_keys.c.created_at)).all()
        return [_to_key(row._mapping) for row in rows]

    def delete(self, access_key_id: str) -> None:
        """Remove a key; AccessKeyNotFound when there is none."""
        with self._store.begin() as db:
            result = db.execute(delete(access_keys).where(access_keys.c.access_key_id == access_key_id))
        if result.rowcount == 0:
            raise AccessKeyNotFound(f"access key {access_key_id!r} does not exist")
        self._cache.forget(access_key_id)

    def ensure_initial_key(self, credentials_file: Path) -> AccessKey | None:
        """On first start, create an admin key and write it as an AWS credentials file; None if keys exist."""
        if self.list():
            return None
        key = self.create(Role.ADMIN, description="created on first start")
        write_credentials_file(credentials_file, key)
        return key


def write_credentials_file(path: Path, key: AccessKey) -> None:
    """Write key as an AWS shared-credentials file (profile 'default'), readable by its owner only."""
    make_private_dirs(path.parent)
    text = f"[default]\naws_access_key_id = {key.access_key_id}\naws_secret_access_key = {key.secret_access_key}\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE_MODE)
    # A file that was there keeps its mode through O_CREAT: make it the owner's only before the secret goes in.
    os.fchmod(fd, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def _to_key(row: object) -> AccessKey:
    m = dict(row)  # type: ignore[call-overload]
    return AccessKey(
        access_key_id=m["access_key_id"],
        secret_access_key=m["secret_access_key"],
        role=Role(m["role"]),
        description=m["description"],
        created_at=m["created_at"],
        user_name=m["user_name"],
    )
