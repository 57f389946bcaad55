"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# awscrt is installed (the lake's CRC32C and CRC64NVME come from it), and botocore then signs S3 requests with the
# CRT's signer, which ignores the clocks the signing tests set. The suite drives boto3 as `pip install boto3`
# installs it; tests/api/test_s3_crt.py drives it with the CRT in a process of its own.
os.environ.setdefault("BOTO_DISABLE_CRT", "true")

from tests.servers import S3Server, postgres_database, postgres_server, seaweedfs_server

# ---- real servers and databases (tests/servers.py) -------------------------------------------------
# seaweedfs: one S3 server for the session; postgres_url: one PostgreSQL cluster for the session;
# database_url: a fresh, empty database for each test, once on SQLite and once on PostgreSQL.


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A SeaweedFS S3 server on 127.0.0.1: `.endpoint_url`, `.access_key`, `.secret_key`, `.client()`."""
    with seaweedfs_server(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The `postgresql+psycopg://` URL of the session's throwaway PostgreSQL server."""
    with postgres_server(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'metadata.db'}"
        return
    with postgres_database(request.getfixturevalue("postgres_url")) as url:
        yield url
