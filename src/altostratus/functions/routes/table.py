"""A snapshot of the routes and API keys, answering which route a request takes and whose key it carries."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping

from altostratus.functions.routes.definitions import ANY, ApiKey, Forbidden, NoRoute, Route
from altostratus.functions.routes.paths import PathTemplate, split_path


@dataclasses.dataclass(frozen=True)
class RouteMatch:
    """The route a request takes and the path parameters it binds."""

    route: Route
    path_parameters: dict[str, str]


def key_digest(value: str) -> str:
    """How an API key's value is stored: its SHA-256 (values are random, so no salt or stretching is needed)."""
    return hashlib.sha256(value.encode()).hexdigest()


class RouteTable:
    """Routes in API Gateway's order of precedence, and API keys by the digest of their value."""

    def __init__(self, routes: Iterable[Route], keys: Mapping[str, ApiKey]) -> None:
        parsed = [(route, route.template) for route in routes]
        # A literal segment beats a parameter, which beats a greedy parameter, compared from the left;
        # between routes of one path, a specific method beats ANY.
        parsed.sort(key=lambda pair: (pair[1].specificity, pair[0].method == ANY))
        self._routes: list[tuple[Route, PathTemplate]] = parsed
        self._keys = dict(keys)

    @property
    def routes(self) -> list[Route]:
        """Every route, most specific first."""
        return [route for route, _ in self._routes]

    def match(self, method: str, path: str) -> RouteMatch:
        """The route for method and raw path (relative to /api); NoRoute when none fits."""
        parts = split_path(path)
        for route, template in self._routes:
            if route.method not in (method, ANY):
                continue
            params = template.match(parts)
            if params is not None:
                return RouteMatch(route, params)
        raise NoRoute(f"no route matches {method} {path or '/'}")

    def api_key(self, value: str) -> ApiKey:
        """The enabled key with this value; Forbidden when there is none."""
        key = self._keys.get(key_digest(value))
        if key is None:
            raise Forbidden("the x-api-key header holds no known API key")
        if not key.enabled:
            raise Forbidden(f"API key {key.key_id} ({key.name}) is disabled")
        return key
