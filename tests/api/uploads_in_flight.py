"""Object bodies still on their way to a live server, and the temporary blob files its writes make meanwhile."""

from __future__ import annotations

import hashlib
import http.client
import random
import time
from pathlib import Path

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from tests.live_server import LiveServer

MiB = 1024 * 1024
PARTIAL_GLOB = "**/.*.partial"  # LocalBlobStore's temporary files


class RawUpload:
    """A PUT whose body the test sends piece by piece over http.client, signed with UNSIGNED-PAYLOAD."""

    def __init__(self, server: LiveServer, path: str, size: int, seed: int) -> None:
        self._rng = random.Random(seed)
        self.size = size
        self.sent = 0
        self.md5 = hashlib.md5(usedforsecurity=False)
        url = f"{server.endpoint}{path}"
        request = AWSRequest(method="PUT", url=url, headers={"Content-Length": str(size)})
        # Over http botocore signs the payload unless told not to; a stream of unknown bytes cannot be hashed first.
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
        S3SigV4Auth(Credentials(server.access_key, server.secret_key), "s3", "us-east-1").add_auth(request)
        assert request.headers["X-Amz-Content-SHA256"] == "UNSIGNED-PAYLOAD"
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.connection.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
        self.connection.putheader("Host", f"127.0.0.1:{server.port}")
        for name, value in request.headers.items():
            self.connection.putheader(name, value)
        self.connection.endheaders()

    def send(self, nbytes: int) -> None:
        """Send the next nbytes of the body, a MiB at a time."""
        for _ in range(nbytes // MiB):
            chunk = self._rng.randbytes(MiB)
            self.connection.send(chunk)
            self.md5.update(chunk)
            self.sent += MiB

    def fails(self) -> bool:
        """Whether the request ended without an answer (the server died under it)."""
        try:
            self.send(4 * MiB)
            self.connection.getresponse()
        except (OSError, http.client.HTTPException):
            return True
        finally:
            self.connection.close()
        return False

    def finish(self) -> tuple[int, str]:
        """Send the rest of the body; the answer's status and ETag (its body when it has none)."""
        try:
            self.send(self.size - self.sent)
            response = self.connection.getresponse()
            return response.status, response.getheader("ETag") or response.read().decode(errors="replace")
        finally:
            self.connection.close()


def partials(server: LiveServer) -> list[Path]:
    """The server's temporary blob files, in name order."""
    return sorted((server.data_dir / "blobs").glob(PARTIAL_GLOB))


def wait_for_partials(server: LiveServer, count: int, min_bytes: int, timeout: float = 30) -> None:
    """Wait until the server is writing `count` temporary blobs of at least min_bytes each."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = partials(server)
        if len(found) >= count and all(p.stat().st_size >= min_bytes for p in found):
            return
        time.sleep(0.02)
    sizes = {p.name: p.stat().st_size for p in partials(server)}
    raise AssertionError(f"expected {count} temporary blobs of >= {min_bytes} bytes; found {sizes}")
