"""Hostile functions against a real `alto serve`: each test has a deployed function try what it must not do.

The function is tests/api/hostile_function.py, deployed unchanged through boto3 and run in the sandbox every
function gets by default. The tests then look from outside (the host's /proc, its sockets, the lake) to see that
the attempt failed and left nothing behind.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from altostratus.auth.keys import KeyStore
from altostratus.core.clock import SystemClock
from altostratus.functions.access import CACHE_SECONDS as ACCESS_CACHE_SECONDS
from altostratus.functions.registry import FunctionRegistry
from altostratus.functions.sandbox import probe
from altostratus.storage.metadata import MetadataStore
from tests.api.function_tools import create_function, grant_lake
from tests.functions.runtime.helpers import all_gone_soon
from tests.functions.wheels import make_zip
from tests.live_server import ALTO, LiveServer, free_port, live_server

HOSTILE_SOURCE = (Path(__file__).parent / "hostile_function.py").read_text()
HOSTILE = make_zip({"app.py": HOSTILE_SOURCE})
VICTIM_SECRET = f"victim-secret-{uuid.uuid4().hex}"
VICTIM = make_zip({"app.py": "import os\ndef handler(event, context):\n    return os.environ['DB_PASSWORD']\n"})

pytestmark = pytest.mark.skipif(not probe().ok, reason=f"sandboxes cannot be made here: {probe().problems}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with its defaults: every function sandboxed, every function's key scoped to its triggers."""
    with live_server(tmp_path_factory.mktemp("hostile") / "data") as running:
        lam = running.client("lambda")
        create_function(lam, "victim", VICTIM, Environment={"Variables": {"DB_PASSWORD": VICTIM_SECRET}})
        assert json.loads(lam.invoke(FunctionName="victim")["Payload"].read()) == VICTIM_SECRET  # warm and running
        create_function(lam, "hostile", HOSTILE, Timeout=20, MemorySize=128)
        yield running


@pytest.fixture(scope="module")
def lam(server: LiveServer) -> Any:
    """The admin's lambda client, with time for slow probes."""
    return server.client("lambda", read_timeout=120)


def run(lam: Any, probe_name: str, **arguments: Any) -> Any:
    """Invoke the hostile function's probe; what it reported (the error document if the invocation failed)."""
    answer = lam.invoke(FunctionName="hostile", Payload=json.dumps({"probe": probe_name, **arguments}).encode())
    return json.loads(answer["Payload"].read())


def refused(outcome: dict[str, Any]) -> bool:
    """Whether a probe's attempt failed."""
    return outcome["ok"] is False


def code_folder(server: LiveServer, lam: Any, name: str) -> Path:
    """Where a function's unpacked code is on the host."""
    sha = lam.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    return server.data_dir / "functions" / "code" / base64.b64decode(sha).hex()


def test_it_cannot_read_the_data_directory_or_another_functions_code(server: LiveServer, lam: Any) -> None:
    victim_code = code_folder(server, lam, "victim")
    assert (victim_code / "app.py").exists(), "the victim's code is on the host"
    paths = [
        server.data_dir / "credentials",
        server.data_dir / "metadata.db",
        server.data_dir,
        victim_code / "app.py",
        Path("/etc/shadow"),
        Path("/home"),
    ]
    seen = run(lam, "read", paths=[str(path) for path in [*paths, Path.home()]])
    home = seen.pop(str(Path.home()))
    assert all(refused(outcome) for outcome in seen.values()), seen
    runtime = (
        {Path(sys.base_prefix).relative_to(Path.home()).parts[0]}
        if Path.home() in Path(sys.base_prefix).parents
        else set()
    )
    assert refused(home) or set(home["value"]) <= runtime, "the home folder shows at most the interpreter's path"


def test_it_sees_only_its_own_processes_and_cannot_reach_the_servers(server: LiveServer, lam: Any) -> None:
    assert server.process is not None
    seen = run(lam, "processes", server_pid=server.process.pid)
    assert seen["pids"] == [1, 2], "bubblewrap's init and the worker: no process of the host or another function"
    for attempt_name in ("environ", "mem", "pidfd_open", "kill"):
        assert refused(seen[attempt_name]), (attempt_name, seen[attempt_name])
    assert refused(seen["init_environ"]), "not even the sandbox's own init, which belongs to root"


