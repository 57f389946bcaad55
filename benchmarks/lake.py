"""Lake (S3 API) benchmark: Altostratus beside SeaweedFS's S3 server (`weed mini`), both through boto3.

Both servers run on 127.0.0.1 with fresh temporary data folders, started and stopped (by pid) here.
Every figure is measured on both servers back to back, in alternating order, several times; the table
shows the medians and the median of the paired altostratus/seaweedfs ratios, so that noise from other
work on the machine hits both sides alike. Client and servers share the machine's cores, so the CPU
seconds each side spent per operation are recorded too (client: this process, all threads; server:
the server process, from /proc).

    python benchmarks/lake.py [--quick] [--json OUT] [--seconds N] [--reps N] [--only TEXT]

A full run takes about 3 minutes, --quick under one (its figures are rougher).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.live_server import live_server
from tests.servers import seaweedfs_server, weed_binary

BUCKET = "bench"
KiB, MiB = 1024, 1024 * 1024
SMALL_POOL = 64  # small objects that GET and HEAD cycle through
MIB1_POOL = 8  # 1 MiB keys that PUT overwrites and GET reads
CONCURRENT_THREADS = 8
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
Op = Callable[["Target", Any, int, int], int]  # (target, client, thread, i) -> bytes moved, or 1 request


@dataclasses.dataclass
class Target:
    """One S3 server under test: its name, pid, endpoint and keys, and a scratch folder for files."""

    name: str
    pid: int
    endpoint: str
    access_key: str
    secret_key: str
    scratch: Path
    _clients: list[Any] = dataclasses.field(default_factory=list)

    def clients(self, count: int) -> list[Any]:
        """`count` boto3 clients (one per thread), made once and kept, so connections stay open."""
        while len(self._clients) < count:
            self._clients.append(
                boto3.client(
                    "s3",
                    endpoint_url=self.endpoint,
                    region_name="us-east-1",
                    aws_access_key_id=self.access_key,
                    aws_secret_access_key=self.secret_key,
                    config=Config(retries={"max_attempts": 1, "mode": "standard"}),
                )
            )
        return self._clients[:count]

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One figure: an operation, how many client threads run it, and the unit it is reported in."""

    name: str
    unit: str  # "MiB/s" or "req/s"
    op: Op
    threads: int = 1
    min_ops: int = 1


@dataclasses.dataclass(frozen=True)
class Sample:
    """One timed run of a scenario on one target."""

    value: float
    ops: int
    client_cpu_ms: float  # per operation
    server_cpu_ms: float  # per operation


def scenarios(payload_1m: bytes, payload_64m: bytes) -> list[Scenario]:
    """Every figure the benchmark reports."""
    small = os.urandom(KiB)

    def put(key: Callable[[int, int], str], body: bytes) -> Op:
        def run(target: Target, client: Any, thread: int, i: int) -> int:
            client.put_object(Bucket=BUCKET, Key=key(thread, i), Body=body)
            return len(body)

        return run

    def get(key: Callable[[int, int], str]) -> Op:
        def run(target: Target, client: Any, thread: int, i: int) -> int:
            return len(client.get_object(Bucket=BUCKET, Key=key(thread, i))["Body"].read())

        return run

    def head(target: Target, client: Any, thread: int, i: int) -> int:
        client.head_object(Bucket=BUCKET, Key=small_key(thread, i))
        return 1

    def small_key(thread: int, i: int) -> str:
        return f"small/{(thread * 37 + i) % SMALL_POOL}"

    def fresh_small_key(thread: int, i: int) -> str:
        return f"new/{time.monotonic_ns()}-{thread}-{i}"

    def upload(target: Target, client: Any, thread: int, i: int) -> int:
        client.upload_file(str(target.scratch / "upload.bin"), BUCKET, "big64/upload", Config=TransferConfig())
        return len(payload_64m)

    def download(target: Target, client: Any, thread: int, i: int) -> int:
        out = target.scratch / "download.bin"
        client.download_file(BUCKET, "big64/0", str(out), Config=TransferConfig())
        return out.stat().st_size

    def as_request(op: Op) -> Op:
        def run(target: Target, client: Any, thread: int, i: int) -> int:
            op(target, client, thread, i)
            return 1

        return run

    figures = [
        Scenario("PUT 1 MiB (put_object)", "MiB/s", put(lambda t, i: f"mib1/{i % MIB1_POOL}", payload_1m)),
        Scenario("GET 1 MiB (get_object)", "MiB/s", get(lambda t, i: f"mib1/{i % MIB1_POOL}")),
        Scenario("PUT 64 MiB (put_object)", "MiB/s", put(lambda t, i: "big64/0", payload_64m)),
        Scenario("GET 64 MiB (get_object)", "MiB/s", get(lambda t, i: "big64/0")),
        Scenario("PUT 64 MiB (upload_file, multipart)", "MiB/s", upload),
        Scenario("GET 64 MiB (download_file, ranged)", "MiB/s", download),
    ]
    for threads in (1, CONCURRENT_THREADS):
        figures += [
            Scenario(f"PUT 1 KiB, {threads} thread(s)", "req/s", as_request(put(fresh_small_key, small)), threads, 5),
            Scenario(f"GET 1 KiB, {threads} thread(s)", "req/s", as_request(get(small_key)), threads, 5),
            Scenario(f"HEAD 1 KiB, {threads} thread(s)", "req/s", head, threads, 5),
        ]
    return figures


