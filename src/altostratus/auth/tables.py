"""The auth service's tables: users, and access keys with their roles.

Migrations under storage/migrations create them; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text

from altostratus.storage.schema import UTCDateTime, metadata

users = Table(
    "users",
    metadata,
    Column("user_name", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    Column("secret_access_key", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    # The user the key belongs to (None: a key from before users, the account's administrators').
    Column("user_name", String(64), ForeignKey("users.user_name"), nullable=True),
)
