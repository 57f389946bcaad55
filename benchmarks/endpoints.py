"""Endpoints benchmark: InvokeEndpoint with one variant, two variants and two plus a shadow, beside calling
the model directly in-process, in the same run.

Two parts, each one request at a time, the sides alternating in rounds so that noise hits them alike:
- in-process: `Predictor.predict(record)` (the model alone) beside `EndpointRuntime.invoke` (routing,
  body parsing, the answer's JSON, statistics, the shadow copy) on the same model: the difference of the
  medians is the routing layer's overhead, whose target is under 0.5 ms;
- over HTTP: boto3 `sagemaker-runtime` InvokeEndpoint against a real `alto serve` (the model trained
  through the Amazon ML API, registered in the model registry, deployed with CreateModel /
  CreateEndpointConfig / CreateEndpoint), with requests per second from the same sequential calls.
The model is a binary SGD model on generated data (a number, a category and a short text).

    python benchmarks/endpoints.py [--requests N] [--rounds R] [--skip-http] [--json OUT]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.deploy.hosting_harness import HostingHarness, records, trained
from tests.predict.conftest import synthetic_csv

from altostratus.deploy.serving import InvocationRequest

WARM_UP = 100
BASELINE = "model alone (in-process)"
HTTP_BASELINE = "model alone (in-process, beside the server)"
LAYOUTS = {
    "one variant": ({"a": ("good", 1.0)}, {}),
    "two variants (90/10)": ({"a": ("good", 90.0), "b": ("good", 10.0)}, {}),
    "two variants + shadow": ({"a": ("good", 90.0), "b": ("good", 10.0)}, {"dark": "good"}),
}


def timed(call: Callable[[], object], count: int) -> list[float]:
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


def in_process(requests: int, rounds: int) -> dict[str, list[float]]:
    """Samples of the model alone and of each endpoint layout, through the routing layer."""
    record = records(1, seed=1)[0]
    body = json.dumps(record).encode()
    model = trained("good")
    sides: dict[str, list[float]] = {BASELINE: []}
    calls: dict[str, Callable[[], object]] = {BASELINE: lambda: model.predict(record)}
    with tempfile.TemporaryDirectory() as folder:
        hosting = HostingHarness(Path(folder))
        try:
            for n, (layout, (variants, shadows)) in enumerate(LAYOUTS.items()):
                name = f"bench{n}"
                hosting.endpoint(name, variants, shadows)
                request = InvocationRequest(name, body, inference_id="bench", content_type="application/json")
                side = f"routed, {layout} (in-process)"
                sides[side] = []
                calls[side] = lambda request=request: hosting.runtime.invoke(request)  # type: ignore[misc]
            for call in calls.values():
                timed(call, WARM_UP)
            for _ in range(rounds):
                for side, call in calls.items():
                    sides[side] += timed(call, requests)
                    hosting.runtime.drain_shadows(30)
                    hosting.recorder.flush()
        finally:
            hosting.close()
    return sides


def over_http(requests: int, rounds: int) -> dict[str, list[float]]:
    """Samples of boto3 InvokeEndpoint for each layout against a live server, and the model alone beside it."""
    from tests.api.test_sagemaker_endpoints import deploy_stack  # a live server, a trained model, the registry
    from tests.live_server import live_server

    record = records(1, seed=1)[0]
    body = json.dumps(record).encode()
    sides: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "data") as server:
        stack = deploy_stack(server, synthetic_csv(400, seed=5))
        runtime = server.client("sagemaker-runtime")
        sagemaker = server.client("sagemaker")
        calls: dict[str, Callable[[], object]] = {
            HTTP_BASELINE: lambda: stack.predictor.predict(record),
            "ListEndpoints, a trivial call (boto3, HTTP)": lambda: sagemaker.list_endpoints(MaxResults=1),
        }
        for n, (layout, (variants, shadows)) in enumerate(LAYOUTS.items()):
            name = f"http{n}"
            stack.endpoint(name, {v: w for v, (_, w) in variants.items()}, list(shadows))

            def invoke(name: str = name) -> None:
                answer = runtime.invoke_endpoint(EndpointName=name, Body=body, ContentType="application/json")
                answer["Body"].read()

            calls[f"InvokeEndpoint, {layout} (boto3, HTTP)"] = invoke
        for call in calls.values():
            timed(call, WARM_UP)
        for _ in range(rounds):
            for side, call in calls.items():
                sides.setdefault(side, []).extend(timed(call, requests))
    return sides


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per side per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-http", action="store_true", help="only the in-process part")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    sides = in_process(args.requests, args.rounds)
    if not args.skip_http:
        sides.update(over_http(max(1, args.requests // 4), args.rounds))
    figures: dict[str, Any] = {
        name: {
            "requests": len(samples),
            "per_second": round(len(samples) / (sum(samples) / 1000), 1),
            "p50_ms": round(statistics.median(samples), 3),
            "p99_ms": round(percentile(samples, 0.99), 3),
        }
        for name, samples in sides.items()
    }
    print(f"{'side':58} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p50 - model':>11}")
    for name, row in figures.items():
        # Each part's sides are compared with the model alone measured in the same part.
        http_part = name == HTTP_BASELINE or "HTTP" in name
        alone = figures[HTTP_BASELINE if http_part else BASELINE]["p50_ms"]
        row["p50_overhead_ms"] = round(row["p50_ms"] - alone, 3)
        print(
            f"{name:58} {row['requests']:8} {row['per_second']:8.1f} {row['p50_ms']:8.3f} {row['p99_ms']:8.3f} "
            f"{row['p50_overhead_ms']:11.3f}"
        )
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": len(os.sched_getaffinity(0))}
    print(f"machine: {machine}")
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "machine": machine}, indent=2))


if __name__ == "__main__":
    main()