def measure(target: Target, scenario: Scenario, seconds: float) -> Sample:
    """Run the scenario on the target for about `seconds` (at least min_ops operations per thread)."""
    clients = target.clients(scenario.threads)
    moved = [0] * scenario.threads
    ops = [0] * scenario.threads
    errors: list[BaseException] = []
    start_barrier = threading.Barrier(scenario.threads + 1)
    deadline = 0.0

    def worker(thread: int) -> None:
        client = clients[thread]
        start_barrier.wait()
        try:
            for i in itertools.count():
                if i >= scenario.min_ops and time.perf_counter() >= deadline:
                    return
                moved[thread] += scenario.op(target, client, thread, i)
                ops[thread] += 1
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(scenario.threads)]
    for thread in threads:
        thread.start()
    server_cpu, client_cpu = target.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    start_barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    client_cpu, server_cpu = time.process_time() - client_cpu, target.cpu_seconds() - server_cpu
    if errors:
        raise RuntimeError(f"{scenario.name} on {target.name} failed") from errors[0]
    total_ops = sum(ops)
    value = sum(moved) / MiB / elapsed if scenario.unit == "MiB/s" else total_ops / elapsed
    return Sample(value, total_ops, 1000 * client_cpu / total_ops, 1000 * server_cpu / total_ops)


def prepare(target: Target, payload_1m: bytes, payload_64m: bytes) -> None:
    """Create the bucket and the objects that the GET and HEAD figures read."""
    client = target.clients(1)[0]  # boto3 clients are thread-safe
    client.create_bucket(Bucket=BUCKET)
    bodies = {f"small/{i}": os.urandom(KiB) for i in range(SMALL_POOL)}
    bodies.update({f"mib1/{i}": payload_1m for i in range(MIB1_POOL)})
    bodies["big64/0"] = payload_64m
    with ThreadPoolExecutor(CONCURRENT_THREADS) as pool:
        list(pool.map(lambda item: client.put_object(Bucket=BUCKET, Key=item[0], Body=item[1]), bodies.items()))
    (target.scratch / "upload.bin").write_bytes(payload_64m)


@contextmanager
def running_targets(root: Path) -> Iterator[list[Target]]:
    """Start Altostratus (`alto serve`) and SeaweedFS (`weed mini`); stop both by pid at the end."""
    with ExitStack() as stack:
        weed = stack.enter_context(seaweedfs_server(root))
        weed_pid = _child_pid(weed_binary().name)
        alto = stack.enter_context(live_server(root / "alto-data"))
        assert alto.process is not None
        targets = [
            Target("altostratus", alto.process.pid, alto.endpoint, alto.access_key, alto.secret_key, root / "a"),
            Target("seaweedfs", weed_pid, weed.endpoint_url, weed.access_key, weed.secret_key, root / "s"),
        ]
        for target in targets:
            target.scratch.mkdir()
        yield targets


def _child_pid(name: str) -> int:
    # seaweedfs_server keeps its process to itself; it is this process's only child of that name.
    me = os.getpid()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :].split()
        if comm == name and int(rest[1]) == me:
            return int(stat.parent.name)
    raise RuntimeError(f"no child process named {name!r}")