def test_another_functions_environment_is_nowhere_in_reach(lam: Any) -> None:
    seen = run(lam, "read", paths=["/proc/1/environ", "/proc/2/environ", "/proc/self/environ"])
    assert VICTIM_SECRET not in json.dumps(seen)
    assert refused(seen["/proc/1/environ"]) and not refused(seen["/proc/self/environ"])


def test_it_runs_unprivileged_and_cannot_gain_privileges(lam: Any) -> None:
    seen = run(lam, "identity")
    assert seen["uid"] != 0 and seen["euid"] != 0
    assert set(seen["caps"].values()) == {"0000000000000000"}, "no capability of any kind"
    assert seen["no_new_privs"] == "1" and seen["seccomp"] == "2"
    assert refused(seen["setuid_root"])
    assert refused(seen["user_namespace"]) and "Operation not permitted" in seen["user_namespace"]["error"]
    assert seen["sudo_like"]["ok"] is False or seen["sudo_like"]["value"] != 0, "su must not work"


def test_it_can_write_only_its_own_tmp(server: LiveServer, lam: Any) -> None:
    paths = ["/var/task/x", "/x", "/usr/x", "/etc/x", "/opt/x", "/dev/x", "/run/alto/x", str(server.data_dir / "x")]
    seen = run(lam, "write", paths=[*paths, "/tmp/mine"])
    assert seen.pop("/tmp/mine") == {"ok": True, "value": "written"}
    assert all(refused(outcome) for outcome in seen.values()), seen
    assert not (server.data_dir / "x").exists()


@pytest.mark.slow
def test_its_tmp_is_capped_at_its_ephemeral_storage(lam: Any) -> None:
    seen = run(lam, "fill_tmp", up_to=700 * 1024 * 1024)
    assert seen["error"] is not None and "No space left on device" in seen["error"]
    assert 500 * 1024 * 1024 <= seen["written"] <= 512 * 1024 * 1024


def test_no_process_outlives_the_invocation_that_started_it(lam: Any) -> None:
    marker = f"3600.{uuid.uuid4().int % 10**9}"
    assert run(lam, "daemon", marker=marker) == {"left": marker}
    assert all_gone_soon(marker), "the double-forked, setsid daemon was killed when the handler returned"
    answer = lam.invoke(FunctionName="hostile", Payload=b'{"probe": "read", "paths": []}', LogType="Tail")
    assert "Init Duration" not in base64.b64decode(answer["LogResult"]).decode(), "its worker was kept warm"


def test_no_process_outlives_a_timeout(lam: Any) -> None:
    marker = f"3601.{uuid.uuid4().int % 10**9}"
    lam.update_function_configuration(FunctionName="hostile", Timeout=2)
    try:
        document = run(lam, "daemon", marker=marker, hang=True)
    finally:
        lam.update_function_configuration(FunctionName="hostile", Timeout=20)
    assert document["errorType"] == "Sandbox.Timedout"
    assert all_gone_soon(marker)


def test_a_child_process_cannot_take_more_memory_than_the_function_has(lam: Any) -> None:
    marker = f"memory-{uuid.uuid4().hex}"
    document = run(lam, "child_memory", bytes=1024**3, marker=marker)
    assert document["errorType"] == "Runtime.OutOfMemory", document
    assert all_gone_soon(marker)


def test_it_cannot_fork_past_the_process_limit(lam: Any) -> None:
    lam.update_function_configuration(FunctionName="hostile", MemorySize=2048)  # room for 1,024 sleeps
    try:
        seen = run(lam, "forks", up_to=3000)
    finally:
        lam.update_function_configuration(FunctionName="hostile", MemorySize=128)
    assert seen["forked"] < 1024, seen
    assert seen["error"] is not None and "Resource temporarily unavailable" in seen["error"]
    assert run(lam, "read", paths=["/tmp"])["/tmp"]["ok"], "the worker still serves after it"


def test_it_reaches_no_host_port_but_the_api_channel(server: LiveServer, lam: Any) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        host_port = listener.getsockname()[1]
        seen = run(lam, "connect", targets=[["127.0.0.1", host_port], ["127.0.0.1", server.port], ["192.0.2.1", 80]])
    assert refused(seen[f"127.0.0.1:{host_port}"]), "a host listener on loopback"
    assert seen[f"127.0.0.1:{server.port}"] == {"ok": True, "value": "connected"}, "the API, through its channel"
    assert "Network is unreachable" in seen["192.0.2.1:80"]["error"], "no route out without a VpcConfig"


