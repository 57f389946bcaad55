"""`alto users`: the users access keys belong to, managed directly in the metadata store as keys are.

Deleting one opens the data directory's platform (built by the server's own wiring), so that it is refused while
the lake says the user owns buckets, as much as while it has keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from altostratus.auth.users import User, UserStore
from altostratus.cli.options import data_dir_option, json_option, open_metadata, open_platform
from altostratus.cli.output import format_time, print_json, print_table
from altostratus.core.clock import SystemClock


@click.group()
def users() -> None:
    """Create, list and delete users; give one keys with `alto keys create --user NAME`."""


@contextmanager
def open_user_store(data_dir: Path | None) -> Iterator[UserStore]:
    """The user store of the data directory's metadata store, migrated to the newest schema."""
    with open_metadata(data_dir) as store:
        yield UserStore(store, SystemClock())


@users.command("create")
@click.argument("name")
@data_dir_option
@json_option
def create_user(name: str, data_dir: Path | None, as_json: bool) -> None:
    """Create a user: 1 to 64 of A-Z a-z 0-9 + = , . @ _ -."""
    with open_user_store(data_dir) as store:
        user = store.create(name)
    if as_json:
        print_json(_summary(user))
        return
    print_table([("UserName", user.user_name), ("UserId", user.user_id)])
    click.echo(f"Give it an access key with `alto keys create --user {user.user_name}`.")


@users.command("list")
@data_dir_option
@json_option
def list_users(data_dir: Path | None, as_json: bool) -> None:
    """List users, by name."""
    with open_user_store(data_dir) as store:
        found = store.list()
    if as_json:
        print_json({"Users": [_summary(user) for user in found]})
        return
    if not found:
        click.echo("No users; create one with `alto users create NAME`.")
        return
    print_table(
        [(u.user_name, u.user_id, format_time(u.created_at)) for u in found], headers=("UserName", "UserId", "Created")
    )


@users.command("delete")
@click.argument("name")
@data_dir_option
def delete_user(name: str, data_dir: Path | None) -> None:
    """Delete a user; refused while it has access keys or owns buckets."""
    with open_platform(data_dir) as platform:
        platform.users.delete(name)
    click.echo(f"Deleted user {name}.")


def _summary(user: User) -> dict[str, object]:
    return {"UserName": user.user_name, "UserId": user.user_id, "CreatedAt": user.created_at}
