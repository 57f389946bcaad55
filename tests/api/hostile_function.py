"""A hostile function: each probe tries something a function must not be able to do, and reports what happened.

Deployed as app.py by tests/api/test_hostile_functions.py (it runs inside the sandbox, not in the test process).
The event is {"probe": NAME, ...arguments}; every probe answers with what it saw, never raising.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

KEEP: list[Any] = []  # what a probe leaves open on purpose (a listening socket)


def attempt(call: Callable[[], Any]) -> dict[str, Any]:
    """{"ok": True, "value": ...} or {"ok": False, "error": "Type: message"}."""
    try:
        return {"ok": True, "value": call()}
    except Exception as error:
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}


def read(path: str) -> str:
    with open(path, "rb") as source:
        return source.read(4096).decode(errors="replace")


def listing(path: str) -> list[str]:
    return sorted(os.listdir(path))


def probe_read(event: dict[str, Any]) -> dict[str, Any]:
    """Read each path (a file, or a folder's names)."""
    return {path: attempt(lambda p=path: listing(p) if os.path.isdir(p) else read(p)) for path in event["paths"]}


def probe_write(event: dict[str, Any]) -> dict[str, Any]:
    """Create a file at each path."""

    def write(path: str) -> str:
        with open(path, "wb") as sink:
            sink.write(b"written by a hostile function")
        return "written"

    return {path: attempt(lambda p=path: write(p)) for path in event["paths"]}


def probe_processes(event: dict[str, Any]) -> dict[str, Any]:
    """What /proc shows, and whether the server's process can be reached through it."""
    server = int(event["server_pid"])
    libc = ctypes.CDLL(None, use_errno=True)

    def pidfd() -> int:
        fd = libc.syscall(434, server, 0)  # pidfd_open
        if fd < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        return int(fd)

    return {
        "pids": sorted(int(entry) for entry in os.listdir("/proc") if entry.isdigit()),
        "environ": attempt(lambda: read(f"/proc/{server}/environ")),
        "mem": attempt(lambda: read(f"/proc/{server}/mem")),
        "pidfd_open": attempt(pidfd),
        "kill": attempt(lambda: os.kill(server, 0)),
        "init_environ": attempt(lambda: read("/proc/1/environ")),
    }


def probe_identity(event: dict[str, Any]) -> dict[str, Any]:
    """Who the function runs as, with which privileges, and whether it can gain any."""
    status = dict(line.split(":\t", 1) for line in read("/proc/self/status").splitlines() if ":\t" in line)
    libc = ctypes.CDLL(None, use_errno=True)

    def new_user_namespace() -> int:
        if libc.unshare(0x10000000) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
        return 0

    return {
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "groups": os.getgroups(),
        "caps": {key: status[key].strip() for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")},
        "no_new_privs": status["NoNewPrivs"].strip(),
        "seccomp": status["Seccomp"].strip(),
        "setuid_root": attempt(lambda: os.setuid(0)),
        "user_namespace": attempt(new_user_namespace),
        "sudo_like": attempt(
            lambda: subprocess.run(["/usr/bin/su", "-c", "id"], capture_output=True, timeout=5).returncode
        ),
    }


def probe_fill_tmp(event: dict[str, Any]) -> dict[str, Any]:
    """Write to /tmp until it is full; how many bytes it took."""
    written = 0
    chunk = b"\0" * (1 << 20)
    try:
        with open("/tmp/fill", "wb") as sink:
            while written < event["up_to"]:
                sink.write(chunk)
                sink.flush()
                written += len(chunk)
        return {"written": written, "error": None}
    except OSError as error:
        return {"written": written, "error": f"{type(error).__name__}: {error}"}
    finally:
        os.remove("/tmp/fill")


def probe_daemon(event: dict[str, Any]) -> dict[str, Any]:
    """Leave a process behind the way daemons do (fork, setsid, fork again), then return or hang."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", event["marker"]])
        os._exit(0)
    time.sleep(0.2)
    if event.get("hang"):
        while True:
            time.sleep(1)
    return {"left": event["marker"]}


def probe_child_memory(event: dict[str, Any]) -> dict[str, Any]:
    """A child process that takes far more memory than the function has."""
    code = (
        f"import time; block = bytearray({event['bytes']}); block[::4096] = b'x' * len(block[::4096]); time.sleep(30)"
    )
    done = subprocess.run([sys.executable, "-c", code, event["marker"]], capture_output=True, timeout=60)
    return {"returncode": done.returncode}


def probe_forks(event: dict[str, Any]) -> dict[str, Any]:
    """Start processes until the kernel says no; how many it allowed (each execs sleep, so memory is no limit)."""
    children = []
    error = None
    try:
        for _ in range(event["up_to"]):
            children.append(os.posix_spawn("/bin/sleep", ["sleep", "30"], {}))
    except OSError as refused:
        error = f"{type(refused).__name__}: {refused}"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    return {"forked": len(children), "error": error}


def probe_connect(event: dict[str, Any]) -> dict[str, Any]:
    """Open a TCP connection to each (host, port)."""

    def connect(host: str, port: int) -> str:
        with socket.create_connection((host, port), timeout=2):
            return "connected"

    return {f"{host}:{port}": attempt(lambda h=host, p=port: connect(h, p)) for host, port in event["targets"]}


def probe_abstract_socket(event: dict[str, Any]) -> dict[str, Any]:
    """Connect to a host's abstract Unix socket."""

    def connect() -> str:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect("\0" + event["name"])
            return "connected"

    return attempt(connect)


def probe_listen(event: dict[str, Any]) -> dict[str, Any]:
    """Listen on a port of every address, and keep listening after returning."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", event["port"]))
    server.listen()
    KEEP.append(server)
    return {"listening": event["port"]}


def probe_sign_with(event: dict[str, Any]) -> dict[str, Any]:
    """List buckets with a key handed to the function (as if it had stolen it)."""
    import boto3

    key_id, secret = event["key"]
    s3 = boto3.client("s3", aws_access_key_id=key_id, aws_secret_access_key=secret)
    return attempt(lambda: [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]])


def probe_lake(event: dict[str, Any]) -> dict[str, Any]:
    """With its own key: read, write, copy, list and delete in each bucket named."""
    import boto3

    s3 = boto3.client("s3")
    found = {}
    for bucket in event["buckets"]:
        found[bucket] = {
            "put": attempt(lambda b=bucket: s3.put_object(Bucket=b, Key="probe/put.txt", Body=b"x") and "ok"),
            "get": attempt(lambda b=bucket: s3.get_object(Bucket=b, Key="seed.txt")["Body"].read().decode()),
            "list": attempt(lambda b=bucket: len(s3.list_objects_v2(Bucket=b).get("Contents", []))),
            "delete": attempt(lambda b=bucket: s3.delete_object(Bucket=b, Key="probe/put.txt") and "ok"),
        }
    if event.get("copy"):
        source, target = event["copy"]
        found["copy"] = attempt(
            lambda: (
                s3.copy_object(Bucket=target, Key="copied.txt", CopySource={"Bucket": source, "Key": "seed.txt"})
                and "ok"
            )
        )
    found["list_buckets"] = attempt(lambda: len(s3.list_buckets()["Buckets"]))
    return found


def probe_request(event: dict[str, Any]) -> dict[str, Any]:
    """Send a request made outside (headers and all) to the platform's API, through the sandbox's channel."""
    import http.client
    from urllib.parse import urlsplit

    endpoint = urlsplit(os.environ["AWS_ENDPOINT_URL"])
    connection = http.client.HTTPConnection(endpoint.hostname or "127.0.0.1", endpoint.port, timeout=10)
    connection.request(event["method"], event["path"], body=event.get("body", "").encode(), headers=event["headers"])
    answer = connection.getresponse()
    return {
        "status": answer.status,
        "body": answer.read().decode(errors="replace")[:2000],
        "headers": dict(answer.headers),
    }


def probe_signed_route(event: dict[str, Any]) -> dict[str, Any]:
    """Call a route under /api/, signed for execute-api with the function's own key."""
    import http.client
    from urllib.parse import urlsplit

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = os.environ["AWS_ENDPOINT_URL"] + event["path"]
    request = AWSRequest(method="POST", url=url, data=b"{}")
    credentials = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    SigV4Auth(credentials, "execute-api", os.environ["AWS_REGION"]).add_auth(request)
    endpoint = urlsplit(url)
    connection = http.client.HTTPConnection(endpoint.hostname or "127.0.0.1", endpoint.port, timeout=10)
    connection.request("POST", event["path"], body=b"{}", headers=dict(request.headers))
    answer = connection.getresponse()
    return {"status": answer.status, "reason": answer.getheader("x-alto-error", "")}


def probe_delete_objects(event: dict[str, Any]) -> dict[str, Any]:
    """DeleteObjects of several keys at once, with the function's own key."""
    import boto3

    s3 = boto3.client("s3")
    answer = s3.delete_objects(Bucket=event["bucket"], Delete={"Objects": [{"Key": key} for key in event["keys"]]})
    return {
        "deleted": sorted(item["Key"] for item in answer.get("Deleted", [])),
        "errors": {item["Key"]: item["Code"] for item in answer.get("Errors", [])},
    }


def probe_environment(event: dict[str, Any]) -> dict[str, Any]:
    """The function's environment as its handler sees it."""
    return {name: os.environ.get(name) for name in event["names"]}


PROBES = {name[len("probe_") :]: value for name, value in globals().items() if name.startswith("probe_")}


def handler(event: dict[str, Any], context: Any) -> Any:
    """Run the probe the event names."""
    return PROBES[event["probe"]](event)