def test_it_has_no_route_to_the_hosts_other_addresses(server: LiveServer, lam: Any) -> None:
    addresses = sorted(_host_addresses() - {"127.0.0.1"})
    if not addresses:
        pytest.skip("this machine has no address but loopback")
    # No packet leaves: without a VpcConfig the sandbox has no route at all, so connect() fails at once.
    seen = run(lam, "connect", targets=[[address, server.port] for address in addresses])
    assert all("Network is unreachable" in outcome["error"] for outcome in seen.values()), seen


def _host_addresses() -> set[str]:
    """The host's own IPv4 addresses: its hostname's, and the one it would send from (a UDP connect sends nothing)."""
    found = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, contextlib.suppress(OSError):
        probe.connect(("192.0.2.1", 9))
        found.add(probe.getsockname()[0])
    return {str(address) for address in found}


def test_it_cannot_reach_the_hosts_abstract_unix_sockets(lam: Any) -> None:
    name = f"alto-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind("\0" + name)
        listener.listen()
        assert refused(run(lam, "abstract_socket", name=name))


def test_a_port_it_listens_on_is_not_reachable_from_the_host(lam: Any) -> None:
    port = free_port()
    assert run(lam, "listen", port=port) == {"listening": port}
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_it_cannot_sign_with_any_key_but_its_own(server: LiveServer, lam: Any) -> None:
    store = MetadataStore(f"sqlite:///{server.data_dir / 'metadata.db'}")
    try:
        victim = KeyStore(store, SystemClock()).get(FunctionRegistry(store).access_key_id("victim"))
    finally:
        store.close()
    assert victim is not None
    for key in ([server.access_key, server.secret_key], [victim.access_key_id, victim.secret_access_key]):
        seen = run(lam, "sign_with", key=key)
        assert refused(seen) and "AccessDenied" in seen["error"], seen
        assert "may not be signed with another key" in seen["error"]


def test_its_key_reaches_its_triggers_bucket_and_no_other(server: LiveServer, lam: Any) -> None:
    s3 = server.client("s3")
    trigger, other = f"in-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    for bucket in (trigger, other):
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="seed.txt", Body=b"seed")
    arn = lam.get_function(FunctionName="hostile")["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=trigger,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": _prefix("never/")}
            ]
        },
    )
    seen = run(lam, "lake", buckets=[trigger, other], copy=[other, trigger])
    assert {name: outcome["ok"] for name, outcome in seen[trigger].items()} == dict.fromkeys(
        ("put", "get", "list", "delete"), True
    ), seen[trigger]
    assert all(refused(outcome) and "AccessDenied" in outcome["error"] for outcome in seen[other].values())
    assert refused(seen["copy"]), "copying needs read access to the source too"
    assert refused(seen["list_buckets"])
    with contextlib.suppress(Exception):
        s3.head_object(Bucket=other, Key="probe/put.txt")
        pytest.fail("the refused PutObject wrote nothing")

    grant_lake(server, "hostile", other, after_use=True)
    widened = run(lam, "lake", buckets=[other], copy=[other, trigger])
    assert all(outcome["ok"] for outcome in widened[other].values()), widened
    assert widened["copy"]["ok"]


def _prefix(prefix: str) -> dict[str, Any]:
    return {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}


def test_outbound_network_still_keeps_the_hosts_loopback_out(server: LiveServer, lam: Any) -> None:
    lam.update_function_configuration(FunctionName="hostile", VpcConfig={"SubnetIds": ["subnet-1"]})
    try:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            port = listener.getsockname()[1]
            seen = run(lam, "connect", targets=[["127.0.0.1", port], ["10.0.2.2", port], ["127.0.0.1", server.port]])
    finally:
        lam.update_function_configuration(FunctionName="hostile", VpcConfig={"SubnetIds": []})
    assert refused(seen[f"127.0.0.1:{port}"]), "its loopback is still its own"
    assert refused(seen[f"10.0.2.2:{port}"]), "slirp4netns's way to the host's loopback is closed"
    assert seen[f"127.0.0.1:{server.port}"] == {"ok": True, "value": "connected"}, "the API channel still works"


