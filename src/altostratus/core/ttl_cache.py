"""A small read cache for the request path: each value is kept for a few seconds after it was read."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from altostratus.core.clock import Clock

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values by key, each kept `seconds` after it was loaded: a change made in this process forgets it at once
    (forget), and other processes see it within `seconds`."""

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._values: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], V], *, keep: Callable[[V], bool] = lambda value: True) -> V:
        """The value kept for key if it is fresh, else load()'s, kept when keep() says so."""
        now = self._clock.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and now - hit[0] < self._seconds:
            return hit[1]
        value = load()
        if keep(value):
            with self._lock:
                self._values[key] = (now, value)
        return value

    def forget(self, key: str) -> None:
        """Drop what is kept for key."""
        with self._lock:
            self._values.pop(key, None)
