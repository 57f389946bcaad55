"""ProcessRuntime: warm worker processes per function, reused, capped and reaped; safe to call from many threads.

Caps, and what happens at each:
- `max_per_function` workers per pool key (function, version, code): invocations that overlap get workers of
  their own up to the cap, then wait for one to come free (Lambda's reserved concurrency, without throttling);
- `max_processes` workers in all: a function that needs a new worker past it takes the place of the idle worker
  used least recently, of any function; if none is idle, it waits;
- `idle_timeout` seconds unused: a worker is ended by the reaper thread.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from types import TracebackType

from altostratus.core.errors import AltoError
from altostratus.functions.definitions import Invocation, Outcome, RunSpec
from altostratus.functions.runtime.process import WorkerOptions, WorkerProcess

DEFAULT_MAX_PER_FUNCTION = 10
DEFAULT_MAX_PROCESSES = 64
DEFAULT_IDLE_TIMEOUT = 300.0

PoolKey = tuple[str, str, str]


class RuntimeClosed(AltoError):
    """The function runtime has been shut down."""

    code = "ServiceException"


@dataclasses.dataclass
class _Pool:
    """The workers of one pool key: idle ones (most recently used last) and how many exist in all."""

    idle: list[WorkerProcess] = dataclasses.field(default_factory=list)
    count: int = 0


class ProcessRuntime:
    """Runs functions in isolated worker processes, keeping them warm between invocations."""

    def __init__(
        self,
        options: WorkerOptions,
        *,
        max_per_function: int = DEFAULT_MAX_PER_FUNCTION,
        max_processes: int = DEFAULT_MAX_PROCESSES,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self.max_per_function = max_per_function
        self.max_processes = max_processes
        self.idle_timeout = idle_timeout
        self.options = options
        self._pools: collections.defaultdict[PoolKey, _Pool] = collections.defaultdict(_Pool)
        self._busy: set[WorkerProcess] = set()
        self._retired: set[PoolKey] = set()  # keys of deleted functions: their busy workers end when done
        self._total = 0
        self._closed = False
        self._changed = threading.Condition()
        self._stop_reaper = threading.Event()
        self._reaper: threading.Thread | None = None

    def run(self, spec: RunSpec, invocation: Invocation) -> Outcome:
        """Run one invocation on a warm worker of the function, or on a new one (a cold start)."""
        worker, evicted = self._acquire(spec)
        for old in evicted:
            old.close()
        if worker is None:
            worker = self._start(spec)
        try:
            return worker.invoke(invocation)
        finally:
            self._release(spec.pool_key, worker)

    def _acquire(self, spec: RunSpec) -> tuple[WorkerProcess | None, list[WorkerProcess]]:
        """An idle worker, or None with a slot reserved for a new one; the idle workers to end (stale or evicted)."""
        dead: list[WorkerProcess] = []
        try:
            with self._changed:
                stale = self._retire_stale(spec)
                while True:
                    if self._closed:
                        raise RuntimeClosed("The function runtime has been shut down; no invocation can start.")
                    pool = self._pools[spec.pool_key]
                    while pool.idle:
                        worker = pool.idle.pop()
                        if worker.alive():
                            self._busy.add(worker)
                            worker.thaw()
                            return worker, stale
                        self._forget(spec.pool_key)
                        dead.append(worker)
                    if pool.count < self.max_per_function:
                        evicted = None if self._total < self.max_processes else self._evict_idle()
                        if self._total < self.max_processes or evicted is not None:
                            pool.count += 1
                            self._total += 1
                            return None, stale + ([evicted] if evicted else [])
                    self._changed.wait()
        finally:
            for worker in dead:
                worker.close()

    def retire(self, function_name: str, version: str | None = None) -> None:
        """End the idle workers of a function (or one version of it) that was deleted; busy ones end when done."""
        with self._changed:
            keys = [k for k in self._pools if k[0] == function_name and version in (None, k[1])]
            idle = [self._take_idle(key) for key in keys]
            self._retired.update(key for key in keys if key in self._pools)  # still busy somewhere
        for workers in idle:
            for worker in workers:
                worker.close()

    def _take_idle(self, key: PoolKey) -> list[WorkerProcess]:
        """Take every idle worker of a key out of the pool; caller holds the lock."""
        pool = self._pools[key]
        taken = []
        while pool.idle:
            taken.append(pool.idle.pop())
            self._forget(key)
        return taken

    def _retire_stale(self, spec: RunSpec) -> list[WorkerProcess]:
        """Take out the idle workers of this function version that run an older configuration; caller holds the lock."""
        self._retired.discard(spec.pool_key)  # deployed again, with the same configuration
        stale: list[WorkerProcess] = []
        for key in list(self._pools):
            if key[:2] == spec.pool_key[:2] and key != spec.pool_key:
                stale.extend(self._take_idle(key))
        return stale

    def _evict_idle(self) -> WorkerProcess | None:
        """Take out the idle worker used least recently, of any function, to make room; caller holds the lock."""
        candidates = [(worker.last_used, key) for key, pool in self._pools.items() for worker in pool.idle[:1]]
        if not candidates:
            return None
        _, key = min(candidates)
        worker = self._pools[key].idle.pop(0)
        self._forget(key)
        return worker

    def _forget(self, key: PoolKey) -> None:
        """Drop a worker (or a reserved slot) from the counts; caller holds the lock."""
        pool = self._pools[key]
        pool.count -= 1
        self._total -= 1
        if not pool.count:
            del self._pools[key]
        self._changed.notify_all()

    def _start(self, spec: RunSpec) -> WorkerProcess:
        """Start a worker in a reserved slot, giving the slot back if it cannot start."""
        try:
            worker = WorkerProcess(spec, self.options)
        except BaseException:
            with self._changed:
                self._forget(spec.pool_key)
            raise
        with self._changed:
            self._busy.add(worker)
        self._ensure_reaper()
        try:
            worker.start()
        except BaseException:
            self._release(spec.pool_key, worker)
            raise
        return worker

    def _release(self, key: PoolKey, worker: WorkerProcess) -> None:
        """Put a worker back to serve the next invocation, or end it if it cannot."""
        with self._changed:
            self._busy.discard(worker)
            keep = worker.reusable and not self._closed and key not in self._retired
            if keep:
                worker.freeze()
                self._pools[key].idle.append(worker)
                self._changed.notify_all()
            else:
                self._forget(key)
                if key not in self._pools:
                    self._retired.discard(key)
        if not keep:
            worker.close()

    def _ensure_reaper(self) -> None:
        with self._changed:
            if self._reaper is None and not self._closed:
                self._reaper = threading.Thread(target=self._reap_forever, name="functions-reaper", daemon=True)
                self._reaper.start()

    def _reap_forever(self) -> None:
        interval = min(max(self.idle_timeout / 4, 0.05), 30.0)
        while not self._stop_reaper.wait(interval):
            self.reap_idle()

    def reap_idle(self) -> int:
        """End the workers idle longer than `idle_timeout`; how many were ended."""
        cutoff = time.monotonic() - self.idle_timeout
        stale: list[WorkerProcess] = []
        with self._changed:
            for key, pool in list(self._pools.items()):
                for worker in [w for w in pool.idle if w.last_used < cutoff]:
                    pool.idle.remove(worker)
                    self._forget(key)
                    stale.append(worker)
        for worker in stale:
            worker.close()
        return len(stale)

    def process_count(self) -> int:
        """How many worker processes exist (busy, idle or starting)."""
        with self._changed:
            return self._total

    def worker_pids(self) -> list[int]:
        """The process ids (as the server sees them) of every worker that is busy or idle."""
        with self._changed:
            workers = [*self._busy, *(worker for pool in self._pools.values() for worker in pool.idle)]
            return sorted(worker.pid for worker in workers)

    def idle_count(self, spec: RunSpec) -> int:
        """How many workers of the function wait idle."""
        with self._changed:
            pool = self._pools.get(spec.pool_key)
            return len(pool.idle) if pool else 0

    def shutdown(self) -> None:
        """End every worker, busy ones included (their invocations fail); later runs raise RuntimeClosed."""
        with self._changed:
            self._closed = True
            idle = [worker for pool in self._pools.values() for worker in pool.idle]
            for pool in self._pools.values():
                pool.idle.clear()
            busy = list(self._busy)
            self._changed.notify_all()
        self._stop_reaper.set()
        if self._reaper is not None:
            self._reaper.join()
        for worker in busy:
            worker.kill()
        for worker in idle:
            worker.close()
        self.options.host.close()

    def __enter__(self) -> ProcessRuntime:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.shutdown()
