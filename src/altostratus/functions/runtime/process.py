"""One worker process: started for one function version, fed invocations, watched for its deadline and memory.

Where the worker runs (a sandbox, or a plain child process) is the WorkerHost's business (host.py); the parent
enforces the limits itself, from the thread that waits for the result:
- the timeout: past the deadline the worker and everything it started get SIGKILL (Lambda's `Sandbox.Timedout`);
- the memory limit: the memory the host counts for the worker (a sandbox's whole tree) is polled every
  `memory_poll_interval` while an invocation runs, and the peak RSS the worker reports with each result is
  checked too, so a burst between two polls is caught; past `memory_mb`, or when the kernel killed one of the
  sandbox's processes at its memory ceiling, everything gets SIGKILL (`Runtime.OutOfMemory`);
- nothing outlives its call, in a sandbox: after the cold start and after every invocation, the worker is frozen
  and every other process of its sandbox killed (an unsandboxed worker's process group ends with the worker).

RSS, not address space, is what Lambda limits, and RLIMIT_AS cannot stand in for it. Measured here (Python
3.11, 2 cores): a bare worker maps 12 MB (9 MB resident), with a boto3 client 55 MB (49), after importing numpy
173 MB (63), and with 8 threads running 749 MB (64): glibc reserves a 64 MB malloc arena per thread. An
address-space cap near `memory_mb` would fail healthy functions, and one far above it protects nothing.

Between invocations a worker is frozen (SIGSTOP, SIGCONT before the next invocation), as Lambda freezes an idle
execution environment: stray background threads can neither burn CPU nor grow past the memory limit while nobody
polls them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import select
import signal
import sys
import threading
import time
import uuid
from pathlib import Path

from altostratus.core.errors import AltoError
from altostratus.core.ids import arn
from altostratus.functions.definitions import LATEST, MAX_PAYLOAD_BYTES, Invocation, Outcome, RunSpec, error_document
from altostratus.functions.runtime import worker_main
from altostratus.functions.runtime.host import RunningWorker, UnsandboxedHost, WorkerHost, WorkerView
from altostratus.functions.runtime.logs import DEFAULT_LOG_LIMIT, BoundedLog, Report, render

WORKER_PROGRAM = worker_main.__file__
_MAX_RESULT = MAX_PAYLOAD_BYTES + 1024 * 1024  # an error document about a payload is small
_EXIT_GRACE = 0.5


def unsandboxed_host() -> UnsandboxedHost:
    """Workers as plain processes of this interpreter (only with --insecure-functions-unsandboxed, and benchmarks)."""
    return UnsandboxedHost(sys.executable, WORKER_PROGRAM)


class WorkerStartFailed(AltoError):
    """A worker process for the function could not be started."""

    code = "ServiceException"


@dataclasses.dataclass(frozen=True)
class WorkerOptions:
    """How workers are started and watched; the same for every function."""

    host: WorkerHost
    region: str = "us-east-1"
    account: str = "000000000000"
    init_timeout: float = 10.0
    memory_poll_interval: float = 0.01
    log_limit: int = DEFAULT_LOG_LIMIT


@dataclasses.dataclass(frozen=True)
class _Death:
    """How a worker ended before it answered: Lambda's error type, message and REPORT status."""

    error_type: str
    message: str
    status: str = "error"
    max_memory_mb: int = 0


@dataclasses.dataclass(frozen=True)
class _Init:
    """What the cold start produced, reported with the worker's first invocation."""

    duration_ms: float
    output: str
    error: bytes | None = None
    death: _Death | None = None


def launch_environment(view: WorkerView) -> dict[str, str]:
    """What the worker's interpreter starts with, and all that the programs starting it see.

    The function's own variables reach the worker only through its configuration frame, once it runs: a
    variable such as LD_PRELOAD must never act on bubblewrap or setpriv, which run with privileges.
    """
    return {"PATH": f"{Path(view.python).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC"}


