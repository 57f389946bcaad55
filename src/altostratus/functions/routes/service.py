"""The RoutesService: find a request's route, check its key's rate, and carry it to its function and back."""

from __future__ import annotations

import json
import threading
from typing import Protocol

from altostratus.core import json_input
from altostratus.core.clock import Clock
from altostratus.core.errors import AltoError
from altostratus.functions.errors import PayloadTooLarge
from altostratus.functions.routes.definitions import MAX_BODY_BYTES, ApiKey, BodyTooLarge, IntegrationFailed, Throttled
from altostratus.functions.routes.limits import RateLimiter
from altostratus.functions.routes.proxy import EventContext, ProxyRequest, ProxyResponse, build_event, map_response
from altostratus.functions.routes.store import RouteStore
from altostratus.functions.routes.table import RouteMatch, RouteTable
from altostratus.functions.service import InvokeResult

# A route or key added, changed or deleted (by `alto routes`) is seen by every gateway process within this time.
CACHE_SECONDS = 1.0


class Invoke(Protocol):
    """Runs a function synchronously (FunctionsService.invoke)."""

    def __call__(
        self, name: str, payload: bytes, *, qualifier: str | None = None, request_id: str | None = None
    ) -> InvokeResult:
        """Run the function on the payload and return its outcome."""
        ...


class RoutesService:
    """Serves routed requests from a cached RouteTable; routes and keys are managed in the RouteStore."""

    def __init__(
        self,
        store: RouteStore,
        invoke: Invoke,
        clock: Clock,
        *,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._store = store
        self._invoke = invoke
        self._clock = clock
        self._limiter = RateLimiter(clock)
        self._cache_seconds = cache_seconds
        self._cached: tuple[float, RouteTable] | None = None
        # One thread reloads an expired table; the others wait for it rather than each reading the database.
        self._reload = threading.Lock()

    def table(self) -> RouteTable:
        """The routes and keys, read again when the cached snapshot is older than cache_seconds."""
        cached = self._cached
        if cached is not None and self._clock.monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        with self._reload:
            now = self._clock.monotonic()
            cached = self._cached
            if cached is None or now - cached[0] >= self._cache_seconds:
                cached = self._cached = (now, self._store.load())
            return cached[1]

    def admit(self, key: ApiKey) -> None:
        """Count one request against the key's rate limit; Throttled when it has none left."""
        if key.rate_per_second is None or key.burst is None:
            return
        if not self._limiter.allow(key.key_id, key.rate_per_second, key.burst):
            raise Throttled(
                f"API key {key.key_id} ({key.name}) is over its limit of {key.rate_per_second:g} requests "
                f"a second with bursts of {key.burst}"
            )

    def call(self, match: RouteMatch, request: ProxyRequest, request_id: str) -> ProxyResponse:
        """Invoke the route's function with the payload format 2.0 event and map its answer to HTTP."""
        if len(request.body) > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the body has {len(request.body)} bytes; routes accept at most {MAX_BODY_BYTES}")
        route = match.route
        event = build_event(request, route, match.path_parameters, EventContext(request_id, self._clock.now()))
        payload = json.dumps(event, separators=(",", ":")).encode()
        try:
            result = self._invoke(route.function_name, payload, qualifier=route.qualifier, request_id=request_id)
        except PayloadTooLarge as error:
            raise BodyTooLarge(f"the event for function {route.target} is too large: {error.message}") from error
        except AltoError as error:
            raise IntegrationFailed(f"function {route.target} could not run: {error.code}: {error.message}") from error
        outcome = result.outcome
        if outcome.function_error is not None:
            raise IntegrationFailed(
                f"function {route.target} failed ({outcome.function_error}): {_error(outcome.payload)}"
            )
        try:
            return map_response(outcome.payload)
        except IntegrationFailed as error:
            raise IntegrationFailed(f"function {route.target}: {error.message}") from None


def _error(payload: bytes) -> str:
    try:
        document = json_input.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return payload[:200].decode(errors="replace")
    if isinstance(document, dict):
        return f"{document.get('errorType', 'Error')}: {document.get('errorMessage', '')}"
    return str(document)[:200]
