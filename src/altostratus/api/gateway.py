"""The gateway: one ASGI app on one port for every service, telling them apart as AWS clients address them."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, cast
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from altostratus.api import sigv4
from altostratus.api.aws_chunked import IncompleteBody
from altostratus.api.context import Body, BodyLimit, Call, read_at_most
from altostratus.api.errors import error_response
from altostratus.api.operations import RouteMatch
from altostratus.api.s3_access import BodyAccess, S3Access
from altostratus.api.service_rules import ServiceRules
from altostratus.auth.keys import AccessKey, Role, function_may_call
from altostratus.core.caller import Caller
from altostratus.core.clock import Clock
from altostratus.core.errors import AccessDenied, AltoError, BadRequest
from altostratus.core.ids import request_id

log = logging.getLogger(__name__)
# Rekognition's Detect, Search and Compare operations read images and collections and write nothing.
READ_OPERATION_PREFIXES = ("Get", "Head", "List", "Describe", "Select", "Detect", "Search", "Compare", "Synthesize")
HEALTH_PATH = "/_alto/health"
# The CORS headers of an S3 answer: (method, path, the request's headers) -> headers to add (none: not allowed).
CrossOriginHeaders = Callable[[str, str, Mapping[str, str]], Awaitable[Mapping[str, str]]]


class RequestTimeout(BadRequest):
    """Your socket connection to the server was not read from or written to within the timeout period."""

    code = "RequestTimeout"


class SlowDown(AltoError):
    """Please reduce your request rate."""

    code = "SlowDown"
    status = 503


class ServiceUnavailable(AltoError):
    """The service is unable to handle the request now."""

    code = "ServiceUnavailable"
    status = 503


class ServiceAdapter(Protocol):
    """One AWS service behind the gateway: how its requests are told apart (service_rules), routed and run."""

    service: str
    protocol: str
    signing_name: str
    target_prefix: str | None

    def route(self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> RouteMatch:
        """The operation the request names; UnknownOperation or MethodNotAllowed if none."""
        ...

    def body_limit(self, operation: str, headers: Mapping[str, str]) -> BodyLimit:
        """The most bytes the operation's request body may hold."""
        ...

    async def handle(self, call: Call) -> Response:
        """Run the operation."""
        ...


class HttpHandler(Protocol):
    """Takes whole the requests under its path prefix that are not AWS API calls (functions' routes under /api/,
    the console, edge): which requests are its own is a rule in service_rules, like the services'."""

    path_prefix: str
    signing_names: frozenset[str | None]

    async def handle(self, request: Request, http: sigv4.HttpRequest, request_id: str) -> Response:
        """Answer the request, errors included."""
        ...


def is_read_operation(operation: str) -> bool:
    """Whether a read-only key may call this operation."""
    return operation.startswith(READ_OPERATION_PREFIXES)


