"""Routes benchmark: latency of a warm trivial function called through a route (HTTP, API Gateway v2 event)
beside the same function called through the Lambda API (boto3 Invoke), on one `alto serve` in the same run.

Both sides run one request at a time over a kept-alive loopback connection, alternating in rounds so that
noise on the machine hits both alike; a warm-up first makes sure the function's worker is running.

    python benchmarks/routes.py [--requests N] [--rounds R] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.functions.wheels import make_zip
from tests.live_server import live_server

from altostratus.cli.options import open_metadata
from altostratus.core.clock import SystemClock
from altostratus.functions.routes import RouteStore

CODE = make_zip({"app.py": "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"})
WARM_UP = 50


def timed(call: Callable[[], None], count: int) -> list[float]:
    """Milliseconds each of count calls took."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def percentile(samples: list[float], share: float) -> float:
    """The share-th percentile (0..1), nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per side per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "data") as server:
        server.client("lambda").create_function(
            FunctionName="bench",
            Runtime="python3.11",
            Role="arn:aws:iam::000000000000:role/bench",
            Handler="app.handler",
            Code={"ZipFile": CODE},
        )
        with open_metadata(server.data_dir) as metadata:
            RouteStore(metadata, SystemClock()).add("GET", "/bench", function="bench", public=True)
        lam = server.client("lambda")
        with httpx.Client(base_url=server.endpoint) as http:

            def route() -> None:
                answer = http.get("/api/bench")
                assert answer.status_code == 200 and answer.content == b"ok", answer.text

            def invoke() -> None:
                answer = lam.invoke(FunctionName="bench", Payload=b"{}")
                assert "FunctionError" not in answer, answer
                answer["Payload"].read()

            deadline = time.monotonic() + 10
            while http.get("/api/bench").status_code != 200:
                assert time.monotonic() < deadline, "the route did not appear within 10 s"
                time.sleep(0.1)
            timed(route, WARM_UP)
            timed(invoke, WARM_UP)
            sides: dict[str, list[float]] = {"route (httpx, GET /api/bench)": [], "Lambda Invoke (boto3)": []}
            for _ in range(args.rounds):
                sides["route (httpx, GET /api/bench)"] += timed(route, args.requests)
                sides["Lambda Invoke (boto3)"] += timed(invoke, args.requests)
    figures: dict[str, Any] = {
        name: {
            "requests": len(samples),
            "p50_ms": round(statistics.median(samples), 2),
            "p99_ms": round(percentile(samples, 0.99), 2),
            "mean_ms": round(statistics.fmean(samples), 2),
        }
        for name, samples in sides.items()
    }
    print(f"{'side':34} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, row in figures.items():
        print(f"{name:34} {row['requests']:8} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row['mean_ms']:8.2f}")
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": _cpus()}
    print(f"machine: {machine}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "machine": machine}, indent=2))


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
