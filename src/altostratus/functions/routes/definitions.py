"""The routes' nouns: routes, API keys, the errors a caller sees, and API Gateway's limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

from altostratus.core.errors import AltoError, BadRequest, Conflict, NotFound
from altostratus.functions.routes.paths import InvalidRoute, PathTemplate

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
ANY = "ANY"
# API Gateway's HTTP API payload limit.
MAX_BODY_BYTES = 10 * 1024 * 1024


class RouteExists(Conflict):
    """A route with that method and path exists already."""

    code = "ConflictException"


class RouteNotFound(NotFound):
    """No route has that method and path."""

    code = "NotFoundException"


class ApiKeyNotFound(NotFound):
    """No API key has that id."""

    code = "NotFoundException"


class InvalidApiKey(BadRequest):
    """An API key setting is not valid."""

    code = "BadRequestException"


class CallRejected(AltoError):
    """A routed request that is answered, as API Gateway answers it, with {"message": public_message}."""

    public_message = "Internal Server Error"


class NoRoute(CallRejected):
    """No route matches the request's method and path."""

    code = "NotFoundException"
    status = 404
    public_message = "Not Found"


class Unauthorized(CallRejected):
    """The route needs credentials and the request carries none."""

    code = "UnauthorizedException"
    status = 401
    public_message = "Unauthorized"


class Forbidden(CallRejected):
    """The request's credentials are not valid for this route."""

    code = "ForbiddenException"
    status = 403
    public_message = "Forbidden"


class Throttled(CallRejected):
    """The API key has used up its rate limit for now."""

    code = "TooManyRequestsException"
    status = 429
    public_message = "Too Many Requests"


class BodyTooLarge(CallRejected):
    """The request body is larger than the route may pass on."""

    code = "RequestEntityTooLargeException"
    status = 413
    public_message = "Request Entity Too Large"


class IntegrationFailed(CallRejected):
    """The function could not be run, failed, or answered something that is not a valid response."""

    code = "InternalServerErrorException"
    status = 500


@dataclasses.dataclass(frozen=True)
class Route:
    """METHOD /path -> function[:qualifier]; public routes need no API key or signature."""

    method: str
    path: str
    function_name: str
    qualifier: str | None
    public: bool
    created_at: dt.datetime

    @property
    def key(self) -> str:
        """The route key as API Gateway writes it: 'POST /bookings'."""
        return f"{self.method} {self.path}"

    @property
    def template(self) -> PathTemplate:
        """The parsed path."""
        return PathTemplate.parse(self.path)

    @property
    def target(self) -> str:
        """The function and qualifier it invokes: 'book' or 'book:live'."""
        return self.function_name + (f":{self.qualifier}" if self.qualifier else "")


@dataclasses.dataclass(frozen=True)
class ApiKey:
    """A key for calling non-public routes, with its own rate limit (None: unlimited)."""

    key_id: str
    name: str
    enabled: bool
    rate_per_second: float | None
    burst: int | None
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class NewApiKey:
    """A key just created, with its value: the only time the value is known."""

    key: ApiKey
    value: str


def check_method(method: str) -> str:
    """The method in upper case; InvalidRoute naming the allowed ones otherwise."""
    upper = method.upper()
    if upper not in METHODS:
        raise InvalidRoute(f"method={method!r}; expected one of {list(METHODS)}")
    return upper


def check_limits(rate: float | None, burst: int | None) -> tuple[float | None, int | None]:
    """(rate, burst) with burst defaulting to the rate rounded up; InvalidApiKey when they do not fit together."""
    if rate is None:
        if burst is not None:
            raise InvalidApiKey(f"burst={burst} was given without a rate; give --rate too")
        return None, None
    if not rate > 0:
        raise InvalidApiKey(f"rate={rate}; expected a number of requests per second above 0")
    burst = math.ceil(rate) if burst is None else burst
    if burst < 1:
        raise InvalidApiKey(f"burst={burst}; expected 1 or more requests")
    return float(rate), burst
