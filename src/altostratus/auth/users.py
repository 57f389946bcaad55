"""Users: the principals access keys belong to, and who owns buckets and objects.

A key with no user is the account's own (the first-start administrator key, and every key made before users
existed): it acts for the whole account. A user is known by its name (as IAM allows them) and by its user id,
"AIDA" and 16 capitals or digits, which is also its canonical id in ACLs and listings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import secrets
import string
from collections.abc import Callable, Iterable

from sqlalchemy import delete, insert, select

from altostratus.auth.keys import UserNotFound
from altostratus.auth.tables import access_keys, users
from altostratus.core.clock import Clock
from altostratus.core.errors import Conflict, InvalidArgument
from altostratus.core.ids import ACCOUNT_ID
from altostratus.core.ttl_cache import TtlCache
from altostratus.storage.metadata import MetadataStore

# The one local account (core/ids.py writes it in every ARN), and its canonical id in ACLs and listings.
ACCOUNT_CANONICAL_ID = hashlib.sha256(f"altostratus account {ACCOUNT_ID}".encode()).hexdigest()
ACCOUNT_DISPLAY_NAME = "account"
USER_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
_ID_ALPHABET = string.ascii_uppercase + string.digits
# A user created or deleted reaches the request path within this many seconds on every gateway process.
CACHE_SECONDS = 5.0

# Given a user's name: what it still holds that keeps it from being deleted ("bucket raw", ...).
Holdings = Callable[[str], Iterable[str]]


class UserInUse(Conflict):
    """The user still holds access keys or buckets."""

    code = "DeleteConflict"


class UserExists(Conflict):
    """A user with this name exists."""

    code = "EntityAlreadyExists"


@dataclasses.dataclass(frozen=True)
class User:
    """A user: its name, its id (also its canonical id) and when it was made."""

    user_name: str
    user_id: str
    created_at: dt.datetime


def check_user_name(name: str) -> str:
    """The name if IAM would take it; InvalidArgument naming the rule otherwise."""
    if not USER_NAME.fullmatch(name):
        raise InvalidArgument(f"user name {name!r}; expected 1 to 64 of the characters A-Z a-z 0-9 + = , . @ _ -")
    return name


class UserStore:
    """Users kept in the metadata store, with a short read cache for the request path."""

    def __init__(self, store: MetadataStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._holdings: list[Holdings] = []
        self._cache: TtlCache[User | None] = TtlCache(clock, CACHE_SECONDS)

    def hold_deletion_by(self, holdings: Holdings) -> None:
        """Refuse to delete a user while `holdings` names something of it (a service's buckets, say)."""
        self._holdings.append(holdings)

    def create(self, name: str) -> User:
        """A new user; UserExists if the name is taken."""
        user = User(
            check_user_name(name), "AIDA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16)), self._clock.now()
        )
        with self._store.begin() as db:
            if db.execute(select(users.c.user_name).where(users.c.user_name == name)).first() is not None:
                raise UserExists(f"user {name!r} already exists")
            db.execute(insert(users).values(**dataclasses.asdict(user)))
        self._forget(name)
        return user

    def get(self, name: str) -> User | None:
        """The user of this name, or None."""
        return self._cache.get(name, lambda: self._load(name))

    def _load(self, name: str) -> User | None:
        with self._store.read() as db:
            row = db.execute(select(users).where(users.c.user_name == name)).first()
        return User(row.user_name, row.user_id, row.created_at) if row is not None else None

    def by_id(self, user_id: str) -> User | None:
        """The user whose id (canonical id) this is, or None."""
        with self._store.read() as db:
            row = db.execute(select(users).where(users.c.user_id == user_id)).first()
        return User(row.user_name, row.user_id, row.created_at) if row is not None else None

    def list(self) -> list[User]:
        """Every user, by name."""
        with self._store.read() as db:
            rows = db.execute(select(users).order_by(users.c.user_name)).all()
        return [User(r.user_name, r.user_id, r.created_at) for r in rows]

    def delete(self, name: str) -> None:
        """Remove a user; UserNotFound when there is none, UserInUse naming its keys and buckets while it has any."""
        held = [f"bucket {item}" for holdings in self._holdings for item in holdings(name)]
        with self._store.begin() as db:
            if db.execute(select(users.c.user_name).where(users.c.user_name == name)).first() is None:
                raise UserNotFound(f"user {name!r} does not exist")
            keys = db.execute(select(access_keys.c.access_key_id).where(access_keys.c.user_name == name)).scalars()
            held = [f"access key {key}" for key in sorted(keys)] + held
            if held:
                raise UserInUse(f"user {name!r} still has {', '.join(held)}; delete them first")
            db.execute(delete(users).where(users.c.user_name == name))
        self._forget(name)

    def _forget(self, name: str) -> None:
        self._cache.forget(name)
