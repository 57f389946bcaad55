"""Requests under /api/: routed to functions as API Gateway HTTP APIs route them (Lambda proxy integration)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from altostratus.api import sigv4
from altostratus.api.context import read_at_most
from altostratus.auth.keys import AccessKey, Role
from altostratus.core.clock import Clock
from altostratus.core.errors import AltoError
from altostratus.core.ids import arn
from altostratus.functions.routes import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    CallRejected,
    Forbidden,
    IntegrationFailed,
    ProxyRequest,
    ProxyResponse,
    RouteMatch,
    RoutesService,
    RouteTable,
    Unauthorized,
)

log = logging.getLogger(__name__)
PREFIX = "/api"
SIGNING_NAME = "execute-api"
API_KEY_HEADER = "x-api-key"
# Why a request was refused, for whoever debugs a client; the body stays API Gateway's fixed message.
REASON_HEADER = "x-alto-error"
INVOKE_ACTION = "execute-api:Invoke"


def route_arn(region: str, method: str, path: str) -> str:
    """A call's resource in a policy, as API Gateway writes it: API id, stage, method and the path called."""
    return arn("execute-api", region, f"alto/$default/{method}{path}")


class RouteHandler:
    """Answers the requests under /api/ that are not signed for another AWS service (S3 has buckets named api)."""

    path_prefix = PREFIX
    signing_names = frozenset({None, SIGNING_NAME})

    def __init__(
        self,
        routes: RoutesService,
        *,
        verifier: sigv4.Verifier | None,
        clock: Clock,
        region: str = "us-east-1",
        function_access: Callable[[str, str, str], bool] | None = None,
    ) -> None:
        self._routes = routes
        self._verifier = verifier
        self._clock = clock
        self._region = region
        self._function_access = function_access

    async def handle(self, request: Request, http: sigv4.HttpRequest, request_id: str) -> Response:
        """Run the route's function and answer with what it returned, or with API Gateway's error."""
        try:
            response = await self._answer(request, http, request_id)
        except CallRejected as error:
            if error.status >= 500:
                log.warning("route call %s %s failed: %s", request.method, http.raw_path, error.message)
            response = JSONResponse({"message": error.public_message}, error.status)
            response.headers[REASON_HEADER] = error.message.encode("ascii", "replace").decode()
        except Exception:
            log.exception("internal error on route call %s %s", request.method, http.raw_path)
            response = JSONResponse({"message": IntegrationFailed.public_message}, IntegrationFailed.status)
        response.headers["apigw-requestid"] = request_id
        return response

    async def _answer(self, request: Request, http: sigv4.HttpRequest, request_id: str) -> Response:
        length = http.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise BodyTooLarge(f"Content-Length is {length}; routes accept bodies of at most {MAX_BODY_BYTES} bytes")
        table = await run_in_threadpool(self._routes.table)
        match = table.match(request.method, http.raw_path[len(PREFIX) :] or "/")
        body = await self._authorize(request, http, table, match)
        if body is None:
            body = await _read_body(request)
        answer = await run_in_threadpool(self._routes.call, match, _proxy_request(request, http, body), request_id)
        return _response(answer)

    async def _authorize(
        self, request: Request, http: sigv4.HttpRequest, table: RouteTable, match: RouteMatch
    ) -> bytes | None:
        """Check an API key (and its rate) or a SigV4 signature, unless the route is public; the body if read."""
        if match.route.public or self._verifier is None:
            return None
        value = http.headers.get(API_KEY_HEADER)
        if value is not None:
            self._routes.admit(table.api_key(value))
            return None
        if sigv4.signing_service(http) is None and "authorization" not in http.headers:
            raise Unauthorized(
                f"route {match.route.key} is not public: send an {API_KEY_HEADER} header or sign the request "
                f"(SigV4, service {SIGNING_NAME})"
            )
        # Credentials first, so that a request without valid ones is refused before its body is read; the
        # signature covers the body's hash, so it is checked once the body is in.
        try:
            checked = self._verifier.check(http, self._clock.now())
        except AltoError as error:
            raise _refused(error) from None
        body = await _read_body(request)
        try:
            verified = self._verifier.verify_signature(checked, hashlib.sha256(body).hexdigest())
        except AltoError as error:
            raise _refused(error) from None
        # The resource is the path as routes match it: decoded, so /api/adm%69n is /admin to a policy too.
        self._check_key(verified.key, request.method, unquote(http.raw_path[len(PREFIX) :]) or "/", match)
        return body

    def _check_key(self, key: AccessKey, method: str, path: str, match: RouteMatch) -> None:
        """Admin keys invoke any route; a function's key only the routes its access policy allows; others none."""
        if key.role == Role.ADMIN:
            return
        resource = route_arn(self._region, method, path)
        if key.role == Role.FUNCTION and self._function_access is not None:
            if self._function_access(key.access_key_id, INVOKE_ACTION, resource):
                return
            raise Forbidden(
                f"key {key.access_key_id} belongs to a function whose access policy does not allow "
                f"{INVOKE_ACTION} on {resource}"
            )
        raise Forbidden(f"key {key.access_key_id} is {key.role.value}: it may not invoke route {match.route.key}")


def _refused(error: AltoError) -> Forbidden:
    return Forbidden(f"the request's signature was refused: {error.code}: {error.message}")


async def _read_body(request: Request) -> bytes:
    return await read_at_most(
        request.stream(),
        MAX_BODY_BYTES,
        lambda: BodyTooLarge(f"the body exceeds {MAX_BODY_BYTES} bytes, the most a route accepts"),
    )


def _proxy_request(request: Request, http: sigv4.HttpRequest, body: bytes) -> ProxyRequest:
    server = request.scope.get("server")
    return ProxyRequest(
        method=request.method,
        path=http.raw_path[len(PREFIX) :] or "/",
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw],
        body=body,
        source_ip=request.client.host if request.client else "127.0.0.1",
        protocol=f"HTTP/{request.scope.get('http_version', '1.1')}",
        scheme=request.url.scheme,
        port=server[1] if server else None,
    )


def _response(answer: ProxyResponse) -> Response:
    try:
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers]
    except UnicodeEncodeError as error:
        raise IntegrationFailed(f"the function's answer has a header that is not Latin-1 text: {error}") from None
    response = Response(answer.body, answer.status)
    response.raw_headers.extend(headers)
    return response
