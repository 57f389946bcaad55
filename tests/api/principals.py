"""Users and their keys made with `alto users create` and `alto keys create --user` against a running server,
and clients that sign as them or as nobody."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

from botocore import UNSIGNED

from tests.live_server import ALTO, LiveServer


def alto(server: LiveServer, *args: str) -> Any:
    """Run an `alto` command against the server's data directory with --json; its parsed output."""
    done = subprocess.run(
        [ALTO, *args, "--json", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def new_user(server: LiveServer, prefix: str = "user") -> dict[str, str]:
    """A fresh user: its UserName and UserId."""
    user: dict[str, str] = alto(server, "users", "create", f"{prefix}-{uuid.uuid4().hex[:8]}")
    return user


def user_client(server: LiveServer, user: dict[str, str], role: str = "admin", **config: Any) -> Any:
    """A boto3 S3 client signed with a new key of the user's, of this role."""
    key = alto(server, "keys", "create", "--user", user["UserName"], "--role", role)
    assert key["UserName"] == user["UserName"]
    return server.client("s3", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"], **config)


def key_id(client: Any) -> str:
    """The access key id a client signs with."""
    return str(client._request_signer._credentials.access_key)


def anonymous_client(server: LiveServer) -> Any:
    """A boto3 S3 client that signs nothing."""
    return server.client("s3", signature_version=UNSIGNED)
