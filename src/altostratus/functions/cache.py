"""A short-lived read cache for the invoke path: configurations, aliases and keys change rarely, invokes often."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from altostratus.core.clock import Clock

T = TypeVar("T")

# Changes made through this process clear the cache at once; changes made by another server process sharing
# the database are seen by this one's invocations within this many seconds.
FRESH_SECONDS = 1.0


class ReadCache:
    """Values by key, each kept for FRESH_SECONDS; clear() forgets everything."""

    def __init__(self, clock: Clock, seconds: float = FRESH_SECONDS) -> None:
        self._clock = clock
        self._seconds = seconds
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value of key, or load() when there is none fresh enough (errors are not cached)."""
        now = self._clock.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and now - hit[0] < self._seconds:
            value: T = hit[1]
            return value
        value = load()
        with self._lock:
            self._values[key] = (now, value)
        return value

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._values.clear()
