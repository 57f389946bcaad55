"""What several commands share: the --data-dir and --json options, settings, the local credentials file."""

from __future__ import annotations

import configparser
import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from altostratus.core.settings import Settings
from altostratus.storage.metadata import MetadataStore

CREDENTIALS_FILE = "credentials"

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the platform keeps its data [env ALTO_DATA_DIR; default $XDG_DATA_HOME/altostratus].",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of a table.")


@dataclasses.dataclass(frozen=True)
class LocalCredentials:
    """The key pair in a data directory's AWS shared-credentials file."""

    path: Path
    access_key_id: str
    secret_access_key: str


def load_settings(**overrides: Any) -> Settings:
    """Settings from alto.toml and ALTO_* variables, with the command's flags (None: not given) on top."""
    return Settings.load(os.environ, **overrides)


@contextmanager
def open_metadata(data_dir: Path | None) -> Iterator[MetadataStore]:
    """The data directory's metadata store, migrated to the newest schema, closed after the block."""
    settings = load_settings(data_dir=data_dir)
    store = MetadataStore(settings.resolved_database_url)
    try:
        store.migrate()
        yield store
    finally:
        store.close()


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
