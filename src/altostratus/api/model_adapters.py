"""Adapters for json and rest-json services: requests parsed and responses built from botocore's models.

A service plugs in as a table of handlers, one per operation, each taking the operation's input as a dict
(exactly the shape boto3 documents) and returning its output dict. Handlers never see HTTP.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping
from typing import Any

from botocore import xform_name
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from altostratus.api.context import BodyLimit, Call
from altostratus.api.operations import RestRouter, RouteMatch, json_operation, service_model
from altostratus.api.shapes import ShapeCodec, decode_scalar
from altostratus.core import json_input
from altostratus.core.errors import (
    AltoError,
    MethodNotAllowed,
    NotImplementedOperation,
    UnknownOperation,
    ValidationError,
)

Handler = Callable[[dict[str, Any], Call], "dict[str, Any] | Awaitable[dict[str, Any]]"]
# Answers that end at their headers (RFC 9110 15.3.5, 15.4.5): bytes after them would be read as the next
# answer on the connection, and uvicorn drops the connection rather than send them.
BODILESS_STATUSES = frozenset({204, 304})
# An operation's body limit, or a function choosing it from the request's headers.
Limit = BodyLimit | Callable[[Mapping[str, str]], BodyLimit]
# The body of an operation that does not name its own limit. The documents of the json and rest-json operations
# served here are far smaller (Amazon ML's DataSchema and Recipe: 131,071 bytes; a model card: 100,000
# characters); operations that carry data (Lambda's Invoke and code, SageMaker's InvokeEndpoint) name theirs.
DEFAULT_BODY_BYTES = 1024 * 1024


def operation_handlers(api: object, service: str) -> dict[str, Callable[..., Any]]:
    """The methods of `api` that are operations of the service, by operation name (CreateFunction: create_function).

    An AWS service's handlers are one class whose methods are its operations, named as boto3 names them. Their
    signature is the protocol's (a json service's take the input and the call; S3's the call), so the caller's
    adapter names it.
    """
    operations = service_model(service)["operations"]
    found = {name: getattr(api, xform_name(name), None) for name in operations}
    return {name: method for name, method in found.items() if callable(method)}


class RequestEntityTooLarge(AltoError):
    """The request body is larger than the operation accepts."""

    code = "RequestEntityTooLargeException"
    status = 413


_DEFAULT_LIMIT = BodyLimit(DEFAULT_BODY_BYTES, RequestEntityTooLarge)


class SerializationError(ValidationError):
    """The request body is not a JSON object."""

    code = "SerializationException"


class _ModelAdapter:
    """What json and rest-json adapters share: the model, the codec and the handler table."""

    protocol = ""

    def __init__(
        self,
        service: str,
        handlers: Mapping[str, Handler],
        *,
        validation_error: type[AltoError] = ValidationError,
        body_limits: Mapping[str, Limit] | None = None,
        too_long: Mapping[str, type[AltoError]] | None = None,
        open_enums: Collection[str] = (),
    ) -> None:
        self.service = service
        self.model = service_model(service)
        metadata = self.model["metadata"]
        self.signing_name: str = metadata.get("signingName") or metadata["endpointPrefix"]
        self.target_prefix: str | None = metadata.get("targetPrefix")
        unknown = sorted((set(handlers) | set(body_limits or {})) - set(self.model["operations"]))
        if unknown:
            raise ValueError(f"{service} has no operations {unknown}")
        self._handlers = dict(handlers)
        self._body_limits = dict(body_limits or {})
        self.codec = ShapeCodec(self.model, validation_error, too_long=too_long, open_enums=open_enums)

    def body_limit(self, operation: str, headers: Mapping[str, str]) -> BodyLimit:
        """The operation's own limit, or DEFAULT_BODY_BYTES."""
        limit = self._body_limits.get(operation, _DEFAULT_LIMIT)
        return limit if isinstance(limit, BodyLimit) else limit(headers)

    async def _run(self, call: Call, params: dict[str, Any]) -> dict[str, Any]:
        handler = self._handlers.get(call.operation)
        if handler is None:
            raise NotImplementedOperation(f"{call.operation} is not implemented by this server")
        op = self.model["operations"][call.operation]
        if "input" in op:
            params = self.codec.decode(op["input"]["shape"], params, "")
        if inspect.iscoroutinefunction(handler):
            result = await handler(params, call)
        else:
            result = await run_in_threadpool(handler, params, call)
        assert isinstance(result, dict)
        return result


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json_input.loads(body)
    except json_input.JsonTooDeep as error:
        raise SerializationError(f"The request body is not valid JSON: {error}") from None
    except ValueError:
        raise SerializationError("The request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise SerializationError("The request body must be a JSON object")
    return value


class JsonAdapter(_ModelAdapter):
    """AWS json protocol: POST / with X-Amz-Target naming the operation, JSON in and out."""

    protocol = "json"

    def route(self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> RouteMatch:
        """The operation X-Amz-Target names."""
        target = headers.get("x-amz-target")
        if target is None:
            raise UnknownOperation("json protocol requests must name the operation in X-Amz-Target")
        operation = json_operation(target, self.model)
        if method != "POST":
            raise MethodNotAllowed(f"json protocol operations take POST, not {method}")
        return RouteMatch(operation, {})

    async def handle(self, call: Call) -> Response:
        """Decode the JSON body, run the handler, encode its output."""
        result = await self._run(call, _json_object(await call.body.read()))
        op = self.model["operations"][call.operation]
        body = self.codec.encode(op["output"]["shape"], result) if "output" in op else {}
        version = self.model["metadata"].get("jsonVersion", "1.1")
        return Response(json.dumps(body).encode(), 200, media_type=f"application/x-amz-json-{version}")


class RestJsonAdapter(_ModelAdapter):
    """AWS rest-json protocol: the operation named by method and URI; members in path, query, headers, body."""

    protocol = "rest-json"

    def __init__(self, service: str, handlers: Mapping[str, Handler], **kwargs: Any) -> None:
        super().__init__(service, handlers, **kwargs)
        self._router = RestRouter(self.model)

    def route(self, method: str, raw_path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> RouteMatch:
        """The operation whose requestUri matches."""
        return self._router.match(method, raw_path, query, headers)

    async def handle(self, call: Call) -> Response:
        """Gather the input from every location, run the handler, spread its output over status, headers, body."""
        op = self.model["operations"][call.operation]
        params = await self._params(call, op) if "input" in op else {}
        result = await self._run(call, params)
        status = int(op["http"].get("responseCode", 200))
        if "output" not in op:
            return Response(status_code=status)
        return self._response(self.codec.shape(op["output"]["shape"]), result, status)

    async def _params(self, call: Call, op: Mapping[str, Any]) -> dict[str, Any]:
        shape = self.codec.shape(op["input"]["shape"])
        payload = shape.get("payload")
        params: dict[str, Any] = {}
        body_members = {}
        for name, member in shape.get("members", {}).items():
            location, wire = member.get("location"), member.get("locationName", name)
            text = {"uri": call.path_params, "querystring": call.query, "header": call.headers}.get(location or "")
            if location == "header":
                wire = wire.lower()
            if text is not None:
                if wire in text:
                    params[name] = decode_scalar(self.codec, member["shape"], text[wire], name)
            elif location == "headers":
                prefix = wire.lower()
                params[name] = {k[len(prefix) :]: v for k, v in call.headers.items() if k.startswith(prefix)}
            elif name != payload:
                body_members[name] = member
        body = await call.body.read()
        if payload is not None:
            kind = self.codec.shape(shape["members"][payload]["shape"])["type"]
            if kind in ("blob", "string"):
                params[payload] = body if kind == "blob" else body.decode("utf-8", "replace")
            elif body.strip():
                params[payload] = _json_object(body)
        elif body_members:
            params.update({k: v for k, v in _json_object(body).items() if k in body_members})
        return params

    def _response(self, shape: Mapping[str, Any], result: Mapping[str, Any], status: int) -> Response:
        headers: dict[str, str] = {}
        body: dict[str, Any] = {}
        payload_name = shape.get("payload")
        for name, member in shape.get("members", {}).items():
            value = result.get(name)
            if value is None:
                continue
            location = member.get("location")
            if location == "statusCode":
                status = int(value)
            elif location == "header":
                headers[member.get("locationName", name)] = str(value)
            elif location == "headers":
                headers.update({member.get("locationName", "") + k: str(v) for k, v in value.items()})
            elif name != payload_name:
                body[name] = self.codec.encode(member["shape"], value)
        if status in BODILESS_STATUSES:
            # DeleteFunction (StatusCode 204) and Invoke with DryRun set the status through a member.
            return Response(status_code=status, headers=headers)
        if payload_name is None:
            return Response(json.dumps(body).encode(), status, headers, media_type="application/json")
        return _payload_response(self.codec, shape["members"][payload_name], result.get(payload_name), status, headers)


def _payload_response(
    codec: ShapeCodec, member: Mapping[str, Any], value: Any, status: int, headers: dict[str, str]
) -> Response:
    kind = codec.shape(member["shape"])["type"]
    media = headers.pop("Content-Type", None) or ("application/octet-stream" if kind == "blob" else "application/json")
    if value is None:
        return Response(b"", status, headers, media_type=media)
    if kind == "blob" and isinstance(value, Iterator):
        return StreamingResponse(value, status, headers, media_type=media)
    if kind == "blob":
        return Response(bytes(value), status, headers, media_type=media)
    if kind == "string":
        return Response(str(value).encode(), status, headers, media_type=media)
    return Response(json.dumps(codec.encode(member["shape"], value)).encode(), status, headers, media_type=media)
