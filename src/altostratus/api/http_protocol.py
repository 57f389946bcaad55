"""The HTTP/1.1 connection: uvicorn's httptools protocol, with bounds on what one client can hold up.

uvicorn (0.54, with httptools) leaves three holes that this subclass closes, each in a few lines:

- A request head has no size limit. llhttp hands header and URL pieces to callbacks that grow them by bytes
  concatenation, so a 64 MiB header took about 5 s of CPU on the event loop and stalled every other client
  for as long. Here the bytes of each head are counted as they arrive, before the parser sees them, and a head
  past MAX_HEAD_BYTES is refused at once with S3's 400 RequestHeaderSectionTooLarge.
- A head has no time limit: the keep-alive timer is cancelled by any byte, so a client sending one byte every
  few seconds ("slowloris") held its connection for ever. Here a client has head_timeout seconds, from
  opening the connection or from the end of the previous answer, to send a whole request line and headers.
- A client that stops reading an answer holds its request (and its slot among the requests in flight) for
  ever. Here a connection whose answer has not moved for stall_timeout seconds is closed.

Request bodies are timed by the gateway, which knows when it is waiting for one (a slow but steady upload is
never cut; a stalled one gets S3's RequestTimeout). A refused connection is closed at once: a client still
sending gets a reset on its next write, and reads the answer, which came before it (urllib3 does so).
"""

from __future__ import annotations

import asyncio
import dataclasses
import http
import logging
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from altostratus.api.aws_chunked import IncompleteBody
from altostratus.api.errors import error_response
from altostratus.api.gateway import RequestTimeout
from altostratus.core.errors import AltoError, BadRequest
from altostratus.core.ids import request_id

log = logging.getLogger(__name__)
# S3 allows 8 KB of request headers; the request line (a key of 1,024 characters percent-encoded, a presigned
# query) and a session token can add as much again. nginx allows 32 KiB in all by default.
MAX_HEAD_BYTES = 32 * 1024
_END_OF_HEAD = b"\r\n\r\n"


class RequestHeaderSectionTooLarge(BadRequest):
    """Your request header section exceeds the maximum allowed size."""

    code = "RequestHeaderSectionTooLarge"


@dataclasses.dataclass(frozen=True)
class ConnectionLimits:
    """How long a client may take to send a request head, and how long an answer may stall."""

    head_timeout: float = 20.0
    stall_timeout: float = 60.0
    max_head_bytes: int = MAX_HEAD_BYTES


def bounded_protocol(limits: ConnectionLimits) -> type[BoundedHttpToolsProtocol]:
    """The protocol class for uvicorn.Config(http=...), bound to these limits."""

    class Bound(BoundedHttpToolsProtocol):
        pass

    Bound.limits = limits
    return Bound


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size and time limit on request heads and a limit on stalled answers."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Bytes a head may still take; -1 while a request's body or answer is under way.
        self._head_room = self.limits.max_head_bytes
        self._tail = b""  # the last bytes of the head so far, to find its end across two reads
        self._head_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request head."""
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clocks."""
        for timer in (self._head_timer, self._write_timer):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Count the bytes of a request head before the parser sees them; refuse a head past the limit."""
        # A read that starts inside a head is counted up to the head's end. A head that starts inside a read
        # (after a body, in the same read) is counted from the next read on: at most one read is not counted.
        if self._head_room >= 0:
            window = self._tail + data[: self._head_room + len(_END_OF_HEAD)]
            end = window.find(_END_OF_HEAD, 0, len(self._tail) + self._head_room + len(_END_OF_HEAD))
            used = len(data) if end < 0 else end + len(_END_OF_HEAD) - len(self._tail)
            if used > self._head_room:
                self._refuse(
                    RequestHeaderSectionTooLarge(
                        "Your request header section exceeds the maximum allowed size: the request line and "
                        f"headers may hold at most {self.limits.max_head_bytes} bytes"
                    )
                )
                return
            self._head_room -= used
            self._tail = window[-len(_END_OF_HEAD) + 1 :]
        super().data_received(data)

    def on_headers_complete(self) -> None:
        """The head is in: stop its clock and its count."""
        self._head_room = -1
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The next bytes begin the next request's head."""
        super().on_message_complete()
        self._head_room = self.limits.max_head_bytes
        self._tail = b""

    def on_response_complete(self) -> None:
        """Start the clock for the next request head (unless a pipelined one is already in)."""
        super().on_response_complete()
        if self._head_room >= 0 and not self.transport.is_closing():
            self._arm_head_timer()

    def eof_received(self) -> None:
        """A client that ends its side of the connection before the body its Content-Length announced gets
        S3's IncompleteBody (uvicorn would close the connection without a word; the handler sees the client gone
        and throws away what it received)."""
        cycle = self.cycle
        if self._head_room < 0 and cycle is not None and cycle.more_body and not cycle.response_started:
            length = dict(self.headers).get(b"content-length", b"?").decode("latin-1")
            # Not logged here: the gateway logs the client's going as a disconnect, once.
            self._answer(
                IncompleteBody(
                    f"The request body terminated unexpectedly: Content-Length is {length}, and the client ended "
                    "the connection before sending that many bytes"
                )
            )

    def send_400_response(self, msg: str) -> None:
        """A request the HTTP parser cannot read (bytes past a body shorter than they were, a malformed head) gets
        S3's XML error rather than uvicorn's plain text."""
        self._refuse(
            BadRequest(
                "The request could not be read as HTTP/1.1 (if it followed a request with a body, that body may have "
                f"been longer than its Content-Length): {msg}"
            )
        )

    def pause_writing(self) -> None:
        """The client is not taking the answer as fast as it is written: start the stall clock."""
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self.limits.stall_timeout, self._write_stalled)

    def resume_writing(self) -> None:
        """The answer moves again."""
        super().resume_writing()
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _arm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timed_out)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_room == self.limits.max_head_bytes:
            self.transport.close()  # nothing of a request came: an idle connection, closed without a word
            return
        self._refuse(
            RequestTimeout(
                "Your socket connection to the server was not read from or written to within the timeout period: "
                f"the request line and headers did not arrive within {self.limits.head_timeout:g} seconds"
            )
        )

    def _write_stalled(self) -> None:
        self._write_timer = None
        log.warning(
            "closing the connection from %s: it took none of its answer for %g seconds",
            _peer(self.client),
            self.limits.stall_timeout,
        )
        self.transport.abort()

    def _refuse(self, error: AltoError) -> None:
        """Answer with the error (S3's XML) and close the connection."""
        log.warning("refused a request from %s: %s: %s", _peer(self.client), error.code, error.message)
        self._answer(error)

    def _answer(self, error: AltoError) -> None:
        """Write the error (S3's XML) as the answer and close the connection."""
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        response = error_response("rest-xml", error, request_id())
        status = f"HTTP/1.1 {error.status} {http.HTTPStatus(error.status).phrase}\r\n".encode()
        headers = b"".join(name + b": " + value + b"\r\n" for name, value in response.raw_headers)
        self.transport.write(status + headers + b"connection: close\r\n\r\n" + response.body)
        self.transport.close()


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "a client"