def environment(spec: RunSpec, view: WorkerView, options: WorkerOptions, log_stream: str) -> dict[str, str]:
    """The worker's whole environment: Lambda's defaults, the function's variables, then Lambda's reserved ones."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    env = {
        **launch_environment(view),
        "AWS_REGION": options.region,
        "AWS_DEFAULT_REGION": options.region,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{version}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    }
    env.update(spec.environment)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "LAMBDA_TASK_ROOT": view.task_root,
            "LAMBDA_RUNTIME_DIR": view.runtime_dir,
            "_HANDLER": spec.handler,
        }
    )
    return env


@dataclasses.dataclass(frozen=True)
class _Result:
    """A worker's answer: to its import (payload: the error document if it failed) or to an invocation."""

    failed: bool
    duration_ms: float
    max_rss_kb: int
    payload: bytes


class _ResultReader:
    """Reassembles one result frame from the chunks a non-blocking pipe hands out."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> _Result | None:
        """Add a chunk; the result once it is complete."""
        self._buffer += chunk
        header = worker_main.RESULT_HEADER
        if len(self._buffer) < header.size:
            return None
        failed, duration_ms, max_rss_kb, size = header.unpack_from(self._buffer)
        if size > _MAX_RESULT:
            raise ValueError(f"result of {size} bytes; at most {_MAX_RESULT}")
        if len(self._buffer) < header.size + size:
            return None
        return _Result(failed, duration_ms, max_rss_kb, bytes(self._buffer[header.size : header.size + size]))


class WorkerProcess:
    """One worker process serving one function version, one invocation at a time."""

    def __init__(self, spec: RunSpec, options: WorkerOptions) -> None:
        self.spec, self.options = spec, options
        self.last_used = time.monotonic()
        self.reusable = False
        self._lock = threading.Lock()
        self._frozen = False
        self._init: _Init | None = None
        self._peak_kb = 0
        now = dt.datetime.now(dt.UTC)
        self.log_stream = f"{now:%Y/%m/%d}/[{spec.version}]{uuid.uuid4().hex}"
        resource = f"function:{spec.function_name}" + ("" if spec.version == LATEST else f":{spec.version}")
        self.invoked_arn = arn("lambda", options.region, resource, options.account)
        self._view = options.host.view(spec)
        self._spawned_at = time.monotonic()
        self._proc = self._spawn()

    @property
    def pid(self) -> int:
        """The worker's process id, as the server sees it."""
        return self._proc.pid

    def _spawn(self) -> RunningWorker:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self._log, log_w = os.pipe()
        view = self._view
        command = [view.program, str(to_child_r), str(from_child_w), str(view.parent_pid)]
        try:
            process = self.options.host.start(
                self.spec, command, launch_environment(view), (to_child_r, from_child_w), log_w
            )
        except (OSError, RuntimeError) as error:
            self._close_fds()
            raise WorkerStartFailed(f"Could not start a worker for {self.spec.function_name!r}: {error}") from error
        except BaseException:
            self._close_fds()
            raise
        finally:
            for fd in (to_child_r, from_child_w, log_w):
                os.close(fd)
        for fd in (self._to_child, self._from_child, self._log):
            os.set_blocking(fd, False)
        return process

    def start(self) -> None:
        """Send the configuration and wait for the handler's import: the cold start."""
        config = {
            "handler": self.spec.handler,
            "path": self._view.sys_path,
            "api": self._view.api,
            "environment": environment(self.spec, self._view, self.options, self.log_stream),
            "reap_children": self._view.reaps_children,
            "function_name": self.spec.function_name,
            "function_version": self.spec.version,
            "memory_mb": self.spec.memory_mb,
            "log_group_name": f"/aws/lambda/{self.spec.function_name}",
            "log_stream_name": self.log_stream,
            "invoked_function_arn": self.invoked_arn,
            "max_payload": MAX_PAYLOAD_BYTES,
        }
        output = BoundedLog(self.options.log_limit)
        # Lambda retries an init that overran its 10 s within the invocation's timeout; allow the longer of the two.
        limit = max(self.options.init_timeout, self.spec.timeout)
        answer = self._exchange(worker_main.pack_config(config), limit, output)
        # Like Lambda's Init Duration, this counts the interpreter's start, not only the handler's import.
        duration_ms = (time.monotonic() - self._spawned_at) * 1000
        if isinstance(answer, _Death):
            self._init = _Init(duration_ms, output.text(), death=answer)
            return
        self._init = _Init(duration_ms, output.text(), error=answer.payload if answer.failed else None)
        self.reusable = not answer.failed and self._proc.end_strays()

    def invoke(self, invocation: Invocation) -> Outcome:
        """Run one invocation; the worker stays reusable only if it answered within its limits."""
        init, self._init = self._init, None
        if init is not None and (init.error is not None or init.death is not None):
            self.reusable = False
            return self._failed_init(invocation, init)
        request = worker_main.Request(
            request_id=invocation.request_id,
            deadline_ms=int((time.time() + self.spec.timeout) * 1000),
            client_context=invocation.client_context,
            trace_id=invocation.trace_id,
            payload=invocation.payload,
        )
        output = BoundedLog(self.options.log_limit)
        started = time.monotonic()
        answer = self._exchange(worker_main.pack_request(request), self.spec.timeout, output)
        elapsed_ms = (time.monotonic() - started) * 1000
        self.last_used = time.monotonic()
        if isinstance(answer, _Result):
            # Frozen first, so that no thread of the worker starts another process while the others are ended.
            self.freeze()
            if not self._proc.end_strays():
                self.kill()  # something it started could not be ended: the sandbox goes with it
        if isinstance(answer, _Death):
            return self._died(invocation, answer, output.text(), elapsed_ms, init)
        init_ms = init.duration_ms if init else None
        report = Report(invocation.request_id, answer.duration_ms, self.spec.memory_mb, self._peak_mb(), init_ms)
        log = render(self.spec.version, output.text(), report, init.output if init else "")
        error = "Unhandled" if answer.failed else None
        return Outcome(answer.payload, error, log, answer.duration_ms, init is not None, report.max_memory_used_mb)

    def _failed_init(self, invocation: Invocation, init: _Init) -> Outcome:
        if init.death is not None:
            return self._died(invocation, init.death, "", 0.0, init)
        assert init.error is not None
        report = Report(invocation.request_id, 0.0, self.spec.memory_mb, self._peak_mb(), init.duration_ms)
        log = render(self.spec.version, "", report, init.output)
        return Outcome(init.error, "Unhandled", log, 0.0, True, report.max_memory_used_mb)

    def _died(
        self, invocation: Invocation, death: _Death, output: str, elapsed_ms: float, init: _Init | None
    ) -> Outcome:
        """The outcome of an invocation whose worker was killed or exited: Lambda's error, and a note in the log."""
        rid = invocation.request_id
        message = f"RequestId: {rid} Error: {death.message}"
        if death.status == "timeout":
            stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            note = f"{stamp} {rid} {death.message}\n"
        else:
            note = f"{message}\n{death.error_type}\n"
        output = output + ("\n" if output and not output.endswith("\n") else "") + note
        memory = max(death.max_memory_mb, self._peak_mb())
        init_ms = init.duration_ms if init else None
        report = Report(rid, elapsed_ms, self.spec.memory_mb, memory, init_ms, death.status, death.error_type)
        log = render(self.spec.version, output, report, init.output if init else "")
        payload = json.dumps(error_document(message, death.error_type)).encode()
        return Outcome(payload, "Unhandled", log, elapsed_ms, init is not None, memory)

    def _peak_mb(self) -> int:
        return math.ceil(self._peak_kb / 1024)

    def _exchange(self, frame: bytes, timeout: float, output: BoundedLog) -> _Result | _Death:
        """Send a frame and wait for the answer, collecting the log; past a limit the worker is killed."""
        deadline = time.monotonic() + timeout
        interval = self.options.memory_poll_interval
        next_check = time.monotonic() + interval
        pending = self._write_some(memoryview(frame))
        poller = select.poll()
        poller.register(self._from_child, select.POLLIN)
        poller.register(self._log, select.POLLIN)
        if pending:
            poller.register(self._to_child, select.POLLOUT)
        reader = _ResultReader()
        while True:
            now = time.monotonic()
            if now >= deadline:
                return self._kill(_Death("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds", "timeout"))
            if now >= next_check:
                next_check = now + interval
                if self._over_memory(self._proc.resident_kb()) or self._proc.out_of_memory():
                    return self._kill(self._out_of_memory())
            for fd, _ in poller.poll(math.ceil((min(deadline, next_check) - now) * 1000)):
                if fd == self._log:
                    if not self._drain_log(output):
                        poller.unregister(fd)
                elif fd == self._to_child:
                    pending = self._write_some(pending)
                    if not pending:
                        poller.unregister(fd)
                else:
                    answer = self._read_answer(reader)
                    if answer is not None:
                        self._drain_log(output)
                        return answer

    def _read_answer(self, reader: _ResultReader) -> _Result | _Death | None:
        try:
            chunk = os.read(self._from_child, 1 << 20)
        except BlockingIOError:
            return None
        if not chunk:
            return self._exited()
        try:
            answer = reader.feed(chunk)
        except ValueError as error:
            return self._kill(_Death("Runtime.ExitError", f"Runtime sent an invalid response: {error}"))
        if answer is None:
            return None
        self._peak_kb = max(self._peak_kb, answer.max_rss_kb)
        if self._over_memory(self._peak_kb) or self._proc.out_of_memory():
            return self._kill(self._out_of_memory())
        return answer

    def _write_some(self, pending: memoryview) -> memoryview:
        try:
            return pending[os.write(self._to_child, pending) :]
        except BlockingIOError:
            return pending
        except BrokenPipeError:
            return pending[len(pending) :]  # the worker is gone; its end of file on the result pipe says how

    def _drain_log(self, output: BoundedLog) -> bool:
        """Read whatever the log pipe holds; False at end of file."""
        while True:
            try:
                chunk = os.read(self._log, 1 << 20)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            output.feed(chunk)

    def _over_memory(self, resident_kb: int) -> bool:
        self._peak_kb = max(self._peak_kb, resident_kb)
        return resident_kb > self.spec.memory_mb * 1024

    def _out_of_memory(self) -> _Death:
        return _Death("Runtime.OutOfMemory", "Runtime exited with error: signal: killed", max_memory_mb=self._peak_mb())

    def _exited(self) -> _Death:
        """The worker closed its result pipe: it exited (os._exit, a crash) or is about to."""
        code = self._stop(grace=_EXIT_GRACE)
        reason = f"exit status {code}" if code >= 0 else f"signal: {signal.strsignal(-code) or -code}".lower()
        return _Death("Runtime.ExitError", f"Runtime exited with error: {reason}")

    def _kill(self, death: _Death) -> _Death:
        self._stop(grace=0)
        return death

    def _stop(self, grace: float) -> int:
        """Kill the worker with everything it started and reap it; its exit code (negative: the signal).

        Everything is killed before the worker is reaped: a group by the id of a child not yet reaped, a sandbox
        by pidfds, so no process id the host may have reused is signalled.
        """
        self.reusable = False
        with self._lock:
            if self._proc.returncode is None:
                if grace:
                    self._await_exit(grace)
                self._proc.kill()
                self._proc.wait()
                self._proc.release()
            code = self._proc.returncode
            assert code is not None
            return code

    def _await_exit(self, grace: float) -> None:
        """Wait up to `grace` seconds for the worker to exit, without reaping it."""
        give_up = time.monotonic() + grace
        while time.monotonic() < give_up:
            if self._proc.has_exited():
                return
            time.sleep(0.001)

    def freeze(self) -> None:
        """Stop the worker until the next invocation (Lambda freezes idle environments); once is enough."""
        with self._lock:
            if self._proc.returncode is None and not self._frozen:
                self._proc.freeze()
                self._frozen = True

    def thaw(self) -> None:
        """Let a frozen worker run again."""
        with self._lock:
            if self._proc.returncode is None and self._frozen:
                self._proc.thaw()
                self._frozen = False

    def alive(self) -> bool:
        """Whether the process still runs (an idle worker may have died of a stray thread); reaping is close's."""
        with self._lock:
            return self._proc.returncode is None and not self._proc.has_exited()

    def kill(self) -> None:
        """End the worker now; safe from any thread, while another waits on it."""
        self._stop(grace=0)

    def close(self) -> None:
        """End the worker and release its pipes; only for the thread that owns the worker."""
        self.kill()
        self._close_fds()

    def _close_fds(self) -> None:
        for name in ("_to_child", "_from_child", "_log"):
            fd = getattr(self, name, -1)
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, -1)