class Gateway:
    """Routes each request to its service and operation, checks its signature and role, serializes errors.

    Requests are counted while they run: past max_in_flight, a request is answered at once with the protocol's
    "slow down" error (503, which botocore retries after a pause). A handler waiting for the next piece of a
    request body waits at most body_timeout seconds, as S3's RequestTimeout does.
    """

    def __init__(
        self,
        adapters: Sequence[ServiceAdapter],
        *,
        verifier: sigv4.Verifier | None,
        clock: Clock,
        http_handlers: Sequence[HttpHandler] = (),
        max_in_flight: int = 128,
        body_timeout: float = 60.0,
        channel_principal: Callable[[str], str | None] | None = None,
        s3_access: S3Access | None = None,
        cross_origin: CrossOriginHeaders | None = None,
    ) -> None:
        if not adapters:
            raise ValueError("the gateway needs at least one service adapter")
        self._channel_principal = channel_principal
        self._s3_access = s3_access
        self._cross_origin = cross_origin
        self._rules = ServiceRules(adapters, http_handlers)
        self._adapters = {adapter.service: adapter for adapter in adapters}
        self._verifier = verifier
        self._clock = clock
        self._max_in_flight = max_in_flight
        self._body_timeout = body_timeout
        self._in_flight = 0

    @property
    def services(self) -> list[str]:
        """The AWS services behind the gateway, by botocore name."""
        return self._rules.services

    def adapter_for(self, signing: str | None, target: str | None, raw_path: str) -> ServiceAdapter:
        """The service a request signed for `signing`, with that X-Amz-Target and path, goes to."""
        return self._adapters[self._rules.service(signing, target, raw_path).service]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        # One event loop runs every request, so a plain counter is exact.
        if self._in_flight >= self._max_in_flight:
            await self._busy(Request(scope), scope, receive, send)
            return
        self._in_flight += 1
        try:
            await self._serve(scope, receive, send)
        finally:
            self._in_flight -= 1

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        body_read = False
        timed = True

        async def receive_tracked() -> Message:
            nonlocal body_read
            if body_read or not timed:
                return await receive()
            try:
                async with asyncio.timeout(self._body_timeout):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(
                    f"Your socket connection to the server was not read from or written to within the timeout "
                    f"period: no byte of the request body came for {self._body_timeout:g} seconds"
                ) from None
            body_read = message["type"] == "http.disconnect" or not message.get("more_body", False)
            return message

        request = Request(scope, receive_tracked)
        response = await self._respond(request)
        timed = False
        if not body_read and _may_have_body(request.headers):
            # Answered before the body was read (an error, or Expect: 100-continue held it back): the unread
            # bytes would be parsed as the next request on this connection, so end the connection instead.
            response.headers["connection"] = "close"
        await response(scope, receive, send)

    async def _busy(self, request: Request, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        http = sigv4.HttpRequest(request.method, request.url.path, _raw_pairs(request.url.query), headers)
        protocol = _guess_protocol(headers, sigv4.signing_service(http))
        message = f"This server is already handling {self._max_in_flight} requests; retry after a pause"
        error = SlowDown(message) if protocol == "rest-xml" else ServiceUnavailable(message)
        rid = request_id()
        response = error_response(protocol, error, rid, resource=request.url.path, head=request.method == "HEAD")
        if _may_have_body(request.headers):
            response.headers["connection"] = "close"
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        rid = request_id()
        protocol = "rest-xml"
        head = request.method == "HEAD"
        service = ""
        try:
            if request.url.path == HEALTH_PATH:
                return JSONResponse({"status": "ok"})
            raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
            query_text = request.scope.get("query_string", b"").decode("latin-1")
            headers = {k.lower(): v for k, v in request.headers.items()}
            http = sigv4.HttpRequest(request.method, raw_path, _raw_pairs(query_text), headers)
            self._check_channel(request, http)
            signing = sigv4.signing_service(http)
            handler = self._rules.http_route(signing, raw_path)
            if handler is not None:
                return await cast(HttpHandler, handler).handle(request, http, rid)
            protocol = _guess_protocol(headers, signing)
            query = dict(parse_qsl(query_text, keep_blank_values=True))
            adapter = self.adapter_for(signing, headers.get("x-amz-target"), raw_path)
            protocol, service = adapter.protocol, adapter.service
            match = adapter.route(request.method, raw_path, query, headers)
            call = await self._call(request, rid, http, adapter, match, query)
            response = await adapter.handle(call)
        except AltoError as error:
            response = error_response(protocol, error, rid, resource=request.url.path, head=head)
        except ClientDisconnect:
            # A client that goes away mid-body (a timeout, Ctrl+C) is routine: one line, no traceback.
            log.warning("client %s disconnected during %s %s", _client(request), request.method, request.url.path)
            gone = IncompleteBody("The client closed the connection before sending the whole request body")
            response = error_response(protocol, gone, rid, resource=request.url.path, head=head)
        except Exception:
            log.exception("internal error on %s %s", request.method, request.url.path)
            internal = AltoError("We encountered an internal error. Please try again.")
            response = error_response(protocol, internal, rid, resource=request.url.path, head=head)
        response.headers["x-amz-request-id"] = rid
        response.headers["x-amzn-RequestId"] = rid
        if service == "s3" and "origin" in request.headers and request.method != "OPTIONS":
            response.headers.update(await self._cors_headers(request))
        return response

    async def _cors_headers(self, request: Request) -> Mapping[str, str]:
        """The CORS headers of an S3 answer to a browser's request (errors included: the page may read why)."""
        if self._cross_origin is None:
            return {}
        try:
            return await self._cross_origin(request.method, request.url.path, request.headers)
        except Exception:
            log.exception("could not read the CORS rules for %s %s", request.method, request.url.path)
            return {}

    async def _call(
        self,
        request: Request,
        rid: str,
        http: sigv4.HttpRequest,
        adapter: ServiceAdapter,
        match: RouteMatch,
        query: Mapping[str, str],
    ) -> Call:
        """The authenticated call for the handler: credentials checked before the body is read, then the signature."""
        headers = http.headers
        limit = adapter.body_limit(match.operation, headers)
        s3 = adapter.service == "s3" and self._s3_access is not None and self._verifier is not None
        # An unsigned S3 request is the anonymous principal's, which only a bucket's ACL or policy lets in; a
        # request that carries credentials of any kind is held to them (a bad signature is never anonymous).
        anonymous = s3 and sigv4.scheme(http) is None and "authorization" not in headers
        # A browser's CORS preflight is never signed (a presigned URL's query it may carry signs another method):
        # the lake answers it from the bucket's CORS rules alone.
        preflight = adapter.service == "s3" and request.method == "OPTIONS"
        unsigned = anonymous or preflight
        checked = self._verifier.check(http, self._clock.now()) if self._verifier and not unsigned else None
        limit.check_length(match.operation, headers)
        preloaded = await _preload(request, match.operation, limit) if adapter.protocol != "rest-xml" else None
        verified = self._authenticate(checked, http, match, preloaded, roles_checked_later=s3)
        key = verified.key if verified else None
        allows: BodyAccess = lambda action, resource: True  # noqa: E731
        authorize_as: Callable[[AccessKey | None, RouteMatch, Mapping[str, str]], BodyAccess] | None = None
        if s3:
            access = self._s3_access
            assert access is not None
            secure = request.url.scheme == "https"
            allows = access(key, match, query, headers, source_ip=_client(request), secure=secure)

            def authorize(signer: AccessKey | None, named: RouteMatch, sent: Mapping[str, str]) -> BodyAccess:
                return access(signer, named, query, sent, source_ip=_client(request), secure=secure)

            authorize_as = authorize
        return Call(
            base_url=str(request.base_url),
            request_id=rid,
            operation=match.operation,
            path_params=match.path_params,
            query=query,
            headers=headers,
            body=Body(request.stream, headers, verified, limit, match.operation, preloaded),
            key=key,
            caller=Caller(
                key.access_key_id if key else "anonymous",
                _client(request),
                rid,
                # boto3 inside a function sends its invocation's trace id (chains of triggers are counted by it)
                headers.get("x-amzn-trace-id", ""),
                key.user_name if key else None,
            ),
            allows=allows,
            verifier=self._verifier,
            authorize_as=authorize_as,
            # https only as uvicorn saw it: from a TLS proxy named in trusted_proxies (cli/serve.py), never a client
            secure=request.url.scheme == "https",
        )

    def _check_channel(self, request: Request, http: sigv4.HttpRequest) -> None:
        """A request from a function's sandbox must be signed by that function's own key, if it is signed at all.

        The channel (the Unix socket the request came in on) says which sandbox sent it; the signature is still
        verified as for any request, so this only narrows who the sender may claim to be.
        """
        server = request.scope.get("server")
        if self._channel_principal is None or not server or server[1] is not None:
            return
        bound = self._channel_principal(str(server[0]))
        if bound is None:
            return
        claimed = sigv4.access_key_id(http)
        if claimed is not None and claimed != bound:
            raise AccessDenied(
                f"Access Denied: this request came from the sandbox of the function whose key is {bound or 'none'}; "
                f"it may not be signed with another key ({claimed})"
            )

    def _authenticate(
        self,
        checked: sigv4.Credentialed | None,
        http: sigv4.HttpRequest,
        match: RouteMatch,
        preloaded: bytes | None,
        *,
        roles_checked_later: bool,
    ) -> sigv4.Verified | None:
        """The verified signature; the key's role checked here unless the S3 authorizer checks it later."""
        if self._verifier is None or checked is None:
            return None
        operation = match.operation
        body_sha = hashlib.sha256(preloaded).hexdigest() if preloaded is not None else None
        verified = self._verifier.verify_signature(checked, body_sha)
        if roles_checked_later:
            return verified
        if verified.key.role == Role.READ_ONLY and not is_read_operation(operation):
            raise AccessDenied(f"Access Denied: key {verified.key.access_key_id} is read-only and {operation} writes")
        if verified.key.role == Role.FUNCTION and not function_may_call(sigv4.signing_service(http), operation):
            raise AccessDenied(
                f"Access Denied: key {verified.key.access_key_id} belongs to a function, which may read and write "
                f"objects in the lake but not call {operation}"
            )
        return verified


async def _preload(request: Request, operation: str, limit: BodyLimit) -> bytes:
    """The whole body of a request to a service other than S3, refused past its operation's limit.

    Only S3 streams bodies (signed by the x-amz-content-sha256 header); other services' bodies are documents
    whose hash must be known before the signature can be checked.
    """
    return await read_at_most(request.stream(), limit.max_bytes, lambda: limit.refuse(operation))


def _raw_pairs(query_text: str) -> list[tuple[str, str]]:
    pairs = []
    for item in query_text.split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((name, value))
    return pairs


def _guess_protocol(headers: Mapping[str, str], signing: str | None) -> str:
    # A request signed for S3 gets S3's XML errors even if it carries a stray X-Amz-Target header.
    if signing != "s3" and "x-amz-target" in headers:
        return "json"
    return "rest-xml" if signing in (None, "s3") else "rest-json"


def _may_have_body(headers: Mapping[str, str]) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


def _client(request: Request) -> str:
    return request.client.host if request.client else "127.0.0.1"


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message: dict[str, Any] = dict(await receive())
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
