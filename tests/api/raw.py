"""Raw HTTP requests signed the way botocore signs them, for what boto3 will not send on its own."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

import httpx
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.live_server import LiveServer


class _DeclaredPayload(S3SigV4Auth):
    """botocore's S3 SigV4 signer, told which x-amz-content-sha256 to declare instead of hashing the body."""

    def __init__(self, credentials: Credentials, payload_hash: str) -> None:
        super().__init__(credentials, "s3", "us-east-1")
        self._payload_hash = payload_hash

    def payload(self, request: Any) -> str:
        return self._payload_hash


def signed_headers(
    method: str,
    url: str,
    *,
    access_key: str,
    secret_key: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    payload_hash: str | None = None,
) -> dict[str, str]:
    """The request's headers plus Authorization, X-Amz-Date and X-Amz-Content-SHA256 (SigV4 for S3).

    payload_hash, when given, is declared as x-amz-content-sha256 (UNSIGNED-PAYLOAD, STREAMING-..., a wrong hash).
    """
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    credentials = Credentials(access_key, secret_key)
    signer = (
        S3SigV4Auth(credentials, "s3", "us-east-1")
        if payload_hash is None
        else _DeclaredPayload(credentials, payload_hash)
    )
    signer.add_auth(request)
    return dict(request.headers.items())


def build_signed(
    client: httpx.Client | httpx.AsyncClient,
    method: str,
    url: str,
    *,
    access_key: str,
    secret_key: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    payload_hash: str | None = None,
) -> httpx.Request:
    """An httpx request signed over the URL exactly as httpx will send it."""
    exact = str(client.build_request(method, url).url)
    signed = signed_headers(
        method,
        exact,
        access_key=access_key,
        secret_key=secret_key,
        headers=headers,
        body=body,
        payload_hash=payload_hash,
    )
    # Latin-1 bytes, as HTTP carries header values; botocore signs their UTF-8, and the server reads them back as such.
    return client.build_request(
        method, exact, headers={k: v.encode("latin-1") for k, v in signed.items()}, content=body
    )


def send_signed(
    http: httpx.Client,
    server: LiveServer,
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    drop: tuple[str, ...] = (),
) -> httpx.Response:
    """Send one request to the live server signed with its admin key; `drop` names headers removed before sending."""
    request = build_signed(
        http,
        method,
        server.endpoint + path,
        access_key=server.access_key,
        secret_key=server.secret_key,
        headers=headers,
        body=body,
    )
    for name in drop:
        del request.headers[name]
    return http.send(request)


def pooled_ports(client: Any) -> set[int]:
    """The local ports of the connections a boto3 client keeps open for its next calls.

    A connection the server closed is replaced by one on a new port, so one port across many calls means
    they all went over one keep-alive connection. This reaches into botocore's urllib3 pool manager.
    """
    manager = client._endpoint.http_session._manager
    ports = set()
    for key in manager.pools.keys():  # noqa: SIM118  # urllib3 refuses to iterate its pool container itself
        for connection in list(manager.pools[key].pool.queue):
            if connection is not None and connection.sock is not None:
                ports.add(connection.sock.getsockname()[1])
    return ports


def service_signed_headers(
    method: str,
    url: str,
    service: str,
    *,
    access_key: str,
    secret_key: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers botocore's SigV4 signer sends for a service other than S3 (the body's hash is signed, not sent)."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    SigV4Auth(Credentials(access_key, secret_key), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends on a raw socket until it closes the connection (or resets it)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except OSError:
        pass
    return data
