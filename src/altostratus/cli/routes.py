"""`alto routes`: HTTP routes under /api/ to functions, and the API keys that call them.

API Gateway's management API is far larger than what routes need, so like `alto keys` these commands act on
the data directory's metadata store directly; a running server sees every change within a couple of seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from altostratus.cli.options import data_dir_option, json_option, load_settings, open_metadata
from altostratus.cli.output import format_time, print_json, print_table
from altostratus.core.clock import SystemClock
from altostratus.functions.definitions import LATEST
from altostratus.functions.registry import FunctionRegistry
from altostratus.functions.routes import ApiKey, Route, RouteStore


@click.group()
def routes() -> None:
    """Route HTTP requests under /api/ to functions, as API Gateway HTTP APIs do."""


@routes.group("keys")
def keys() -> None:
    """Create, list, disable and delete the API keys (x-api-key header) that call non-public routes."""


@contextmanager
def open_route_store(data_dir: Path | None) -> Iterator[RouteStore]:
    """The routes of the data directory's metadata store."""
    with open_metadata(data_dir) as store:
        yield RouteStore(store, SystemClock())


@routes.command("add")
@click.argument("method", metavar="METHOD")
@click.argument("path")
@click.option("--function", "function", required=True, help="The function to invoke: NAME, NAME:QUALIFIER or ARN.")
@click.option("--qualifier", default=None, help="A version or alias of the function.")
@click.option("--public", is_flag=True, help="Anyone may call it: no API key or signature needed.")
@data_dir_option
@json_option
def add_route(
    method: str, path: str, function: str, qualifier: str | None, public: bool, data_dir: Path | None, as_json: bool
) -> None:
    """Route METHOD /api/PATH to a function.

    METHOD is one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY; PATH may hold {name} parameters and a
    final greedy {name+}, e.g. `alto routes add GET '/bookings/{id}' --function book`.
    """
    with open_metadata(data_dir) as store:
        route = RouteStore(store, SystemClock()).add(
            method, path, function=function, qualifier=qualifier, public=public
        )
        deployed = FunctionRegistry(store).version(route.function_name, LATEST) is not None
    if as_json:
        print_json(_route_summary(route))
    else:
        where = _url(data_dir, route.path)
        click.echo(f"Added {route.key} -> {route.target} ({'public' if public else 'API key or signature'}): {where}")
    if not deployed:
        warning = f"warning: no function {route.function_name!r} is deployed yet; calls answer 500 until it is"
        click.echo(warning, err=True)


@routes.command("list")
@data_dir_option
@json_option
def list_routes(data_dir: Path | None, as_json: bool) -> None:
    """List the routes, by path then method."""
    with open_route_store(data_dir) as store:
        found = store.routes()
    if as_json:
        print_json({"Routes": [_route_summary(route) for route in found]})
        return
    if not found:
        click.echo("No routes; add one with `alto routes add POST /bookings --function NAME`.")
        return
    rows = [
        (r.method, r.path, r.target, "public" if r.public else "key or signature", format_time(r.created_at))
        for r in found
    ]
    print_table(rows, headers=("Method", "Path", "Function", "Access", "Created"))


@routes.command("delete")
@click.argument("method", metavar="METHOD")
@click.argument("path")
@data_dir_option
def delete_route(method: str, path: str, data_dir: Path | None) -> None:
    """Delete the route with this method and path."""
    with open_route_store(data_dir) as store:
        store.delete(method, path)
    click.echo(f"Deleted route {method.upper()} {path}.")


@keys.command("create")
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option("--rate", type=float, default=None, help="Requests a second the key may make [default: no limit].")
@click.option("--burst", type=int, default=None, help="Requests the key may make at once [default: the rate].")
@data_dir_option
@json_option
def create_key(name: str, rate: float | None, burst: int | None, data_dir: Path | None, as_json: bool) -> None:
    """Create an API key; its value is shown only this once."""
    with open_route_store(data_dir) as store:
        created = store.create_key(name, rate=rate, burst=burst)
    if as_json:
        print_json({**_key_summary(created.key), "Value": created.value})
        return
    print_table(
        [
            ("Id", created.key.key_id),
            ("Name", created.key.name),
            ("Value", created.value),
            ("Limit", _limit(created.key)),
        ]
    )
    click.echo("The value is shown only now: send it in the x-api-key header.")


@keys.command("list")
@data_dir_option
@json_option
def list_keys(data_dir: Path | None, as_json: bool) -> None:
    """List the API keys, oldest first (never their values)."""
    with open_route_store(data_dir) as store:
        found = store.api_keys()
    if as_json:
        print_json({"ApiKeys": [_key_summary(key) for key in found]})
        return
    if not found:
        click.echo("No API keys; create one with `alto routes keys create --name NAME`.")
        return
    rows = [
        (k.key_id, k.name, "enabled" if k.enabled else "disabled", _limit(k), format_time(k.created_at)) for k in found
    ]
    print_table(rows, headers=("Id", "Name", "State", "Limit", "Created"))


@keys.command("delete")
@click.argument("key_id")
@data_dir_option
def delete_key(key_id: str, data_dir: Path | None) -> None:
    """Delete an API key; calls with it are refused within seconds."""
    with open_route_store(data_dir) as store:
        store.delete_key(key_id)
    click.echo(f"Deleted API key {key_id}.")


@keys.command("disable")
@click.argument("key_id")
@data_dir_option
def disable_key(key_id: str, data_dir: Path | None) -> None:
    """Refuse calls with this key (403) until it is enabled again."""
    with open_route_store(data_dir) as store:
        store.set_key_enabled(key_id, False)
    click.echo(f"Disabled API key {key_id}.")


@keys.command("enable")
@click.argument("key_id")
@data_dir_option
def enable_key(key_id: str, data_dir: Path | None) -> None:
    """Accept calls with this key again."""
    with open_route_store(data_dir) as store:
        store.set_key_enabled(key_id, True)
    click.echo(f"Enabled API key {key_id}.")


def _url(data_dir: Path | None, path: str) -> str:
    return load_settings(data_dir=data_dir).endpoint_url + "/api" + path


def _limit(key: ApiKey) -> str:
    if key.rate_per_second is None:
        return "unlimited"
    return f"{key.rate_per_second:g}/s, burst {key.burst}"


def _route_summary(route: Route) -> dict[str, object]:
    return {
        "Method": route.method,
        "Path": route.path,
        "RouteKey": route.key,
        "FunctionName": route.function_name,
        "Qualifier": route.qualifier,
        "Public": route.public,
        "CreatedAt": route.created_at,
    }


def _key_summary(key: ApiKey) -> dict[str, object]:
    return {
        "Id": key.key_id,
        "Name": key.name,
        "Enabled": key.enabled,
        "RatePerSecond": key.rate_per_second,
        "Burst": key.burst,
        "CreatedAt": key.created_at,
    }
