"""`alto routes` against the metadata store of a data directory under tmp_path."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from altostratus.cli.main import cli


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory, with no alto.toml or ALTO_* variable from the machine leaking in."""
    for name in [n for n in os.environ if n.startswith("ALTO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ALTO_CONFIG", str(tmp_path / "absent.toml"))
    return tmp_path / "data"


def alto(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["routes", *args, "--data-dir", str(data_dir)])


def ok(data_dir: Path, *args: str) -> Result:
    result = alto(data_dir, *args)
    assert result.exit_code == 0, result.output
    return result


def as_json(data_dir: Path, *args: str) -> Any:
    return json.loads(ok(data_dir, *args, "--json").stdout)


def test_add_in_the_documented_form_then_list_and_delete(data_dir: Path) -> None:
    added = ok(data_dir, "add", "POST", "/bookings", "--function", "book")

    assert "Added POST /bookings -> book (API key or signature): http://127.0.0.1:8340/api/bookings" in added.stdout
    assert "no function 'book' is deployed yet" in added.stderr
    ok(data_dir, "add", "get", "/bookings/{id}", "--function", "book", "--qualifier", "live", "--public")
    listed = as_json(data_dir, "list")["Routes"]
    assert [(r["RouteKey"], r["FunctionName"], r["Qualifier"], r["Public"]) for r in listed] == [
        ("POST /bookings", "book", None, False),
        ("GET /bookings/{id}", "book", "live", True),
    ]
    table = ok(data_dir, "list").stdout.splitlines()
    assert table[0].split() == ["Method", "Path", "Function", "Access", "Created"]
    assert table[2].split()[:4] == ["GET", "/bookings/{id}", "book:live", "public"]

    assert "Deleted route POST /bookings." in ok(data_dir, "delete", "post", "/bookings").stdout
    assert [r["RouteKey"] for r in as_json(data_dir, "list")["Routes"]] == ["GET /bookings/{id}"]


def test_add_json(data_dir: Path) -> None:
    route = as_json(data_dir, "add", "ANY", "/{proxy+}", "--function", "web", "--public")

    assert route["RouteKey"] == "ANY /{proxy+}"
    assert route["Public"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "GET", "bookings", "--function", "f"], "alto: BadRequestException: path='bookings'"),
        (["add", "GET", "/a/{p+}/b", "--function", "f"], "greedy parameter"),
        (["add", "GET", "/a", "--function", "no such!"], "alto: InvalidParameterValueException: FunctionName="),
        (["delete", "GET", "/nope"], "alto: NotFoundException: no route GET /nope"),
        (["keys", "delete", "nope"], "alto: NotFoundException: no API key 'nope'"),
        (["keys", "create", "--name", "k", "--burst", "3"], "burst=3 was given without a rate"),
    ],
)
def test_errors_are_one_line(data_dir: Path, args: list[str], message: str) -> None:
    result = alto(data_dir, *args)

    assert result.exit_code == 1
    assert message in result.stderr


def test_a_clashing_route_is_refused(data_dir: Path) -> None:
    ok(data_dir, "add", "GET", "/items/{id}", "--function", "f")

    result = alto(data_dir, "add", "GET", "/items/{key}", "--function", "g")

    assert result.exit_code == 1
    assert "GET /items/{id} exists already" in result.stderr


def test_an_unknown_method_names_the_allowed_ones(data_dir: Path) -> None:
    result = alto(data_dir, "add", "FETCH", "/a", "--function", "f")

    assert result.exit_code == 1
    assert "method='FETCH'; expected one of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'ANY']" in (
        result.stderr
    )


def test_keys_create_shows_the_value_once(data_dir: Path) -> None:
    created = as_json(data_dir, "keys", "create", "--name", "mobile", "--rate", "5", "--burst", "10")
    listed = as_json(data_dir, "keys", "list")["ApiKeys"]

    assert set(created) == {"Id", "Name", "Enabled", "RatePerSecond", "Burst", "CreatedAt", "Value"}
    assert (created["Name"], created["RatePerSecond"], created["Burst"], len(created["Value"])) == ("mobile", 5, 10, 40)
    assert listed == [{k: v for k, v in created.items() if k != "Value"}]
    table = ok(data_dir, "keys", "list").stdout
    assert created["Value"] not in table
    assert "5/s, burst 10" in table


def test_keys_create_as_table(data_dir: Path) -> None:
    out = ok(data_dir, "keys", "create", "--name", "ci").stdout

    assert "unlimited" in out
    assert "shown only now" in out


def test_keys_disable_enable_delete(data_dir: Path) -> None:
    key_id = as_json(data_dir, "keys", "create", "--name", "k")["Id"]

    ok(data_dir, "keys", "disable", key_id)
    assert as_json(data_dir, "keys", "list")["ApiKeys"][0]["Enabled"] is False
    ok(data_dir, "keys", "enable", key_id)
    assert as_json(data_dir, "keys", "list")["ApiKeys"][0]["Enabled"] is True
    assert f"Deleted API key {key_id}." in ok(data_dir, "keys", "delete", key_id).stdout
    assert "No API keys" in ok(data_dir, "keys", "list").stdout


def test_empty_list_says_how_to_add(data_dir: Path) -> None:
    assert "alto routes add" in ok(data_dir, "list").stdout