PRELOAD_SOURCE = """
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void planted(void) {
    const char *where = getenv("ALTO_TEST_MARKER");
    if (where) { FILE *f = fopen(where, "w"); if (f) { fputs("ran", f); fclose(f); } }
}
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build the library a function would preload")
def test_a_preloaded_library_never_runs_outside_the_sandbox(server: LiveServer, lam: Any, tmp_path: Path) -> None:
    source = tmp_path / "planted.c"
    source.write_text(PRELOAD_SOURCE)
    library = tmp_path / "planted.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    code = make_zip({"app.py": HOSTILE_SOURCE, "planted.so": library.read_bytes()})
    create_function(lam, "preloader", code)
    marker = Path(tempfile.gettempdir()) / f"alto-preload-{uuid.uuid4().hex}"
    # The library at its place on the host (the code's folder is named by its hash): had bubblewrap or setpriv,
    # which run with privileges, seen the function's environment, it would have run there, as root.
    variables = {
        "LD_PRELOAD": str(code_folder(server, lam, "preloader") / "planted.so"),
        "ALTO_TEST_MARKER": str(marker),
    }
    lam.update_function_configuration(FunctionName="preloader", Environment={"Variables": variables})
    try:
        answer = lam.invoke(
            FunctionName="preloader", Payload=json.dumps({"probe": "environment", "names": list(variables)})
        )
        assert json.loads(answer["Payload"].read()) == variables, "the handler still sees its variables"
        assert not marker.exists(), "the library ran on the host, outside the sandbox"
    finally:
        marker.unlink(missing_ok=True)


def test_no_request_through_its_channel_passes_for_another_key(server: LiveServer, lam: Any) -> None:
    url = f"{server.endpoint}/"
    sigv2 = AWSRequest(method="GET", url=url, headers={"Date": formatdate(usegmt=True)})
    HmacV1Auth(Credentials(server.access_key, server.secret_key)).add_auth(sigv2)
    headers = dict(sigv2.headers)
    function_key = lam.get_function_configuration(FunctionName="hostile")["FunctionArn"]  # any id will do below
    stray = "X-Amz-Credential=" + quote("AKIAFUNCTIONKEY00000/20260101/us-east-1/s3/aws4_request", safe="")
    for path in ("/", f"/?{stray}"):
        seen = run(lam, "request", method="GET", path=path, headers=headers)
        assert seen["status"] in (400, 403), (path, seen)
        assert "<ListAllMyBucketsResult" not in seen["body"], "the admin's key was used from inside the sandbox"
    assert function_key


def test_delete_objects_is_checked_key_by_key_against_its_policy(server: LiveServer, lam: Any) -> None:
    s3 = server.client("s3")
    bucket = f"keep-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    for key in ("protected/a", "free/b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/protected/*"},
        ]
    }
    set_access(server, "hostile", policy)
    seen = run(lam, "delete_objects", bucket=bucket, keys=["protected/a", "free/b"])
    assert seen == {"deleted": ["free/b"], "errors": {"protected/a": "AccessDenied"}}
    assert s3.head_object(Bucket=bucket, Key="protected/a")["ContentLength"] == 1


def test_a_route_denied_by_its_policy_stays_denied_however_its_path_is_spelt(server: LiveServer, lam: Any) -> None:
    create_function(lam, "admin-page", make_zip({"app.py": "def handler(e, c):\n    return {'statusCode': 200}\n"}))
    done = subprocess.run(
        [ALTO, "routes", "add", "POST", "/admin", "--function", "admin-page", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    denied = "arn:aws:execute-api:us-east-1:000000000000:alto/$default/POST/admin"
    policy = {
        "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": denied},
        ]
    }
    set_access(server, "hostile", policy)
    time.sleep(2.1)  # the server's route table is read again within 2 s
    for path in ("/api/admin", "/api/adm%69n"):
        seen = run(lam, "signed_route", path=path)
        assert seen["status"] == 403 and "does not allow execute-api:Invoke" in seen["reason"], (path, seen)


def set_access(server: LiveServer, name: str, policy: dict[str, Any]) -> None:
    """Replace a function's access policy with the CLI and wait out the server's cache of it."""
    done = subprocess.run(
        [ALTO, "functions", "access", "set", name, json.dumps(policy), "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    time.sleep(ACCESS_CACHE_SECONDS + 0.1)
