"""`alto keys`: the access keys clients sign requests with, managed directly in the metadata store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from altostratus.auth.keys import AccessKey, KeyStore, Role, parse_role
from altostratus.cli.options import data_dir_option, json_option, open_metadata
from altostratus.cli.output import format_time, print_json, print_table
from altostratus.core.clock import SystemClock

ROLES = [role.value for role in Role]


@click.group()
def keys() -> None:
    """Create, list and delete access keys."""


@contextmanager
def open_key_store(data_dir: Path | None) -> Iterator[KeyStore]:
    """The key store of the data directory's metadata store, migrated to the newest schema."""
    with open_metadata(data_dir) as store:
        yield KeyStore(store, SystemClock())


@keys.command("create")
@click.option(
    "--role", type=click.Choice(ROLES), default=Role.ADMIN.value, show_default=True, help="What the key may do."
)
@click.option("--description", default="", help="A note on who or what uses the key.")
@click.option("--user", "user_name", default=None, help="The user the key belongs to [default: the account].")
@data_dir_option
@json_option
def create_key(role: str, description: str, user_name: str | None, data_dir: Path | None, as_json: bool) -> None:
    """Create an access key, the account's own or a user's; its secret is shown only this once."""
    with open_key_store(data_dir) as store:
        key = store.create(parse_role(role), description=description, user_name=user_name)
    owner = {"UserName": key.user_name} if key.user_name else {}
    if as_json:
        print_json(
            {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key, "Role": key.role, **owner}
        )
        return
    print_table(
        [
            ("AccessKeyId", key.access_key_id),
            ("SecretAccessKey", key.secret_access_key),
            ("Role", key.role.value),
            *owner.items(),
        ]
    )
    click.echo("The secret is shown only now: keep it, e.g. in an AWS shared-credentials file.")


@keys.command("list")
@data_dir_option
@json_option
def list_keys(data_dir: Path | None, as_json: bool) -> None:
    """List access keys, oldest first (never their secrets)."""
    with open_key_store(data_dir) as store:
        found = store.list()
    if as_json:
        print_json({"AccessKeys": [_key_summary(key) for key in found]})
        return
    if not found:
        click.echo("No access keys; create one with `alto keys create`.")
        return
    rows = [(k.access_key_id, k.role.value, k.user_name or "", format_time(k.created_at), k.description) for k in found]
    print_table(rows, headers=("AccessKeyId", "Role", "UserName", "Created", "Description"))


@keys.command("delete")
@click.argument("access_key_id")
@data_dir_option
def delete_key(access_key_id: str, data_dir: Path | None) -> None:
    """Delete an access key; requests signed with it fail within seconds."""
    with open_key_store(data_dir) as store:
        store.delete(access_key_id)
    click.echo(f"Deleted access key {access_key_id}.")


def _key_summary(key: AccessKey) -> dict[str, object]:
    return {
        "AccessKeyId": key.access_key_id,
        "Role": key.role.value,
        "UserName": key.user_name,
        "Description": key.description,
        "CreatedAt": key.created_at,
    }
