"""What one connection may hold up: the size and time of a request head, a stalled body, an answer nobody reads."""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from altostratus.core.errors import ConfigurationError
from altostratus.core.settings import Settings
from tests.api.errors import error_code
from tests.api.raw import read_until_closed, service_signed_headers, signed_headers
from tests.live_server import LiveServer, live_server

MIB = 1024 * 1024
HEAD_TIMEOUT = 1.0
STALL_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with short head and stall timeouts, so that tests need not wait 20 and 60 seconds."""
    env = {"ALTO_HTTP_HEAD_TIMEOUT_SECONDS": str(HEAD_TIMEOUT), "ALTO_HTTP_STALL_TIMEOUT_SECONDS": str(STALL_TIMEOUT)}
    with live_server(Path(tmp_path_factory.mktemp("quick")) / "data", env=env) as running:
        running.client("s3").create_bucket(Bucket="quick")
        yield running


class Probe:
    """Health checks in a thread, one after the other, noting the slowest."""

    def __init__(self, server: LiveServer) -> None:
        self._url = f"{server.endpoint}/_alto/health"
        self._stop = threading.Event()
        self.latencies: list[float] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            with urllib.request.urlopen(self._url, timeout=30) as answer:
                answer.read()
            self.latencies.append(time.monotonic() - started)
            time.sleep(0.01)

    def __enter__(self) -> Probe:
        self._thread.start()
        time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.2)
        self._stop.set()
        self._thread.join(30)


def upload_head(server: LiveServer, key: str, body: bytes) -> bytes:
    """A signed PUT's request line and headers for this body."""
    url = f"{server.endpoint}/quick/{key}"
    headers = signed_headers("PUT", url, access_key=server.access_key, secret_key=server.secret_key, body=body)
    headers |= {"Host": f"127.0.0.1:{server.port}", "Content-Length": str(len(body))}
    return (f"PUT /quick/{key} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()


# ---- the size of a request head -------------------------------------------------------------------------


def test_a_64_mib_header_is_refused_at_once_without_stalling_others(server: LiveServer) -> None:
    with Probe(server) as probe, socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            for _ in range(64):
                sock.sendall(b"a" * MIB)
            sock.sendall(b"\r\n\r\n")
        except OSError:
            pass  # refused while still sending: the answer came before the reset
        answer = read_until_closed(sock)
        seconds = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"<Code>RequestHeaderSectionTooLarge</Code>" in answer and b"32768 bytes" in answer
    assert seconds < 3, seconds
    assert probe.latencies and max(probe.latencies) < 1, max(probe.latencies)


def test_a_head_past_32_kib_is_refused_and_one_under_it_served(http: httpx.Client, server: LiveServer) -> None:
    health = f"{server.endpoint}/_alto/health"
    assert http.get(health, headers={"X-Pad": "p" * 20_000}).json() == {"status": "ok"}
    refused = http.get(health, headers={"X-Pad": "p" * 40_000})
    assert (refused.status_code, error_code(refused)) == (400, "RequestHeaderSectionTooLarge")
    assert refused.headers["connection"] == "close"
    long_url = http.get(f"{health}?pad={'q' * 40_000}")
    assert (long_url.status_code, error_code(long_url)) == (400, "RequestHeaderSectionTooLarge")
    assert http.get(health).json() == {"status": "ok"}


# ---- the time of a request head -------------------------------------------------------------------------


def test_slowloris_connections_are_closed_after_the_head_timeout(quick: LiveServer) -> None:
    closed: dict[int, tuple[float, bytes]] = {}
    started = time.monotonic()

    def loris(n: int) -> None:
        with socket.create_connection(("127.0.0.1", quick.port), timeout=0.25) as sock:
            sock.sendall(b"GET /_alto/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            while time.monotonic() - started < 30:
                try:
                    sock.sendall(b"a")  # one byte every quarter second, for ever
                    answer = sock.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    answer = b""
                closed[n] = (time.monotonic() - started, answer)
                return

    threads = [threading.Thread(target=loris, args=(n,), daemon=True) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    assert len(closed) == 50
    assert all(HEAD_TIMEOUT * 0.9 < seconds < HEAD_TIMEOUT + 4 for seconds, _ in closed.values()), closed
    answered = [answer for _, answer in closed.values() if answer]
    assert answered and all(b"<Code>RequestTimeout</Code>" in answer for answer in answered)


def test_an_idle_connection_is_closed(quick: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", quick.port), timeout=10) as sock:
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert time.monotonic() - started < HEAD_TIMEOUT + 3
    # The same after an answer, while the connection is kept alive for a next request that never comes.
    with socket.create_connection(("127.0.0.1", quick.port), timeout=10) as sock:
        sock.sendall(b"GET /_alto/health HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        assert read_until_closed(sock).startswith(b"HTTP/1.1 200 ")
        assert time.monotonic() - started < HEAD_TIMEOUT + 3


# ---- bodies and answers ---------------------------------------------------------------------------------


def test_a_slow_but_steady_upload_is_not_cut(quick: LiveServer) -> None:
    body = os.urandom(MIB)
    with socket.create_connection(("127.0.0.1", quick.port), timeout=30) as sock:
        sock.sendall(upload_head(quick, "steady", body))
        started = time.monotonic()
        for offset in range(0, len(body), 64 * 1024):  # 16 pieces, 0.3 s apart: longer than both timeouts
            sock.sendall(body[offset : offset + 64 * 1024])
            time.sleep(0.3)
        assert sock.recv(100).startswith(b"HTTP/1.1 200 ")
        assert time.monotonic() - started > 2 * STALL_TIMEOUT
    assert quick.client("s3").get_object(Bucket="quick", Key="steady")["Body"].read() == body


def test_a_stalled_body_gets_request_timeout(quick: LiveServer) -> None:
    body = os.urandom(MIB)
    with socket.create_connection(("127.0.0.1", quick.port), timeout=30) as sock:
        sock.sendall(upload_head(quick, "stalled", body) + body[: MIB // 2])
        started = time.monotonic()
        answer = read_until_closed(sock)
        assert STALL_TIMEOUT * 0.9 < time.monotonic() - started < STALL_TIMEOUT + 3
    assert answer.startswith(b"HTTP/1.1 400 ") and b"<Code>RequestTimeout</Code>" in answer
    keys = quick.client("s3").list_objects_v2(Bucket="quick").get("Contents", [])
    assert "stalled" not in {o["Key"] for o in keys}


def test_an_answer_nobody_reads_is_cut(quick: LiveServer) -> None:
    s3 = quick.client("s3")
    s3.put_object(Bucket="quick", Key="big", Body=b"b" * (64 * MIB))
    url = f"{quick.endpoint}/quick/big"
    headers = signed_headers("GET", url, access_key=quick.access_key, secret_key=quick.secret_key)
    headers["Host"] = f"127.0.0.1:{quick.port}"
    log = quick.data_dir.parent / f"{quick.data_dir.name}.log"
    with socket.create_connection(("127.0.0.1", quick.port), timeout=30) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(("GET /quick/big HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())).encode())
        sock.sendall(b"\r\n")
        time.sleep(STALL_TIMEOUT + 2)
        received = len(read_until_closed(sock))
    assert 0 < received < 64 * MIB
    assert "took none of its answer for 1.5 seconds" in log.read_text()
    assert s3.head_object(Bucket="quick", Key="big")["ContentLength"] == 64 * MIB


def test_boto3_traffic_and_64_mib_objects_pass_the_short_timeouts(quick: LiveServer, tmp_path: Path) -> None:
    s3: Any = quick.client("s3")
    data = os.urandom(64 * MIB)
    s3.put_object(Bucket="quick", Key="whole", Body=data)
    assert s3.get_object(Bucket="quick", Key="whole")["Body"].read() == data
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    s3.upload_file(str(source), "quick", "multipart")
    s3.download_file("quick", "multipart", str(tmp_path / "copy.bin"))
    assert (tmp_path / "copy.bin").read_bytes() == data


def test_the_timeouts_are_settings(tmp_path: Path) -> None:
    settings = Settings.load({}, config_file=tmp_path / "absent.toml", data_dir=tmp_path)
    assert (settings.http_head_timeout_seconds, settings.http_stall_timeout_seconds) == (20.0, 60.0)
    with pytest.raises(ConfigurationError, match=r"http_stall_timeout_seconds=0\.0; expected a number of seconds"):
        Settings.load({"ALTO_HTTP_STALL_TIMEOUT_SECONDS": "0"}, config_file=tmp_path / "absent.toml", data_dir=tmp_path)


# ---- clients that go away -------------------------------------------------------------------------------


def test_a_client_gone_mid_body_is_logged_as_a_disconnect(quick: LiveServer) -> None:
    log = quick.data_dir.parent / f"{quick.data_dir.name}.log"
    before = log.stat().st_size
    body = os.urandom(MIB)
    invoke = f"{quick.endpoint}/2015-03-31/functions/f/invocations"
    lambda_headers = service_signed_headers(
        "POST", invoke, "lambda", access_key=quick.access_key, secret_key=quick.secret_key, body=body
    )
    lambda_head = "".join(f"{k}: {v}\r\n" for k, v in lambda_headers.items())
    heads = [
        upload_head(quick, "cut", body),
        (
            f"POST /2015-03-31/functions/f/invocations HTTP/1.1\r\nHost: 127.0.0.1:{quick.port}\r\n"
            f"Content-Length: {len(body)}\r\n{lambda_head}\r\n"
        ).encode(),
    ]
    for head in heads:
        with socket.create_connection(("127.0.0.1", quick.port), timeout=10) as sock:
            sock.sendall(head + body[: MIB // 4])
            time.sleep(0.3)
    deadline = time.monotonic() + 10
    while log.read_text()[before:].count("disconnected during") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    written = log.read_text()[before:]
    assert "disconnected during PUT /quick/cut" in written
    assert "disconnected during POST /2015-03-31/functions/f/invocations" in written
    assert "Traceback" not in written and "internal error" not in written
    assert len(written.strip().splitlines()) == 2
    keys = quick.client("s3").list_objects_v2(Bucket="quick").get("Contents", [])
    assert "cut" not in {o["Key"] for o in keys}
