"""What several commands share: the --data-dir and --json options, settings, the local credentials file."""

from __future__ import annotations

import configparser
import dataclasses
import functools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from altostratus.cli.output import CommandFailed
from altostratus.core.settings import Settings
from altostratus.storage.data_dir import secure_data_dir
from altostratus.storage.metadata import MetadataStore

CREDENTIALS_FILE = "credentials"

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the platform keeps its data [env ALTO_DATA_DIR; default $XDG_DATA_HOME/altostratus].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table.")

if TYPE_CHECKING:  # the composition root is imported only by the commands that need it
    from altostratus.app import Platform


@dataclasses.dataclass(frozen=True)
class LocalCredentials:
    """The key pair in a data directory's AWS shared-credentials file."""

    path: Path
    access_key_id: str
    secret_access_key: str


def load_settings(**overrides: Any) -> Settings:
    """Settings from alto.toml and ALTO_* variables, with the command's flags (None: not given) on top."""
    return Settings.load(os.environ, **overrides)


def private_data_dir(settings: Settings) -> None:
    """Make or check the data directory before using it (storage/data_dir.py); say on stderr what was tightened.

    UnsafeDataDir (the command fails) when another user can change it.
    """
    tightened = secure_data_dir(settings.data_dir)
    if tightened is not None:
        click.echo(f"alto: {tightened.note()}", err=True)


@contextmanager
def open_metadata(data_dir: Path | None) -> Iterator[MetadataStore]:
    """The data directory's metadata store, migrated to the newest schema, closed after the block."""
    settings = load_settings(data_dir=data_dir)
    private_data_dir(settings)
    store = MetadataStore(settings.resolved_database_url)
    try:
        store.migrate()
        yield store
    finally:
        store.close()


@contextmanager
def open_platform(data_dir: Path | None) -> Iterator[Platform]:
    """The data directory's platform as a command uses it beside a running server: built by the same wiring
    functions as the server's, in Mode.TOOL (nothing cleaned up, started, bound or leased), closed after."""
    from altostratus.app import open_platform as open_for_command  # the composition root; imported only when needed

    settings = load_settings(data_dir=data_dir)
    private_data_dir(settings)
    with open_for_command(settings) as platform:
        yield platform


def credentials_path(settings: Settings) -> Path:
    """The credentials file `alto serve` writes on first start."""
    return settings.data_dir / CREDENTIALS_FILE


def read_credentials_file(path: Path) -> LocalCredentials | None:
    """The [default] profile's key pair from an AWS shared-credentials file; None if there is none."""
    parser = configparser.ConfigParser()
    try:
        if not parser.read(path):
            return None
    except configparser.Error:
        return None
    key_id = parser.get("default", "aws_access_key_id", fallback="")
    secret = parser.get("default", "aws_secret_access_key", fallback="")
    if not key_id or not secret:
        return None
    return LocalCredentials(path, key_id, secret)


# When one of these is set, boto3 finds credentials its usual way; otherwise the data directory's file is used.
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE")


def client_kwargs(environ: Mapping[str, str], credentials_file: Path) -> dict[str, str]:
    """Credentials for boto3: {} when the AWS variables choose them, else the data directory's file."""
    if any(environ.get(name) for name in AWS_CREDENTIAL_VARIABLES):
        return {}
    found = read_credentials_file(credentials_file)
    if found is None:
        raise CommandFailed(
            f"no credentials: {credentials_file} has none and AWS_ACCESS_KEY_ID is not set; "
            "run `alto serve` once to create it, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "to a key from `alto keys create`"
        )
    return {"aws_access_key_id": found.access_key_id, "aws_secret_access_key": found.secret_access_key}


endpoint_url_option = click.option(
    "--endpoint-url",
    default=None,
    help="The server's URL [default: the one ALTO_HOST, ALTO_PORT, ALTO_PUBLIC_URL describe].",
)


def service_client(
    service: str, endpoint_url: str | None, data_dir: Path | None, *, retries: int | None = None, **config: Any
) -> Any:
    """A boto3 client of `service` for the server at endpoint_url (default: the one the settings describe).

    retries caps boto3's attempts (None: its standard default); config goes to botocore's Config.
    """
    import boto3
    from botocore.config import Config

    settings = load_settings(data_dir=data_dir)
    session = boto3.session.Session(
        region_name=settings.region, **client_kwargs(os.environ, credentials_path(settings))
    )
    attempts = {} if retries is None else {"max_attempts": retries}
    built = Config(retries={"mode": "standard", **attempts}, **config)
    return session.client(service, endpoint_url=endpoint_url or settings.endpoint_url, config=built)


def with_clients(
    build: Callable[[str | None, Path | None], tuple[Any, ...]],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator adding --endpoint-url and --data-dir to a command and passing it build(endpoint, data dir)."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        @endpoint_url_option
        @data_dir_option
        @functools.wraps(command)
        def wrapper(*args: Any, endpoint_url: str | None, data_dir: Path | None, **kwargs: Any) -> None:
            command(*build(endpoint_url, data_dir), *args, **kwargs)

        return wrapper

    return decorate


def with_service_client(service: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A decorator handing a command one `service` client (see with_clients)."""
    return with_clients(lambda endpoint_url, data_dir: (service_client(service, endpoint_url, data_dir),))
