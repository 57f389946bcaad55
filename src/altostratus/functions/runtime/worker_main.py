"""The worker program: imports one function's handler once, then serves its invocations over a private pipe pair.

Started by `WorkerProcess` as `python -I <this file> FD_IN FD_OUT PARENT_PID` with an environment of PATH, LANG and
TZ only (the function's variables and Lambda's arrive in the configuration frame and are set before the handler is
imported), the function's code directory as its working directory, and file descriptors 1 and 2 on the parent's
log pipe, so everything the handler (or C code, or a subprocess) prints lands in the log.

The protocol is binary frames, so a warm round trip costs no JSON of its own:
- parent to child, once: the configuration, a uint32 length and a JSON object;
- parent to child, per invocation: `REQUEST` (deadline in epoch ms, then the lengths of the request id, the
  client context, the trace id and the payload), followed by those four byte strings;
- child to parent, once after the import and then per invocation: `RESULT` (failed or not, handler duration
  in ms, peak RSS in KiB, payload length), followed by the payload: the response, or Lambda's error document.

In a sandbox (functions/sandbox/), the configuration names the platform's API socket, bind-mounted into the
sandbox: the worker then forwards 127.0.0.1:<port> of the sandbox's own network namespace to it before the
handler's module is imported, so AWS_ENDPOINT_URL works inside as outside. The forwarder carries bytes only;
the server checks every request it carries, so a handler that tampers with it gains nothing.

This module imports only the standard library and is run by path rather than with `-m`: a worker must not pay
for (or be able to see through `sys.modules`) the platform's own packages, which a package `__init__` with
re-exports would pull in.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import logging
import os
import resource
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the cold start of every function pays for each import here: typing's are for mypy only
    from collections.abc import Callable
    from typing import TypeAlias

    Handler: TypeAlias = "Callable[[Any, LambdaContext], Any]"

CONFIG_HEADER = struct.Struct("!I")
REQUEST_HEADER = struct.Struct("!qIIII")
RESULT_HEADER = struct.Struct("!?dQI")
_PR_SET_PDEATHSIG = 1
_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"


class Request(NamedTuple):
    """One invocation as the worker receives it."""

    request_id: str
    deadline_ms: int
    client_context: str | None
    trace_id: str
    payload: bytes


def pack_config(config: dict[str, Any]) -> bytes:
    """The configuration frame."""
    encoded = json.dumps(config).encode()
    return CONFIG_HEADER.pack(len(encoded)) + encoded


def pack_request(request: Request) -> bytes:
    """An invocation frame."""
    parts = [request.request_id.encode(), (request.client_context or "").encode(), request.trace_id.encode()]
    header = REQUEST_HEADER.pack(request.deadline_ms, *map(len, parts), len(request.payload))
    return b"".join([header, *parts, request.payload])


def pack_result(failed: bool, duration_ms: float, max_rss_kb: int, payload: bytes) -> bytes:
    """A result frame."""
    return RESULT_HEADER.pack(failed, duration_ms, max_rss_kb, len(payload)) + payload


class FrameSource:
    """Reads the parent's frames from a blocking descriptor; None at end of file."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def config(self) -> dict[str, Any] | None:
        """The configuration frame."""
        header = self._read(CONFIG_HEADER.size)
        if header is None:
            return None
        data = self._read(CONFIG_HEADER.unpack(header)[0])
        return None if data is None else dict(json.loads(data))

    def request(self) -> Request | None:
        """The next invocation frame."""
        header = self._read(REQUEST_HEADER.size)
        if header is None:
            return None
        deadline_ms, *sizes = REQUEST_HEADER.unpack(header)
        data = self._read(sum(sizes))
        if data is None:
            return None
        id_end = sizes[0]
        context_end = id_end + sizes[1]
        trace_end = context_end + sizes[2]
        context = data[id_end:context_end].decode() or None
        return Request(
            data[:id_end].decode(), deadline_ms, context, data[context_end:trace_end].decode(), data[trace_end:]
        )

    def _read(self, size: int) -> bytes | None:
        chunks: list[bytes] = []
        while size:
            chunk = os.read(self.fd, min(size, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte to a blocking descriptor."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class HandlerFault(Exception):
    """A failure Lambda's runtime reports with its own error type (Runtime.*) rather than the exception's."""

    def __init__(self, error_type: str, message: str, stack: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type, self.message, self.stack = error_type, message, stack or []


class CognitoIdentity:
    """The caller's Amazon Cognito identity (always empty here, as for calls not made through Cognito)."""

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None


class ClientContext:
    """The client context a mobile SDK sent with the invocation."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.custom = fields.get("custom")
        self.env = fields.get("env")
        self.client = fields.get("client")


class LambdaContext:
    """The handler's `context`, with the attributes and method Lambda's Python runtime provides."""

    def __init__(self, config: dict[str, Any], request: Request) -> None:
        self.function_name: str = config["function_name"]
        self.function_version: str = config["function_version"]
        # Lambda's runtime reads this from AWS_LAMBDA_FUNCTION_MEMORY_SIZE, so it is a string there too.
        self.memory_limit_in_mb: str = str(config["memory_mb"])
        self.log_group_name: str = config["log_group_name"]
        self.log_stream_name: str = config["log_stream_name"]
        self.invoked_function_arn: str = config["invoked_function_arn"]
        self.aws_request_id = request.request_id
        self.client_context = _client_context(request.client_context)
        self.identity = CognitoIdentity()
        self._deadline_ms = request.deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation times out."""
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        """Write to the invocation's log, as `context.log` does in Lambda."""
        sys.stdout.write(str(message))


def _client_context(raw: str | None) -> ClientContext | None:
    """Parse the client context: JSON, or the base64 of JSON as the Invoke API carries it."""
    if not raw:
        return None
    for text in (raw, _unbase64(raw)):
        try:
            fields = json.loads(text)
        except ValueError:
            continue
        if isinstance(fields, dict):
            return ClientContext(fields)
    raise HandlerFault("Runtime.LambdaContextUnmarshalError", "Unable to parse Client Context JSON: " + raw[:100])


def _unbase64(raw: str) -> str:
    import base64  # only for client contexts, so not at every cold start

    try:
        return base64.b64decode(raw, validate=True).decode()
    except ValueError:
        return ""


def load_handler(name: str) -> Handler:
    """Import the handler's module and return the handler, failing as Lambda's Python runtime does."""
    try:
        module_name, function_name = name.rsplit(".", 1)
    except ValueError as error:
        raise HandlerFault("Runtime.MalformedHandlerName", f"Bad handler '{name}': {error}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise HandlerFault(
            "Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module"
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise HandlerFault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}") from None
    except SyntaxError as error:
        stack = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise HandlerFault(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}", stack
        ) from None
    try:
        handler: Handler = getattr(module, function_name)
    except AttributeError:
        raise HandlerFault(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None
    return handler


def error_result(error: BaseException) -> dict[str, Any]:
    """Lambda's error document for an exception, with the runtime's own frames cut from the stack trace."""
    if isinstance(error, HandlerFault):
        return {"errorMessage": error.message, "errorType": error.error_type, "stackTrace": error.stack}
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_list(frames),
    }


def log_error(document: dict[str, Any]) -> None:
    """Print an error to the log the way Lambda's runtime does: `[ERROR] Type: message` and the traceback."""
    lines = [f"[ERROR] {document['errorType']}: {document['errorMessage']}", "Traceback (most recent call last):"]
    lines.extend(line for entry in document["stackTrace"] for line in entry.splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


def encode_response(response: Any, limit: int) -> bytes:
    """The handler's return value as the response payload: bytes as they are, anything else as JSON."""
    if isinstance(response, bytes):
        payload = response
    else:
        try:
            payload = json.dumps(response, default=_json_default).encode()
        except (TypeError, ValueError) as error:
            raise HandlerFault("Runtime.MarshalError", f"Unable to marshal response: {error}") from None
    if len(payload) > limit:
        message = f"Response payload size exceeded maximum allowed payload size ({limit} bytes)."
        raise HandlerFault("Function.ResponseSizeTooLarge", message)
    return payload


def _json_default(value: Any) -> Any:
    # DynamoDB hands out Decimals; Lambda's encoder writes them as JSON numbers.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def decode_event(body: bytes) -> Any:
    """The event from the request payload; an empty payload is `{}`, as Lambda passes it."""
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except ValueError as error:
        raise HandlerFault("Runtime.UnmarshalError", f"Unable to unmarshal input: {error}") from None


def peak_rss_kb() -> int:
    """This process's peak resident set in KiB: VmHWM, which belongs to the program exec'd here.

    Not getrusage's ru_maxrss: Linux carries that over exec from the forked copy of the parent, so a worker
    started by a server of 200 MB would report 200 MB before running a line (and be killed at 128 MB).
    """
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class Worker:
    """The serving loop: one handler, invocations in, results out."""

    def __init__(self, source: FrameSource, fd_out: int, config: dict[str, Any]) -> None:
        self.source, self.fd_out, self.config = source, fd_out, config
        self.request_id = ""
        self._libc = ctypes.CDLL(None)

    def init(self) -> Handler | None:
        """Import the handler and report how it went; None when it failed."""
        try:
            handler = load_handler(self.config["handler"])
        except Exception as error:
            document = error_result(error)
            log_error(document)
            self.reply(True, 0.0, json.dumps(document).encode())
            return None
        self.reply(False, 0.0, b"")
        return handler

    def serve(self, handler: Handler) -> None:
        """Answer invocations until the parent closes the pipe."""
        while (request := self.source.request()) is not None:
            if self.config.get("reap_children"):
                reap_children()  # what the server killed after the last invocation, so no zombie holds a pid
            self.request_id = request.request_id
            if request.trace_id:
                os.environ["_X_AMZN_TRACE_ID"] = request.trace_id
            elif "_X_AMZN_TRACE_ID" in os.environ:
                del os.environ["_X_AMZN_TRACE_ID"]
            started = time.perf_counter()
            failed = False
            try:
                response = handler(decode_event(request.payload), LambdaContext(self.config, request))
                payload = encode_response(response, self.config["max_payload"])
            except Exception as failure:
                document = error_result(failure) | {"requestId": self.request_id}
                log_error(document)
                payload, failed = json.dumps(document).encode(), True
            self.reply(failed, (time.perf_counter() - started) * 1000, payload)

    def reply(self, failed: bool, duration_ms: float, payload: bytes) -> None:
        """Flush the handler's output, then answer, so the log holds everything printed before the answer."""
        sys.stdout.flush()
        sys.stderr.flush()
        self._libc.fflush(None)  # C code's stdio buffers, full-buffered on a pipe
        write_all(self.fd_out, pack_result(failed, duration_ms, peak_rss_kb(), payload))


def _install_log_handler(worker: Worker) -> None:
    """Route the root logger to stdout in Lambda's text format, with the current request id."""

    class RequestIdFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.aws_request_id = worker.request_id
            return True

    handler = logging.StreamHandler(sys.stdout)
    handler.terminator = ""
    formatter = logging.Formatter(_LOG_FORMAT, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)


def reap_children() -> None:
    """Reap every child that has exited (the sandbox's init reaps only what is reparented to it)."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def start_api_forwarder(port: int, socket_path: str) -> None:
    """Forward 127.0.0.1:port, inside the sandbox's network namespace, to the API socket."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    threading.Thread(
        target=_forward_connections, args=(listener, socket_path), name="api-forwarder", daemon=True
    ).start()


def _forward_connections(listener: socket.socket, socket_path: str) -> None:
    while True:
        try:
            client, _ = listener.accept()
        except OSError:  # out of descriptors, say: the handler may close some, so keep serving
            time.sleep(0.01)
            continue
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(socket_path)
        except OSError:
            client.close()
            upstream.close()
            continue
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=_relay, args=(source, target), name="api-relay", daemon=True).start()


def _relay(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes one way until either side ends, then end both (HTTP/1.1 never half-closes here)."""
    try:
        while data := source.recv(1 << 16):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        source.close()


def _prepare(config: dict[str, Any]) -> None:
    """Environment, paths and output buffering, before any of the function's code runs."""
    os.environ.clear()
    os.environ.update(config["environment"])
    time.tzset()  # the function may set TZ
    sys.path[:0] = config["path"]
    sys.argv = [__file__]
    api = config.get("api")
    if api:
        start_api_forwarder(int(api["port"]), str(api["socket"]))
    # Lambda's runtime flushes every write; line buffering keeps that for prints without a syscall per character.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]


def main(argv: list[str]) -> int:
    """Run the worker on the descriptors named in argv."""
    fd_in, fd_out, parent = int(argv[1]), int(argv[2]), int(argv[3])
    libc = ctypes.CDLL(None)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the server (see spawner.py)
    if os.getppid() != parent:  # it died before the request took effect
        return 1
    os.set_inheritable(fd_in, False)  # the handler's subprocesses must not hold the private pipes
    os.set_inheritable(fd_out, False)
    source = FrameSource(fd_in)
    config = source.config()
    if config is None:
        return 0
    _prepare(config)
    worker = Worker(source, fd_out, config)
    _install_log_handler(worker)
    handler = worker.init()
    if handler is not None:
        worker.serve(handler)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
