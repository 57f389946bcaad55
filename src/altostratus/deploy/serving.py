"""Invoking an endpoint: pick the variant, run its model on the body, answer, copy the request to shadows.

An endpoint's routes and loaded models are cached in memory and checked against the endpoint's version
in the metadata store at most once per `refresh_seconds`, so a request costs no database read; a change
made by this process or another one is served within that time. Shadow variants get a copy of every
request on a background thread after the answer is ready: their predictions are recorded, never returned,
and a slow or failing shadow never delays or fails the caller.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from typing import Protocol

from altostratus.core.clock import Clock
from altostratus.core.errors import AltoError
from altostratus.deploy.endpoints import EndpointService
from altostratus.deploy.errors import DoesNotExist, InvalidValue
from altostratus.deploy.runners import ModelRunner
from altostratus.deploy.variants import Routes

log = logging.getLogger(__name__)
REFRESH_SECONDS = 1.0
SHADOW_QUEUE = 10_000
SESSION_LIFETIME = dt.timedelta(minutes=20)
NEW_SESSION = "NEW_SESSION"
ACCOUNT = "000000000000"


class ModelFailed(AltoError):
    """The variant's model could not answer the request."""

    code = "ModelError"
    status = 424


class Recorder(Protocol):
    """Where each answered (or failed) request is counted."""

    def record(
        self,
        endpoint: str,
        variant: str,
        *,
        shadow: bool,
        inference_id: str,
        outcomes: list[str | float] | None,
        latency_ms: float,
    ) -> None:
        """Count one request of a variant: its predictions' labels or values (None: it failed) and latency."""
        ...


@dataclasses.dataclass(frozen=True)
class InvocationRequest:
    """One request to an endpoint, as the caller sent it."""

    endpoint: str
    body: bytes
    inference_id: str
    content_type: str | None = None
    accept: str | None = None
    target_variant: str | None = None
    session_id: str | None = None
    custom_attributes: str | None = None


@dataclasses.dataclass(frozen=True)
class Invocation:
    """The answer: body and its type, the variant that answered, and session and custom attributes."""

    body: bytes
    content_type: str
    variant: str
    custom_attributes: str | None = None
    new_session: str | None = None


@dataclasses.dataclass
class _Live:
    """An endpoint as this process serves it: routes and models of one version, fresh until a moment."""

    version: int
    routes: Routes
    models: dict[str, ModelRunner]
    fresh_until: float


@dataclasses.dataclass(frozen=True)
class _ShadowCopy:
    endpoint: str
    variant: str
    model: ModelRunner
    body: bytes
    content_type: str | None
    accept: str | None
    inference_id: str


