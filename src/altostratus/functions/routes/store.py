"""Routes and API keys in the metadata store, checked on the way in."""

from __future__ import annotations

import dataclasses
import secrets
import string
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from altostratus.core.clock import Clock
from altostratus.functions.names import parse_ref
from altostratus.functions.routes.definitions import (
    ApiKey,
    ApiKeyNotFound,
    InvalidApiKey,
    NewApiKey,
    Route,
    RouteExists,
    RouteNotFound,
    check_limits,
    check_method,
)
from altostratus.functions.routes.paths import PathTemplate
from altostratus.functions.routes.table import RouteTable, key_digest
from altostratus.functions.tables import route_api_keys, routes
from altostratus.storage.metadata import MetadataStore

KEY_VALUE_CHARS = 40
MAX_KEY_NAME_CHARS = 128
_KEY_ID_ALPHABET = string.ascii_lowercase + string.digits
_KEY_VALUE_ALPHABET = string.ascii_letters + string.digits


class RouteStore:
    """Reads and writes the routes and route_api_keys tables."""

    def __init__(self, store: MetadataStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def add(
        self, method: str, path: str, *, function: str, qualifier: str | None = None, public: bool = False
    ) -> Route:
        """A new route; function may be NAME, NAME:QUALIFIER or an ARN, and need not exist yet (calls answer 500)."""
        ref = parse_ref(function, qualifier)
        template = PathTemplate.parse(path)
        route = Route(
            method=check_method(method),
            path=template.text,
            function_name=ref.name,
            qualifier=ref.qualifier,
            public=public,
            created_at=self._clock.now(),
        )
        try:
            with self._store.begin() as db:
                db.execute(insert(routes).values(**dataclasses.asdict(route), shape=template.shape))
        except IntegrityError:
            with self._store.read() as db:
                clash = db.execute(
                    select(routes.c.path).where(routes.c.method == route.method, routes.c.shape == template.shape)
                ).scalar()
            raise RouteExists(
                f"route {route.method} {clash} exists already and would match the same requests as "
                f"{route.key}; delete it first (`alto routes delete {route.method} {clash}`)"
            ) from None
        return route

    def delete(self, method: str, path: str) -> None:
        """Remove the route with exactly this method and path; RouteNotFound when there is none."""
        method = check_method(method)
        with self._store.begin() as db:
            result = db.execute(delete(routes).where(routes.c.method == method, routes.c.path == path))
        if result.rowcount == 0:
            raise RouteNotFound(f"no route {method} {path}; `alto routes list` shows the routes there are")

    def routes(self) -> list[Route]:
        """Every route, by path then method."""
        with self._store.read() as db:
            rows = db.execute(select(routes).order_by(routes.c.path, routes.c.method)).all()
        return [_route(row._mapping) for row in rows]

    def create_key(self, name: str, *, rate: float | None = None, burst: int | None = None) -> NewApiKey:
        """A new enabled key; its value is in the answer and nowhere else (only its digest is stored)."""
        if not 1 <= len(name) <= MAX_KEY_NAME_CHARS:
            raise InvalidApiKey(f"name={name!r}; expected 1 to {MAX_KEY_NAME_CHARS} characters")
        rate, burst = check_limits(rate, burst)
        key = ApiKey(
            key_id="".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(10)),
            name=name,
            enabled=True,
            rate_per_second=rate,
            burst=burst,
            created_at=self._clock.now(),
        )
        value = "".join(secrets.choice(_KEY_VALUE_ALPHABET) for _ in range(KEY_VALUE_CHARS))
        with self._store.begin() as db:
            db.execute(insert(route_api_keys).values(**dataclasses.asdict(key), value_sha256=key_digest(value)))
        return NewApiKey(key, value)

    def api_keys(self) -> list[ApiKey]:
        """Every API key, oldest first."""
        with self._store.read() as db:
            rows = db.execute(select(route_api_keys).order_by(route_api_keys.c.created_at)).all()
        return [_key(row._mapping) for row in rows]

    def set_key_enabled(self, key_id: str, enabled: bool) -> ApiKey:
        """Enable or disable a key (a disabled key is refused with 403); ApiKeyNotFound when there is none."""
        with self._store.begin() as db:
            changed = update(route_api_keys).where(route_api_keys.c.key_id == key_id).values(enabled=enabled)
            result = db.execute(changed)
            row = db.execute(select(route_api_keys).where(route_api_keys.c.key_id == key_id)).first()
        if result.rowcount == 0 or row is None:
            raise _key_not_found(key_id)
        return _key(row._mapping)

    def delete_key(self, key_id: str) -> None:
        """Remove a key; ApiKeyNotFound when there is none."""
        with self._store.begin() as db:
            result = db.execute(delete(route_api_keys).where(route_api_keys.c.key_id == key_id))
        if result.rowcount == 0:
            raise _key_not_found(key_id)

    def load(self) -> RouteTable:
        """A snapshot of every route and key, read in one transaction."""
        with self._store.read() as db:
            route_rows = db.execute(select(routes)).all()
            key_rows = db.execute(select(route_api_keys)).all()
        keys = {row.value_sha256: _key(row._mapping) for row in key_rows}
        return RouteTable([_route(row._mapping) for row in route_rows], keys)


def _key_not_found(key_id: str) -> ApiKeyNotFound:
    return ApiKeyNotFound(f"no API key {key_id!r}; `alto routes keys list` shows the keys there are")


def _route(row: Mapping[Any, Any]) -> Route:
    return Route(
        method=row["method"],
        path=row["path"],
        function_name=row["function_name"],
        qualifier=row["qualifier"],
        public=row["public"],
        created_at=row["created_at"],
    )


def _key(row: Mapping[Any, Any]) -> ApiKey:
    return ApiKey(
        key_id=row["key_id"],
        name=row["name"],
        enabled=row["enabled"],
        rate_per_second=row["rate_per_second"],
        burst=row["burst"],
        created_at=row["created_at"],
    )