def run(seconds: float, reps: int, only: str) -> list[dict[str, Any]]:
    """Measure every scenario on both servers, alternating which goes first; the results as dicts."""
    payload_1m, payload_64m = os.urandom(MiB), os.urandom(64 * MiB)
    with tempfile.TemporaryDirectory(prefix="alto-bench-lake-") as tmp, running_targets(Path(tmp)) as targets:
        for target in targets:
            prepare(target, payload_1m, payload_64m)
        chosen = [s for s in scenarios(payload_1m, payload_64m) if only.lower() in s.name.lower()]
        print(f"{len(chosen)} figures, {reps} runs of {seconds:g} s each per server, after a warm-up", flush=True)
        results = []
        for scenario in chosen:
            for target in targets:
                measure(target, scenario, seconds / 4)
            samples: dict[str, list[Sample]] = {t.name: [] for t in targets}
            for rep in range(reps):
                for target in targets if rep % 2 == 0 else targets[::-1]:
                    samples[target.name].append(measure(target, scenario, seconds))
            results.append(_summary(scenario, samples))
            print(f"  {_row(results[-1])}", flush=True)
    return results


def _summary(scenario: Scenario, samples: dict[str, list[Sample]]) -> dict[str, Any]:
    alto, weed = samples["altostratus"], samples["seaweedfs"]
    ratios = [a.value / w.value for a, w in zip(alto, weed, strict=True)]
    return {
        "figure": scenario.name,
        "unit": scenario.unit,
        "threads": scenario.threads,
        "ratio": statistics.median(ratios),
        **{name: _stats(values) for name, values in samples.items()},
    }


def _stats(samples: list[Sample]) -> dict[str, Any]:
    return {
        "median": statistics.median(s.value for s in samples),
        "samples": [round(s.value, 2) for s in samples],
        "ops": sum(s.ops for s in samples),
        "client_cpu_ms_per_op": round(statistics.median(s.client_cpu_ms for s in samples), 3),
        "server_cpu_ms_per_op": round(statistics.median(s.server_cpu_ms for s in samples), 3),
    }


HEADER = (
    f"{'figure':<38} {'unit':>6} {'altostratus':>12} {'seaweedfs':>10} {'ratio':>6}"
    f"   {'CPU ms/op: alto srv':>19} {'weed srv':>8} {'client(a/s)':>13}"
)


def _row(r: dict[str, Any]) -> str:
    a, s = r["altostratus"], r["seaweedfs"]
    clients = f"{a['client_cpu_ms_per_op']:.2f}/{s['client_cpu_ms_per_op']:.2f}"
    return (
        f"{r['figure']:<38} {r['unit']:>6} {a['median']:>12.1f} {s['median']:>10.1f} {r['ratio']:>6.2f}"
        f"   {a['server_cpu_ms_per_op']:>19.2f} {s['server_cpu_ms_per_op']:>8.2f} {clients:>13}"
    )


def machine() -> dict[str, Any]:
    """The machine and software the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text().split()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / MiB, 1),
        "python": platform.python_version(),
        "boto3": boto3.__version__,
        "seaweedfs": subprocess.run([weed_binary(), "version"], capture_output=True, text=True).stdout.strip(),
    }


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run the benchmark, print the table and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs: under a minute in all")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--seconds", type=float, help="seconds per timed run [2; 0.4 with --quick]")
    parser.add_argument("--reps", type=int, help="timed runs per figure and server [3; 2 with --quick]")
    parser.add_argument("--only", default="", help="run only the figures whose name contains this text")
    args = parser.parse_args(argv)
    seconds = args.seconds or (0.4 if args.quick else 2.0)
    reps = args.reps or (2 if args.quick else 3)
    began = time.monotonic()
    print("Lake (S3 API) through boto3: Altostratus (alto serve) and SeaweedFS (weed mini)", flush=True)
    results = run(seconds, reps, args.only)
    print(f"\n{HEADER}\n" + "\n".join(_row(r) for r in results))
    print(f"\nratio = altostratus / seaweedfs (median of {reps} paired runs); took {time.monotonic() - began:.0f} s")
    if args.json:
        report = {
            "benchmark": "lake",
            "command": " ".join(["python", "benchmarks/lake.py", *(argv if argv is not None else sys.argv[1:])]),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "seconds": seconds,
            "reps": reps,
            "results": results,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