class EndpointRuntime:
    """Serves invocations of every endpoint from cached routes and models."""

    def __init__(
        self,
        endpoints: EndpointService,
        recorder: Recorder,
        clock: Clock,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        draw: Callable[[], float] = random.random,
        shadow_queue: int = SHADOW_QUEUE,
    ) -> None:
        self._endpoints = endpoints
        self._recorder = recorder
        self._clock = clock
        self._refresh = refresh_seconds
        self._draw = draw
        self._live: dict[str, _Live] = {}
        self._shadows: queue.Queue[_ShadowCopy | None] = queue.Queue(shadow_queue)
        self.shadows_dropped = 0
        self._shadow_thread = threading.Thread(target=self._run_shadows, name="alto-shadow-variants", daemon=True)
        self._shadow_thread.start()
        endpoints.subscribe(self.forget)

    def invoke(self, request: InvocationRequest) -> Invocation:
        """The answer of the variant the request is routed to (ModelFailed if its model fails)."""
        live = self._serving(request.endpoint)
        session, new_session = self._session(request.session_id)
        variant = live.routes.pick(target=request.target_variant, session=session, draw=self._draw)
        model = live.models[variant]
        formats = model.formats(request.content_type, request.accept)
        started = time.perf_counter()
        try:
            answer = model.answer(request.body, formats)
        except Exception as error:
            latency = (time.perf_counter() - started) * 1000
            self._recorder.record(
                request.endpoint,
                variant,
                shadow=False,
                inference_id=request.inference_id,
                outcomes=None,
                latency_ms=latency,
            )
            raise _model_failed(variant, error) from error
        latency = (time.perf_counter() - started) * 1000
        self._recorder.record(
            request.endpoint,
            variant,
            shadow=False,
            inference_id=request.inference_id,
            outcomes=answer.outcomes,
            latency_ms=latency,
        )
        for shadow in live.routes.shadows:
            self._copy_to_shadow(
                _ShadowCopy(
                    request.endpoint,
                    shadow,
                    live.models[shadow],
                    request.body,
                    request.content_type,
                    request.accept,
                    request.inference_id,
                )
            )
        return Invocation(answer.body, answer.content_type, variant, request.custom_attributes, new_session)

    def forget(self, endpoint: str) -> None:
        """Drop the cached routes (the next request reads the endpoint again)."""
        self._live.pop(endpoint, None)

    def drain_shadows(self, timeout: float) -> bool:
        """Wait until every queued shadow copy has run; whether they all did within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._shadows.all_tasks_done:
            while self._shadows.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._shadows.all_tasks_done.wait(remaining)
        return True

    def close(self) -> None:
        """Stop the shadow thread once the copies queued so far have run."""
        self._shadows.put(None)
        self._shadow_thread.join(10)

    def _serving(self, name: str) -> _Live:
        now = time.monotonic()
        live = self._live.get(name)
        if live is not None and now < live.fresh_until:
            return live
        version = self._endpoints.endpoint_version(name)
        if version is None:
            self._live.pop(name, None)
            raise DoesNotExist(f"Endpoint {name} of account {ACCOUNT} not found.")
        if live is not None and live.version == version:
            live.fresh_until = now + self._refresh
            return live
        endpoint = self._endpoints.get_endpoint(name)
        if not endpoint.status.serves:
            self._live.pop(name, None)
            raise InvalidValue(
                f"Endpoint {name} is {endpoint.status.value}; it answers invocations once InService"
                + (f" ({endpoint.failure_reason})" if endpoint.failure_reason else "")
            )
        models = {v.name: self._endpoints.models.get(v.package_arn) for v in endpoint.variants}
        live = _Live(endpoint.version, Routes.of(name, endpoint.variants), models, now + self._refresh)
        self._live[name] = live
        return live

    def _session(self, session_id: str | None) -> tuple[str | None, str | None]:
        if session_id != NEW_SESSION:
            return session_id, None
        session = str(uuid.uuid4())
        expires = self._clock.now() + SESSION_LIFETIME
        return session, f"{session}; Expires={expires:%Y-%m-%dT%H:%M:%SZ}"

    def _copy_to_shadow(self, copy: _ShadowCopy) -> None:
        try:
            self._shadows.put_nowait(copy)
        except queue.Full:
            self.shadows_dropped += 1
            if self.shadows_dropped % 1000 == 1:
                log.warning("shadow variants fall behind: %d copies dropped so far", self.shadows_dropped)

    def _run_shadows(self) -> None:
        while True:
            copy = self._shadows.get()
            try:
                if copy is None:
                    return
                self._shadow(copy)
            finally:
                self._shadows.task_done()

    def _shadow(self, copy: _ShadowCopy) -> None:
        started = time.perf_counter()
        outcomes: list[str | float] | None
        try:
            outcomes = copy.model.answer(copy.body, copy.model.formats(copy.content_type, copy.accept)).outcomes
        except Exception:
            log.debug("shadow variant %s of %s failed", copy.variant, copy.endpoint, exc_info=True)
            outcomes = None
        self._recorder.record(
            copy.endpoint,
            copy.variant,
            shadow=True,
            inference_id=copy.inference_id,
            outcomes=outcomes,
            latency_ms=(time.perf_counter() - started) * 1000,
        )


def _model_failed(variant: str, error: Exception) -> ModelFailed:
    if isinstance(error, AltoError) and error.status < 500:
        return ModelFailed(
            f'Received client error ({error.status}) from variant {variant} with message "{error.message}"'
        )
    log.exception("the model of variant %s failed", variant)
    detail = error.message if isinstance(error, AltoError) else f"{type(error).__name__}: {error}"
    return ModelFailed(f'Received server error (500) from variant {variant} with message "{detail}"')
