"""The one way out of a sandbox: a Unix socket per sandbox slot, served by the server's own HTTP gateway.

The server listens on `count` Unix sockets in a private folder (0700) and hands them to uvicorn beside its TCP
port. Each running sandbox has one of them bind-mounted at /run/alto/api.sock, and the worker inside forwards
127.0.0.1:<port> of the sandbox's own network namespace to it, so boto3 with the usual AWS_ENDPOINT_URL works
unchanged. Which socket a request came in on tells the gateway which sandbox sent it (uvicorn reports the
socket's path as the ASGI `server`), so it can insist that the request be signed by that function's own key:
a function that learnt another key still cannot use it from inside its sandbox.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from altostratus.functions.sandbox.tree import owner_gone

PREFIX = "altostratus-api-"


class ApiChannels:
    """Listening sockets for sandboxes, and which function's key each is bound to right now."""

    def __init__(self, count: int, port: int, *, folder: Path | None = None) -> None:
        if folder is None:
            _sweep(Path(tempfile.gettempdir()))
        # Socket paths must stay under 108 bytes, so they live in a short private folder, not the data directory.
        self.folder = folder or Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self.folder.chmod(0o700)
        self.port = port
        self._lock = threading.Lock()
        self._free = list(range(count - 1, -1, -1))
        self._principals: dict[str, str] = {}
        self.sockets: list[socket.socket] = [self._listen(index) for index in range(count)]

    def _listen(self, index: int) -> socket.socket:
        path = self.path(index)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        path.chmod(0o600)
        sock.listen(128)
        sock.setblocking(False)
        return sock

    def path(self, index: int) -> Path:
        """The socket of slot index, as the host sees it."""
        return self.folder / f"{index}.sock"

    def lease(self, access_key_id: str, owner_uid: int | None) -> int:
        """A free slot bound to this key; its socket is made connectable by owner_uid (when not ours)."""
        with self._lock:
            if not self._free:
                raise RuntimeError("every API channel is in use")
            index = self._free.pop()
            self._principals[str(self.path(index))] = access_key_id
        if owner_uid is not None:
            try:
                os.chown(self.path(index), owner_uid, owner_uid)
            except OSError:
                self.release(index)
                raise
        return index

    def release(self, index: int) -> None:
        """Give a slot back once its sandbox has ended."""
        path = self.path(index)
        if os.stat(path).st_uid != os.getuid():
            os.chown(path, os.getuid(), os.getgid())
        with self._lock:
            self._principals.pop(str(path), None)
            self._free.append(index)

    def principal(self, server_path: str) -> str | None:
        """The access key id a request on this socket must be signed with; "" for a slot not in use."""
        with self._lock:
            if server_path in self._principals:
                return self._principals[server_path]
        return "" if Path(server_path).parent == self.folder else None

    def close(self) -> None:
        """Close the sockets and remove their folder."""
        for sock in self.sockets:
            sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def _sweep(parent: Path) -> None:
    """Remove the channel folders of servers that died without closing them (they hold only sockets)."""
    for folder in parent.glob(f"{PREFIX}*"):
        if owner_gone(folder.name, PREFIX) and folder.stat().st_uid == os.getuid():
            shutil.rmtree(folder, ignore_errors=True)
