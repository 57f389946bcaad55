"""Routes and API keys in the metadata store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from altostratus.core.errors import BadRequest
from altostratus.functions.routes import (
    ApiKeyNotFound,
    Forbidden,
    InvalidApiKey,
    InvalidRoute,
    RouteExists,
    RouteNotFound,
    RouteStore,
)


def test_add_list_delete(store: RouteStore) -> None:
    added = store.add("post", "/bookings", function="book")
    store.add("GET", "/bookings/{id}", function="book:live", public=True)

    listed = store.routes()

    assert added.key == "POST /bookings"
    assert [(r.key, r.target, r.public) for r in listed] == [
        ("POST /bookings", "book", False),
        ("GET /bookings/{id}", "book:live", True),
    ]
    store.delete("POST", "/bookings")
    assert [r.key for r in store.routes()] == ["GET /bookings/{id}"]


def test_function_arn_and_qualifier_option_are_understood(store: RouteStore) -> None:
    route = store.add("GET", "/a", function="arn:aws:lambda:us-east-1:000000000000:function:book:7")
    other = store.add("GET", "/b", function="book", qualifier="live")

    assert (route.function_name, route.qualifier) == ("book", "7")
    assert (other.function_name, other.qualifier) == ("book", "live")


def test_a_route_of_the_same_method_and_shape_is_refused(store: RouteStore) -> None:
    store.add("GET", "/bookings/{id}", function="book")

    with pytest.raises(RouteExists, match=r"GET /bookings/\{id\} exists already"):
        store.add("GET", "/bookings/{bookingId}", function="other")
    store.add("PUT", "/bookings/{bookingId}", function="other")


@pytest.mark.parametrize(
    ("method", "path", "function", "error"),
    [
        ("FETCH", "/a", "book", InvalidRoute),
        ("GET", "a", "book", InvalidRoute),
        ("GET", "/a", "bad name!", BadRequest),
    ],
)
def test_bad_routes_are_refused(
    sqlite_store: RouteStore, method: str, path: str, function: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        sqlite_store.add(method, path, function=function)


def test_deleting_a_missing_route_names_it(store: RouteStore) -> None:
    with pytest.raises(RouteNotFound, match="GET /nope"):
        store.delete("get", "/nope")


def test_key_value_is_stored_only_as_a_digest(store: RouteStore) -> None:
    created = store.create_key("mobile app", rate=5, burst=10)

    table = store.load()

    assert len(created.value) == 40
    assert table.api_key(created.value) == created.key
    assert [(k.key_id, k.name, k.rate_per_second, k.burst) for k in store.api_keys()] == [
        (created.key.key_id, "mobile app", 5.0, 10)
    ]
    with pytest.raises(Forbidden):
        table.api_key(created.value[:-1] + ("y" if created.value.endswith("x") else "x"))


def test_burst_defaults_to_the_rate_rounded_up(sqlite_store: RouteStore) -> None:
    assert sqlite_store.create_key("a", rate=2.5).key.burst == 3
    assert sqlite_store.create_key("b").key.rate_per_second is None


@pytest.mark.parametrize(
    ("rate", "burst", "complaint"), [(0, None, "rate=0"), (-1, None, "rate=-1"), (1, 0, "burst=0"), (None, 5, "burst")]
)
def test_bad_limits_are_refused(
    sqlite_store: RouteStore, rate: float | None, burst: int | None, complaint: str
) -> None:
    with pytest.raises(InvalidApiKey, match=complaint):
        sqlite_store.create_key("k", rate=rate, burst=burst)


def test_disabled_key_is_forbidden(store: RouteStore) -> None:
    created = store.create_key("k")

    store.set_key_enabled(created.key.key_id, False)

    with pytest.raises(Forbidden, match="disabled"):
        store.load().api_key(created.value)
    store.set_key_enabled(created.key.key_id, True)
    assert store.load().api_key(created.value).enabled


def test_deleting_keys(store: RouteStore) -> None:
    created = store.create_key("k")

    store.delete_key(created.key.key_id)

    assert store.api_keys() == []
    with pytest.raises(ApiKeyNotFound):
        store.delete_key(created.key.key_id)
    with pytest.raises(ApiKeyNotFound):
        store.set_key_enabled(created.key.key_id, True)
