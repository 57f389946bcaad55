"""Fixtures for tests that drive a real server with real boto3."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.principals import new_user, user_client
from tests.live_server import LiveServer, live_server

_names = itertools.count()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One `alto serve` for the API tests of this session."""
    # Customer keys (SSE-C) come over plain HTTP here, as S3 would refuse them: the tests talk to 127.0.0.1.
    env = {"ALTO_LAKE_SSE_C_OVER_HTTP": "true"}
    with live_server(Path(tmp_path_factory.mktemp("alto")) / "data", env=env) as running:
        yield running


@pytest.fixture
def s3(server: LiveServer) -> Any:
    """A boto3 S3 client signed with the server's admin key."""
    return server.client("s3")


@pytest.fixture
def bucket(s3: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket for one test."""
    name = f"t{next(_names)}-{request.node.name.lower()}"[:63]
    name = "".join(c if c.isascii() and c.isalnum() else "-" for c in name).rstrip("-")
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One plain HTTP client for raw requests (making a client per request costs about 80 ms)."""
    with httpx.Client(timeout=30) as client:
        yield client


# Three users of the lake, each with an admin key of their own and a boto3 client signed with it (a module's worth).
@pytest.fixture(scope="module")
def ada(server: LiveServer) -> tuple[dict[str, str], Any]:
    user = new_user(server, "ada")
    return user, user_client(server, user)


@pytest.fixture(scope="module")
def bob(server: LiveServer) -> tuple[dict[str, str], Any]:
    user = new_user(server, "bob")
    return user, user_client(server, user)


@pytest.fixture(scope="module")
def carol(server: LiveServer) -> tuple[dict[str, str], Any]:
    user = new_user(server, "carol")
    return user, user_client(server, user)
