"""Routes: HTTP requests under /api/ invoke functions, as API Gateway HTTP APIs with Lambda proxy integration do."""

from altostratus.functions.routes.definitions import (
    MAX_BODY_BYTES,
    METHODS,
    ApiKey,
    ApiKeyNotFound,
    BodyTooLarge,
    CallRejected,
    Forbidden,
    IntegrationFailed,
    InvalidApiKey,
    NewApiKey,
    NoRoute,
    Route,
    RouteExists,
    RouteNotFound,
    Throttled,
    Unauthorized,
)
from altostratus.functions.routes.limits import RateLimiter
from altostratus.functions.routes.paths import InvalidRoute, PathTemplate
from altostratus.functions.routes.proxy import EventContext, ProxyRequest, ProxyResponse, build_event, map_response
from altostratus.functions.routes.service import CACHE_SECONDS, RoutesService
from altostratus.functions.routes.store import RouteStore
from altostratus.functions.routes.table import RouteMatch, RouteTable

__all__ = [
    "CACHE_SECONDS",
    "MAX_BODY_BYTES",
    "METHODS",
    "ApiKey",
    "ApiKeyNotFound",
    "BodyTooLarge",
    "CallRejected",
    "EventContext",
    "Forbidden",
    "IntegrationFailed",
    "InvalidApiKey",
    "InvalidRoute",
    "NewApiKey",
    "NoRoute",
    "PathTemplate",
    "ProxyRequest",
    "ProxyResponse",
    "RateLimiter",
    "Route",
    "RouteExists",
    "RouteMatch",
    "RouteNotFound",
    "RouteStore",
    "RouteTable",
    "RoutesService",
    "Throttled",
    "Unauthorized",
    "build_event",
    "map_response",
]
