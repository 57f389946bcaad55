"""The auth service's table: access keys and their roles.

Migrations under storage/migrations create it; a change here needs a new migration there.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from altostratus.storage.schema import UTCDateTime, metadata

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(128), primary_key=True),
    Column("secret_access_key", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
)
