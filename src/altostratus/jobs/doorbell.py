"""The doorbell: submitting a job in this process wakes one idle worker at once instead of at its next poll."""

from __future__ import annotations

import threading


class Doorbell:
    """A ring counter that idle workers wait on; polling stays the fallback for jobs other processes submit.

    A worker reads `rings` before it looks for work and waits for the count to move past it, so a ring
    that comes between the look and the wait is never missed.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._rings = 0

    @property
    def rings(self) -> int:
        """How many times the bell has rung so far."""
        with self._changed:
            return self._rings

    def ring(self, *, everyone: bool = False) -> None:
        """Wake one waiting worker (a new job needs one), or every one (`everyone`: the pool is stopping)."""
        with self._changed:
            self._rings += 1
            if everyone:
                self._changed.notify_all()
            else:
                self._changed.notify()

    def ring_later(self, delay: float) -> None:
        """Ring once after `delay` seconds (a job submitted to run later, or a retry after its backoff, is then due)."""
        timer = threading.Timer(delay, self.ring)
        timer.daemon = True
        timer.start()

    def wait(self, seen: int, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a ring after the count `seen`; whether one came."""
        with self._changed:
            return self._changed.wait_for(lambda: self._rings != seen, timeout)
