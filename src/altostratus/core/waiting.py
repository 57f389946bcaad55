"""Waiting for a state: read something until it is done, or until time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    read: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float | None,
    interval: float,
    on_timeout: Callable[[T], Exception] | None = None,
) -> T:
    """Call `read` every `interval` seconds until `done` accepts its value; the last value read.

    When `timeout` seconds pass first (None: they never do), raise what `on_timeout` makes of the last
    value, or return that value when there is no `on_timeout`.
    """
    # Real time, not an injected clock: this sleeps for real, and a fake clock would never run out.
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if deadline is not None and time.monotonic() >= deadline:
            if on_timeout is None:
                return value
            raise on_timeout(value)
        time.sleep(interval)
