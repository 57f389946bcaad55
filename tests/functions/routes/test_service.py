"""RoutesService: the cached table, rate limits, and how a call's outcome becomes an answer or an error."""

from __future__ import annotations

import pytest

from altostratus.functions.errors import FunctionNotFound, PayloadTooLarge
from altostratus.functions.routes import (
    MAX_BODY_BYTES,
    BodyTooLarge,
    IntegrationFailed,
    ProxyRequest,
    RateLimiter,
    RoutesService,
    RouteStore,
    Throttled,
)
from tests.functions.routes.conftest import FakeInvoke, HandClock

REQUEST = ProxyRequest("GET", "/items/7", "q=1", [("Host", "h")], b"", "127.0.0.1")


def test_new_routes_are_seen_once_the_cache_expires(
    service: RoutesService, sqlite_store: RouteStore, clock: HandClock
) -> None:
    assert service.table().routes == []
    sqlite_store.add("GET", "/items/{id}", function="items")

    assert service.table().routes == []
    clock.seconds += 1.0
    assert [r.key for r in service.table().routes] == ["GET /items/{id}"]


def test_call_invokes_the_target_with_the_event(
    service: RoutesService, sqlite_store: RouteStore, invoke: FakeInvoke
) -> None:
    sqlite_store.add("GET", "/items/{id}", function="items", qualifier="live")

    answer = service.call(service.table().match("GET", "/items/7"), REQUEST, "req-9")

    ((name, qualifier, event),) = invoke.calls
    assert (name, qualifier) == ("items", "live")
    assert event["pathParameters"] == {"id": "7"}
    assert event["requestContext"]["requestId"] == "req-9"
    assert (answer.status, answer.body) == (200, b"ok")


def test_a_function_error_is_a_500_naming_the_error(
    service: RoutesService, sqlite_store: RouteStore, invoke: FakeInvoke
) -> None:
    sqlite_store.add("GET", "/items/{id}", function="items")
    invoke.payload, invoke.function_error = b'{"errorMessage": "boom", "errorType": "ValueError"}', "Unhandled"

    with pytest.raises(IntegrationFailed, match="ValueError: boom") as caught:
        service.call(service.table().match("GET", "/items/7"), REQUEST, "r")
    assert caught.value.public_message == "Internal Server Error"


def test_a_missing_function_is_a_500(service: RoutesService, sqlite_store: RouteStore, invoke: FakeInvoke) -> None:
    sqlite_store.add("GET", "/items/{id}", function="items")
    invoke.raises = FunctionNotFound("Function not found: items")

    with pytest.raises(IntegrationFailed, match="ResourceNotFoundException") as caught:
        service.call(service.table().match("GET", "/items/7"), REQUEST, "r")
    assert caught.value.status == 500


def test_an_event_over_lambdas_limit_is_a_413(
    service: RoutesService, sqlite_store: RouteStore, invoke: FakeInvoke
) -> None:
    sqlite_store.add("GET", "/items/{id}", function="items")
    invoke.raises = PayloadTooLarge("too big")

    with pytest.raises(BodyTooLarge) as caught:
        service.call(service.table().match("GET", "/items/7"), REQUEST, "r")
    assert caught.value.status == 413


def test_a_body_over_10_mb_is_refused_before_invoking(
    service: RoutesService, sqlite_store: RouteStore, invoke: FakeInvoke
) -> None:
    sqlite_store.add("GET", "/items/{id}", function="items")
    big = ProxyRequest("GET", "/items/7", "", [], b"x" * (MAX_BODY_BYTES + 1), "127.0.0.1")

    with pytest.raises(BodyTooLarge):
        service.call(service.table().match("GET", "/items/7"), big, "r")
    assert invoke.calls == []


def test_rate_limit_allows_a_burst_then_the_rate(
    service: RoutesService, sqlite_store: RouteStore, clock: HandClock
) -> None:
    key = sqlite_store.create_key("k", rate=2, burst=3).key

    for _ in range(3):
        service.admit(key)
    with pytest.raises(Throttled, match="2 requests a second with bursts of 3") as caught:
        service.admit(key)
    assert caught.value.status == 429
    clock.seconds += 0.5
    service.admit(key)
    with pytest.raises(Throttled):
        service.admit(key)


def test_a_key_without_limits_is_never_throttled(service: RoutesService, sqlite_store: RouteStore) -> None:
    key = sqlite_store.create_key("k").key

    for _ in range(1000):
        service.admit(key)


def test_buckets_refill_up_to_the_burst_only() -> None:
    clock = HandClock()
    limiter = RateLimiter(clock)

    assert limiter.allow("k", 10, 2)
    clock.seconds += 100
    assert [limiter.allow("k", 10, 2) for _ in range(3)] == [True, True, False]
