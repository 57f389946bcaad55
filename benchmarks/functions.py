"""Functions benchmark: what the service is for, beside a baseline in the same run.

- Warm Invoke latency (p50/p99) of a trivial handler through boto3's lambda client over loopback HTTP, beside
  the same handler called directly in-process (the baseline) and through the worker runtime alone (no HTTP).
- Event throughput (events run per second) and the time from an S3 PutObject, an Event Invoke and a
  RequestResponse Invoke to the handler starting (benchmarks/_triggers.py).

    python benchmarks/functions.py [--invokes N] [--uploads N] [--events N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.function_tools import create_function, eventually
from tests.functions.wheels import make_zip
from tests.live_server import live_server

from benchmarks import _triggers

SOURCE = "def handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n"


def summary(samples: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 3),
    }


def timed(count: int, call: Callable[[int], object]) -> list[float]:
    """Wall time of each of count calls."""
    samples = []
    for n in range(count):
        start = time.perf_counter()
        call(n)
        samples.append(time.perf_counter() - start)
    return samples


def in_process(count: int) -> list[float]:
    """The handler called as a plain Python function: the floor."""
    namespace: dict[str, Any] = {}
    exec(compile(SOURCE, "app.py", "exec"), namespace)
    handler = namespace["handler"]
    return timed(count, lambda n: json.dumps(handler(json.loads(json.dumps({"n": n})), None)))


def through_runtime(count: int, work: Path) -> list[float]:
    """The handler run by the worker runtime (a warm isolated process), without HTTP."""
    from altostratus.functions.model import Invocation, RunSpec
    from altostratus.functions.runtime import ProcessRuntime, WorkerOptions
    from altostratus.functions.runtime.process import unsandboxed_host

    code = work / "code"
    code.mkdir()
    (code / "app.py").write_text(SOURCE)
    spec = RunSpec("bench", "$LATEST", "app.handler", code, None, {}, 30, 256)
    with ProcessRuntime(WorkerOptions(unsandboxed_host())) as runtime:
        runtime.run(spec, Invocation(str(uuid.uuid4()), b"{}"))
        return timed(count, lambda n: runtime.run(spec, Invocation(str(uuid.uuid4()), b'{"n": %d}' % n)))


def through_boto3(count: int, work: Path) -> list[float]:
    """lambda.invoke (RequestResponse) against `alto serve` over loopback HTTP."""
    with live_server(work / "data") as server:
        lam = server.client("lambda")
        create_function(lam, "bench", code=make_zip({"app.py": SOURCE}), MemorySize=256)
        eventually(lambda: lam.get_function(FunctionName="bench")["Configuration"]["State"] == "Active")
        for _ in range(20):
            lam.invoke(FunctionName="bench", Payload=b"{}")
        return timed(count, lambda n: lam.invoke(FunctionName="bench", Payload=b'{"n": %d}' % n)["Payload"].read())


def run(invokes: int, uploads: int, events: int) -> dict[str, Any]:
    """Every figure of this benchmark."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "runtime").mkdir()
        (work / "http").mkdir()
        results: dict[str, Any] = {
            "invoke_in_process": summary(in_process(invokes * 10)),
            "invoke_runtime_only": summary(through_runtime(invokes, work / "runtime")),
            "invoke_boto3_http": summary(through_boto3(invokes, work / "http")),
        }
    results["triggers"] = _triggers.run(uploads, events)
    return results


def main(argv: list[str] | None = None) -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--invokes", type=int, default=500, help="warm invocations timed one by one [500]")
    parser.add_argument("--uploads", type=int, default=50, help="uploads timed for PutObject → handler [50]")
    parser.add_argument("--events", type=int, default=300, help="Event invocations for throughput [300]")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    results = run(args.invokes, args.uploads, args.events)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
