"""Route templates and API Gateway's precedence: exact path, then parameters, then greedy; a method, then ANY."""

from __future__ import annotations

import datetime as dt

import pytest

from altostratus.functions.routes import InvalidRoute, NoRoute, PathTemplate, Route, RouteTable

NOW = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)


def route(key: str) -> Route:
    method, path = key.split(" ", 1)
    return Route(method, path, "fn", None, public=True, created_at=NOW)


def table(*keys: str) -> RouteTable:
    return RouteTable([route(k) for k in keys], {})


def matched(t: RouteTable, method: str, path: str) -> tuple[str, dict[str, str]]:
    found = t.match(method, path)
    return found.route.key, found.path_parameters


@pytest.mark.parametrize(
    ("template", "path", "params"),
    [
        ("/bookings", "/bookings", {}),
        ("/bookings/{id}", "/bookings/42", {"id": "42"}),
        ("/bookings/{id}/guests/{guest}", "/bookings/7/guests/ann", {"id": "7", "guest": "ann"}),
        ("/files/{proxy+}", "/files/a/b/c.txt", {"proxy": "a/b/c.txt"}),
        ("/{proxy+}", "/anything/at/all", {"proxy": "anything/at/all"}),
        ("/", "/", {}),
        ("/bookings/{id}", "/bookings/a%20b", {"id": "a b"}),
        ("/bookings/{id}", "/bookings/a%2Fb", {"id": "a/b"}),
    ],
)
def test_template_matches_and_binds_parameters(template: str, path: str, params: dict[str, str]) -> None:
    assert PathTemplate.parse(template).match(path[1:].split("/") if path != "/" else []) == params


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/bookings", "/bookings/1"),
        ("/bookings/{id}", "/bookings"),
        ("/bookings/{id}", "/bookings/"),
        ("/bookings/{id}", "/bookings/1/2"),
        ("/files/{proxy+}", "/files"),
        ("/files/{proxy+}", "/files/"),
        ("/{proxy+}", "/"),
        ("/Bookings", "/bookings"),
    ],
)
def test_template_does_not_match(template: str, path: str) -> None:
    assert PathTemplate.parse(template).match(path[1:].split("/") if path != "/" else []) is None


@pytest.mark.parametrize(
    "path",
    ["bookings", "/bookings/", "//x", "/a/{proxy+}/b", "/a/{id}/{id}", "/a/{}", "/a/b{id}", "/a/{id", "/a b", ""],
)
def test_invalid_templates_name_the_problem(path: str) -> None:
    with pytest.raises(InvalidRoute, match="path="):
        PathTemplate.parse(path)


def test_shape_ignores_parameter_names() -> None:
    assert PathTemplate.parse("/b/{id}/x/{rest+}").shape == PathTemplate.parse("/b/{key}/x/{p+}").shape == "/b/{}/x/{+}"


def test_exact_path_beats_parameter_beats_greedy() -> None:
    t = table("GET /pets/{proxy+}", "GET /pets/dog/{id}", "GET /pets/dog/1", "ANY /{proxy+}")

    assert matched(t, "GET", "/pets/dog/1") == ("GET /pets/dog/1", {})
    assert matched(t, "GET", "/pets/dog/2") == ("GET /pets/dog/{id}", {"id": "2"})
    assert matched(t, "GET", "/pets/cat/2") == ("GET /pets/{proxy+}", {"proxy": "cat/2"})
    assert matched(t, "POST", "/pets/dog/1") == ("ANY /{proxy+}", {"proxy": "pets/dog/1"})


def test_specificity_is_compared_from_the_left() -> None:
    t = table("GET /a/{x}/c", "GET /a/b/{y}")

    assert matched(t, "GET", "/a/b/c") == ("GET /a/b/{y}", {"y": "c"})


def test_specific_method_beats_any_on_the_same_path() -> None:
    t = table("ANY /items/{id}", "GET /items/{id}")

    assert matched(t, "GET", "/items/1")[0] == "GET /items/{id}"
    assert matched(t, "DELETE", "/items/1")[0] == "ANY /items/{id}"


def test_path_specificity_comes_before_method() -> None:
    t = table("GET /items/{id}", "ANY /items/special")

    assert matched(t, "GET", "/items/special")[0] == "ANY /items/special"


def test_a_method_matches_only_its_own_routes() -> None:
    t = table("POST /bookings")

    with pytest.raises(NoRoute):
        t.match("GET", "/bookings")
    with pytest.raises(NoRoute):
        t.match("HEAD", "/bookings")


def test_no_route_for_an_unknown_path() -> None:
    with pytest.raises(NoRoute) as caught:
        table("GET /a").match("GET", "/b")
    assert caught.value.status == 404
    assert caught.value.public_message == "Not Found"
