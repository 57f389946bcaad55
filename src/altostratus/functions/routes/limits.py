"""Per-key rate limits: one token bucket per API key, kept in this process's memory.

Each gateway process enforces every limit on its own, so N processes behind a load balancer let a key through
at up to N times its rate. Keeping buckets in the database would cost a write per request; for one process (the
default) the limit is exact.
"""

from __future__ import annotations

import dataclasses
import threading

from altostratus.core.clock import Clock


@dataclasses.dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by id: each holds up to `burst` tokens and refills at `rate` tokens a second."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, rate: float, burst: int) -> bool:
        """Take one token from key's bucket if it has one; a new bucket starts full."""
        now = self._clock.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(burst), now)
            # A lowered burst takes effect at once; a raised one fills up at the rate.
            bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            if bucket.tokens < 1.0:
                return False
            bucket.tokens -= 1.0
            return True

    def forget(self, key: str) -> None:
        """Drop key's bucket (its key was deleted)."""
        with self._lock:
            self._buckets.pop(key, None)
