"""`alto functions access`: what a function's own key may reach besides its triggers' buckets, as a policy.

A function's key reaches the buckets that trigger it and its dead-letter location (functions/access.py). Its
access policy, an IAM-style document, widens that (Allow) or narrows it (Deny), e.g.:

    alto functions access set cleaner '{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject",
        "s3:ListBucket"], "Resource": ["arn:aws:s3:::reference", "arn:aws:s3:::reference/*"]}]}'

Like `alto routes`, these commands act on the data directory's metadata store directly (they change what a
key may do, so they are for whoever owns the data directory); a running server applies a change within a
couple of seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from altostratus.auth import policy
from altostratus.cli.options import data_dir_option, json_option, open_metadata
from altostratus.cli.output import print_json
from altostratus.functions.names import parse_ref
from altostratus.functions.registry import FunctionRegistry


@click.group("access")
def access() -> None:
    """What a function's own key may reach besides its triggers' buckets (an IAM-style policy)."""


@access.command("set")
@click.argument("name")
@click.argument("document", required=False)
@click.option(
    "--file", "path", type=click.Path(dir_okay=False, exists=True, path_type=Path), help="Read it from a file."
)
@data_dir_option
@json_option
def set_access(name: str, document: str | None, path: Path | None, data_dir: Path | None, as_json: bool) -> None:
    """Give function NAME the policy DOCUMENT (JSON), replacing the one it had."""
    if (document is None) == (path is None):
        raise click.UsageError("give the policy as DOCUMENT or with --file, not both")
    text = path.read_text() if path is not None else str(document)
    policy.parse(text)  # refused here, naming what is wrong, rather than when a request needs it
    parsed: dict[str, Any] = json.loads(text)
    function = parse_ref(name, qualified=False).name
    with open_metadata(data_dir) as store:
        FunctionRegistry(store).set_access_policy(function, parsed)
    _show(function, parsed, as_json)


@access.command("show")
@click.argument("name")
@data_dir_option
@json_option
def show_access(name: str, data_dir: Path | None, as_json: bool) -> None:
    """Print function NAME's access policy."""
    function = parse_ref(name, qualified=False).name
    with open_metadata(data_dir) as store:
        found = FunctionRegistry(store).access_policy(function)
    _show(function, found, as_json)


@access.command("clear")
@click.argument("name")
@data_dir_option
@json_option
def clear_access(name: str, data_dir: Path | None, as_json: bool) -> None:
    """Remove function NAME's access policy: its key reaches its triggers' buckets and dead letters only."""
    function = parse_ref(name, qualified=False).name
    with open_metadata(data_dir) as store:
        FunctionRegistry(store).set_access_policy(function, None)
    _show(function, None, as_json)


def _show(name: str, document: Any, as_json: bool) -> None:
    if as_json:
        print_json({"FunctionName": name, "Policy": document})
    elif document is None:
        click.echo(f"{name}: no access policy (its key reaches its triggers' buckets and dead-letter location)")
    else:
        click.echo(json.dumps(document, indent=2))
