"""Starts worker processes from one long-lived thread, so their parent-death signal means what it should.

Each worker asks the kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG), so no worker outlives a server
that was killed, not even one that is frozen between invocations or stuck in an endless handler. The kernel
sends that signal when the *thread* that forked the worker ends, though, and the threads that call the runtime
(a web server's thread pool) come and go. Every worker is therefore forked by this one thread, which lives as
long as the process.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
_Request = tuple["Future[Any]", Callable[[], Any]]


class Spawner:
    """Runs process-starting calls on a dedicated daemon thread, started on first use (and again after a fork)."""

    def __init__(self) -> None:
        self._requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._owner_pid = -1

    def call(self, start: Callable[[], T]) -> T:
        """Run `start` (which forks, e.g. a `subprocess.Popen`) on the spawning thread and return its result."""
        self._ensure_thread()
        future: Future[T] = Future()
        self._requests.put((future, start))
        return future.result()

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._owner_pid != os.getpid():  # a forked copy of this process has no thread yet
                self._owner_pid = os.getpid()
                threading.Thread(target=self._serve, name="functions-spawner", daemon=True).start()

    def _serve(self) -> None:
        while True:
            future, start = self._requests.get()
            try:
                future.set_result(start())
            except BaseException as error:
                future.set_exception(error)


SPAWNER = Spawner()
