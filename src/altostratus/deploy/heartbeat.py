"""The heartbeat: one background thread for periodic chores (flush statistics, advance canaries, read outcomes)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)
Chore = Callable[[], object]


class Heartbeat:
    """Runs each chore every so many seconds; a failing chore is logged and tried again at its next beat."""

    def __init__(self, chores: Sequence[tuple[float, Chore]], *, name: str = "alto-heartbeat") -> None:
        self._chores = list(chores)
        self._due = [0.0] * len(self._chores)
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start beating (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Stop after the chore under way, then run every chore once more (the last statistics get flushed).

        A heartbeat that never started (a command's platform) runs nothing: its chores are the server's.
        """
        self._stop.set()
        if self._thread is None:
            return
        self._thread.join(timeout)
        self._thread = None
        self.beat(force=True)

    def beat(self, *, force: bool = False) -> None:
        """Run the chores that are due (every one with `force`)."""
        now = time.monotonic()
        for index, (seconds, chore) in enumerate(self._chores):
            if force or now >= self._due[index]:
                try:
                    chore()
                except Exception:
                    log.exception("periodic chore %r failed", chore)
                self._due[index] = now + seconds

    def _run(self) -> None:
        tick = min((seconds for seconds, _ in self._chores), default=1.0)
        while not self._stop.wait(tick):
            self.beat()
