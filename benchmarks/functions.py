"""Functions benchmark: what the service is for, with the sandbox beside the old unsandboxed runtime, in one run.

- Warm Invoke latency (p50/p99) of a trivial handler through boto3's lambda client over loopback HTTP, against
  a server whose functions run sandboxed (the default) and one started with --insecure-functions-unsandboxed;
  beside them the same handler called in-process (the floor) and through the worker runtime alone (no HTTP),
  sandboxed and not.
- Cold start (p50/p99): the first invocation of a new configuration, through the runtime alone and through boto3
  (after UpdateFunctionConfiguration, which retires the warm worker), sandboxed and not.
- Event throughput and the time from an S3 PutObject, an Event Invoke and a RequestResponse Invoke to the
  handler starting, on a sandboxed server (benchmarks/_triggers.py).

    python benchmarks/functions.py [--invokes N] [--colds N] [--uploads N] [--events N] [--json OUT]
"""

from __future__ import annotations

import argparse
import dataclasses
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

from altostratus.core.settings import SANDBOX_UIDS, Settings
from altostratus.functions.definitions import Invocation, RunSpec
from altostratus.functions.runtime import ProcessRuntime, WorkerOptions
from altostratus.functions.runtime.host import WorkerHost
from altostratus.functions.runtime.process import WORKER_PROGRAM, unsandboxed_host
from altostratus.functions.sandbox import probe, sandbox_host
from benchmarks import _triggers

SOURCE = "def handler(event, context):\n    return {'ok': True, 'n': event.get('n')}\n"
HOSTS = ("sandboxed", "unsandboxed")


def summary(samples: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000, 3),
        "n": len(ordered),
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


def worker_host(kind: str) -> WorkerHost:
    """The runtime's host: a sandbox per worker as `alto serve` makes them, or plain processes."""
    if kind == "unsandboxed":
        return unsandboxed_host()
    support = probe()
    if not support.ok:
        raise SystemExit(f"sandboxes cannot be made here: {support.problems}")
    base = Settings.load({}, data_dir=Path("/nonexistent")).functions_sandbox_uid_base
    return sandbox_host(
        support, Path(WORKER_PROGRAM), uid_base=base, uid_count=SANDBOX_UIDS, channels=None, outbound_for_all=False
    )


def through_runtime(kind: str, warm: int, colds: int, work: Path) -> dict[str, Any]:
    """Warm invokes and cold starts through the worker runtime alone (no HTTP)."""
    code = work / f"code-{kind}"
    code.mkdir()
    (code / "app.py").write_text(SOURCE)
    (code / "app.py").chmod(0o644)
    spec = RunSpec("bench", "$LATEST", "app.handler", code, None, {}, 30, 256)
    with ProcessRuntime(WorkerOptions(worker_host(kind))) as runtime:
        runtime.run(spec, Invocation(str(uuid.uuid4()), b"{}"))
        warm_samples = timed(warm, lambda n: runtime.run(spec, Invocation(str(uuid.uuid4()), b'{"n": %d}' % n)))

        def cold(n: int) -> None:
            fresh = dataclasses.replace(spec, environment={"RUN": str(n)})  # a new configuration: a new worker
            outcome = runtime.run(fresh, Invocation(str(uuid.uuid4()), b"{}"))
            assert outcome.cold_start and outcome.ok, outcome.payload

        cold_samples = timed(colds, cold)
    return {"warm": summary(warm_samples), "cold_start": summary(cold_samples)}


def through_boto3(kind: str, warm: int, colds: int, work: Path) -> dict[str, Any]:
    """lambda.invoke (RequestResponse) against `alto serve` over loopback HTTP; cold starts after a config change."""
    args = ["--insecure-functions-unsandboxed"] if kind == "unsandboxed" else []
    with live_server(work / f"data-{kind}", *args) as server:
        lam = server.client("lambda")
        create_function(lam, "bench", code=make_zip({"app.py": SOURCE}), MemorySize=256)
        eventually(lambda: lam.get_function(FunctionName="bench")["Configuration"]["State"] == "Active")
        for _ in range(20):
            lam.invoke(FunctionName="bench", Payload=b"{}")
        warm_samples = timed(
            warm, lambda n: lam.invoke(FunctionName="bench", Payload=b'{"n": %d}' % n)["Payload"].read()
        )
        cold_samples = []
        for n in range(colds):
            lam.update_function_configuration(FunctionName="bench", Environment={"Variables": {"RUN": str(n)}})
            start = time.perf_counter()
            lam.invoke(FunctionName="bench", Payload=b"{}")["Payload"].read()
            cold_samples.append(time.perf_counter() - start)
    return {"warm": summary(warm_samples), "cold_start": summary(cold_samples)}


def run(invokes: int, colds: int, uploads: int, events: int) -> dict[str, Any]:
    """Every figure of this benchmark."""
    results: dict[str, Any] = {"invoke_in_process": summary(in_process(invokes * 10))}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        work.chmod(0o755)
        for kind in HOSTS:
            results[f"runtime_{kind}"] = through_runtime(kind, invokes, colds, work)
        for kind in HOSTS:
            results[f"boto3_{kind}"] = through_boto3(kind, invokes, colds, work)
    for name in ("runtime", "boto3"):
        sandboxed, unsandboxed = results[f"{name}_sandboxed"], results[f"{name}_unsandboxed"]
        results[f"{name}_ratio_sandboxed_to_unsandboxed"] = {
            part: round(sandboxed[part]["p50_ms"] / unsandboxed[part]["p50_ms"], 2) for part in ("warm", "cold_start")
        }
    results["triggers"] = _triggers.run(uploads, events)
    return results


def main(argv: list[str] | None = None) -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--invokes", type=int, default=500, help="warm invocations timed one by one [500]")
    parser.add_argument("--colds", type=int, default=30, help="cold starts timed one by one [30]")
    parser.add_argument("--uploads", type=int, default=50, help="uploads timed for PutObject → handler [50]")
    parser.add_argument("--events", type=int, default=300, help="Event invocations for throughput [300]")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    results = run(args.invokes, args.colds, args.uploads, args.events)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
