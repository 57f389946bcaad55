"""An invocation's log: the handler's output kept within a bound, framed by Lambda's START, END and REPORT lines."""

from __future__ import annotations

import collections
import dataclasses
import math

DEFAULT_LOG_LIMIT = 2 * 1024 * 1024


class BoundedLog:
    """Collects output of any size and keeps its first and last `limit // 2` bytes, marking what was dropped.

    A handler that prints 100 MB must not cost the server 100 MB per invocation; the start of the output
    usually says what the handler set out to do and the end why it stopped, so both are kept.
    """

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT) -> None:
        self._half = limit // 2
        self._head = bytearray()
        self._tail: collections.deque[bytes] = collections.deque()
        self._tail_size = 0
        self.total = 0

    def feed(self, chunk: bytes) -> None:
        """Add output as it arrives."""
        self.total += len(chunk)
        room = self._half - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size - len(self._tail[0]) >= self._half:
            self._tail_size -= len(self._tail.popleft())

    def text(self) -> str:
        """The kept output as text, with a marker where bytes were dropped."""
        tail = b"".join(self._tail)[-self._half :] if self._tail else b""
        omitted = self.total - len(self._head) - len(tail)
        marker = b""
        if omitted:
            marker = (
                f"\n[... {omitted} bytes of output omitted: a log keeps the first and last {self._half} bytes ...]\n"
            ).encode()
        return bytes(self._head + marker + tail).decode("utf-8", "replace")


@dataclasses.dataclass(frozen=True)
class Report:
    """The figures of Lambda's REPORT line."""

    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    status: str = ""
    error_type: str = ""

    def line(self) -> str:
        """`REPORT RequestId: ...` with tab-separated fields, as Lambda writes it."""
        fields = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {max(1, math.ceil(self.duration_ms))} ms",
            f"Memory Size: {self.memory_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_duration_ms is not None:
            fields.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.status:
            fields.append(f"Status: {self.status}")
        if self.error_type:
            fields.append(f"Error Type: {self.error_type}")
        return "\t".join(fields) + "\t"


def render(version: str, output: str, report: Report, init_output: str = "") -> str:
    """The log a caller sees: init output (cold starts), START, the invocation's output, END, REPORT."""
    start = f"START RequestId: {report.request_id} Version: {version}\n"
    end = f"END RequestId: {report.request_id}\n"
    return "".join([_line_ended(init_output), start, _line_ended(output), end, report.line(), "\n"])


def _line_ended(text: str) -> str:
    return text + "\n" if text and not text.endswith("\n") else text
