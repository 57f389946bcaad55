"""Lake (S3 API) benchmark: Altostratus beside SeaweedFS's S3 server (`weed mini`), both through boto3.

Both servers run on 127.0.0.1 with fresh temporary data folders, started and stopped (by pid) here.
Every figure is measured on both servers back to back, in alternating order, several times; the table
shows the medians and the median of the paired altostratus/seaweedfs ratios, so that noise from other
work on the machine hits both sides alike.

Every figure's requests come from client processes, not from threads of this one: boto3 spends about
1.7 ms of CPU on a small request, so 8 threads under one GIL measured boto3 rather than the servers.
The client processes are spawned once, before the first figure; each makes one boto3 client per server
as it starts and sends one request at a time. The "1 client" figures and the large-object figures run
in one of them, the "8 clients" figures in eight (of one thread each, so that no two requests share a
GIL), which open their timed window together, at a start time sent to each, and run for the same
seconds. Client CPU per operation is the sum of the client processes' own
CPU seconds (`time.process_time`); server CPU is the server process's, from /proc. Clients and servers
share the machine's cores.

Durability, checked with `strace -f -c -e trace=fsync,fdatasync -p PID` on each server during 200 PUTs
of 1 KiB, sent one at a time and then from 8 threads. Altostratus answers a PUT once it is on disk: at
this writing a small object lives in its metadata row, and SQLite (WAL, synchronous=FULL) fdatasyncs the
log once per commit, which concurrent writers share (203 calls for 200 PUTs one at a time, 104 from 8
threads); a larger object's file is fsynced with its folder as well. `weed mini` has no fsync flag and
by default fsyncs nothing (0 calls for 200 PUTs). Its filer's path-specific configuration has one:
`weed shell` `fs.configure -locationPrefix=/buckets/bench/ -fsync=true -apply` makes the volume server
fsync the bucket's .dat file after its writes (200 calls for 200 PUTs one at a time, 153 from 8
threads). This benchmark sets that after creating the bucket, unless --no-weed-fsync; the header and the
JSON say which. SeaweedFS still writes its filer store (leveldb: the object's name and chunk list) and
the volume's .idx without fsync.

    python benchmarks/lake.py [--quick] [--json OUT] [--seconds N] [--reps N] [--only TEXT] [--no-weed-fsync]

A full run takes about 3 minutes, --quick under one (its figures are rougher).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import multiprocessing
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from multiprocessing.connection import Connection
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
CONCURRENT_CLIENTS = 8
START_LEAD_S = 0.1  # how far ahead of now a timed window opens, so that every client process is waiting for it
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
Op = Callable[[Any, Path, int, int], int]  # (client, scratch folder, client number, i) -> bytes moved, or 1 request
Tally = tuple[int, int, float, float]  # one client process's timed run: ops, bytes, its CPU seconds, when it ended


@dataclasses.dataclass(frozen=True)
class Target:
    """One S3 server under test: its name, pid, endpoint and keys."""

    name: str
    pid: int
    endpoint: str
    access_key: str
    secret_key: str

    def client(self) -> Any:
        """A boto3 client for this server; it keeps its connections open between requests."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    def cpu_seconds(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One figure: an operation, how many client processes run it, and the unit it is reported in."""

    name: str
    unit: str  # "MiB/s" or "req/s"
    op: Op
    clients: int = 1
    min_ops: int = 1


@dataclasses.dataclass(frozen=True)
class Sample:
    """One timed run of a scenario on one target."""

    value: float
    ops: int
    client_cpu_ms: float  # per operation, summed over the client processes
    server_cpu_ms: float  # per operation


@functools.cache
def payload(size: int) -> bytes:
    """`size` random bytes, made once per process, on first use (inside a warm-up run, for the clients)."""
    return os.urandom(size)


def scenarios() -> list[Scenario]:
    """Every figure the benchmark reports."""

    def put(key: Callable[[int, int], str], size: int) -> Op:
        def run(client: Any, scratch: Path, number: int, i: int) -> int:
            client.put_object(Bucket=BUCKET, Key=key(number, i), Body=payload(size))
            return size

        return run

    def get(key: Callable[[int, int], str]) -> Op:
        def run(client: Any, scratch: Path, number: int, i: int) -> int:
            return len(client.get_object(Bucket=BUCKET, Key=key(number, i))["Body"].read())

        return run

    def head(client: Any, scratch: Path, number: int, i: int) -> int:
        client.head_object(Bucket=BUCKET, Key=small_key(number, i))
        return 1

    def small_key(number: int, i: int) -> str:
        return f"small/{(number * 37 + i) % SMALL_POOL}"

    def fresh_small_key(number: int, i: int) -> str:
        return f"new/{time.monotonic_ns()}-{number}-{i}"

    def upload(client: Any, scratch: Path, number: int, i: int) -> int:
        source = scratch / "upload.bin"
        if not source.exists():
            source.write_bytes(payload(64 * MiB))
        client.upload_file(str(source), BUCKET, "big64/upload", Config=TransferConfig())
        return 64 * MiB

    def download(client: Any, scratch: Path, number: int, i: int) -> int:
        out = scratch / "download.bin"
        client.download_file(BUCKET, "big64/0", str(out), Config=TransferConfig())
        return out.stat().st_size

    def as_request(op: Op) -> Op:
        def run(client: Any, scratch: Path, number: int, i: int) -> int:
            op(client, scratch, number, i)
            return 1

        return run

    figures = [
        Scenario("PUT 1 MiB (put_object)", "MiB/s", put(lambda n, i: f"mib1/{i % MIB1_POOL}", MiB)),
        Scenario("GET 1 MiB (get_object)", "MiB/s", get(lambda n, i: f"mib1/{i % MIB1_POOL}")),
        Scenario("PUT 64 MiB (put_object)", "MiB/s", put(lambda n, i: "big64/0", 64 * MiB)),
        Scenario("GET 64 MiB (get_object)", "MiB/s", get(lambda n, i: "big64/0")),
        Scenario("PUT 64 MiB (upload_file, multipart)", "MiB/s", upload),
        Scenario("GET 64 MiB (download_file, ranged)", "MiB/s", download),
    ]
    for clients in (1, CONCURRENT_CLIENTS):
        label = f"{clients} client" + ("s" if clients > 1 else "")
        figures += [
            Scenario(f"PUT 1 KiB, {label}", "req/s", as_request(put(fresh_small_key, KiB)), clients, 5),
            Scenario(f"GET 1 KiB, {label}", "req/s", as_request(get(small_key)), clients, 5),
            Scenario(f"HEAD 1 KiB, {label}", "req/s", head, clients, 5),
        ]
    return figures


@contextmanager
def client_processes(targets: list[Target], count: int, root: Path) -> Iterator[list[Connection]]:
    """Spawn `count` client processes, each with a boto3 client per target; yield a pipe to each."""
    context = multiprocessing.get_context("spawn")
    pipes: list[Connection] = []
    processes = []
    try:
        for number in range(count):
            mine, theirs = context.Pipe()
            process = context.Process(
                target=_client_process, args=(theirs, targets, root / f"client-{number}", number), daemon=True
            )
            process.start()
            theirs.close()
            pipes.append(mine)
            processes.append(process)
        for pipe in pipes:
            pipe.recv()  # ready: its clients are made (EOFError if it died first)
        yield pipes
    finally:
        for pipe in pipes:
            with suppress(OSError):
                pipe.send(None)
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()


def _client_process(pipe: Connection, targets: list[Target], scratch: Path, number: int) -> None:
    """One client process: make its clients, say so, then do each timed run it is sent until it gets None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops the clients
    scratch.mkdir()
    clients = {target.name: target.client() for target in targets}
    figures = {scenario.name: scenario for scenario in scenarios()}
    pipe.send("ready")
    while (job := pipe.recv()) is not None:
        target, figure, start, seconds = job
        try:
            pipe.send(_timed_run(figures[figure], clients[target], scratch, number, start, seconds))
        except Exception:  # the parent raises it, with this traceback (exceptions may not pickle)
            pipe.send(traceback.format_exc())


def _timed_run(scenario: Scenario, client: Any, scratch: Path, number: int, start: float, seconds: float) -> Tally:
    time.sleep(max(0.0, start - time.monotonic()))
    cpu, deadline, ops, moved = time.process_time(), start + seconds, 0, 0
    while ops < scenario.min_ops or time.monotonic() < deadline:
        moved += scenario.op(client, scratch, number, ops)
        ops += 1
    return ops, moved, time.process_time() - cpu, time.monotonic()


def measure(pipes: list[Connection], target: Target, scenario: Scenario, seconds: float) -> Sample:
    """Run the scenario on the target from its client processes, together, for about `seconds`."""
    pipes = pipes[: scenario.clients]
    server_cpu = target.cpu_seconds()
    start = time.monotonic() + START_LEAD_S  # CLOCK_MONOTONIC: the same clock in every process
    for pipe in pipes:
        pipe.send((target.name, scenario.name, start, seconds))
    tallies: list[Tally | str] = [pipe.recv() for pipe in pipes]
    server_cpu = target.cpu_seconds() - server_cpu
    done = [tally for tally in tallies if not isinstance(tally, str)]
    if len(done) < len(tallies):
        failure = next(tally for tally in tallies if isinstance(tally, str))
        raise RuntimeError(f"{scenario.name} on {target.name} failed in a client process:\n{failure}")
    ops, moved = sum(tally[0] for tally in done), sum(tally[1] for tally in done)
    client_cpu, elapsed = sum(tally[2] for tally in done), max(tally[3] for tally in done) - start
    value = moved / MiB / elapsed if scenario.unit == "MiB/s" else ops / elapsed
    return Sample(value, ops, 1000 * client_cpu / ops, 1000 * server_cpu / ops)


def prepare(target: Target) -> None:
    """Create the bucket and the objects that the GET and HEAD figures read."""
    client = target.client()  # boto3 clients are thread-safe
    client.create_bucket(Bucket=BUCKET)
    bodies = {f"small/{i}": os.urandom(KiB) for i in range(SMALL_POOL)}
    bodies.update({f"mib1/{i}": payload(MiB) for i in range(MIB1_POOL)})
    bodies["big64/0"] = payload(64 * MiB)
    with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:
        list(pool.map(lambda item: client.put_object(Bucket=BUCKET, Key=item[0], Body=item[1]), bodies.items()))


def turn_on_weed_fsync(pid: int) -> None:
    """Make the SeaweedFS at `pid` fsync every write into the bucket: a filer.conf rule, set with `weed shell`."""
    # seaweedfs_server keeps its ports to itself; the process's own command line names them.
    argv = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    flags = dict(arg.lstrip("-").split("=", 1) for arg in argv if arg.startswith("-") and "=" in arg)

    def address(component: str) -> str:  # host:port.grpcPort, as weed shell takes it
        return f"127.0.0.1:{flags[f'{component}.port']}.{flags[f'{component}.port.grpc']}"

    command = f"fs.configure -locationPrefix=/buckets/{BUCKET}/ -fsync=true -apply"
    shell = [str(weed_binary()), "shell", f"-master={address('master')}", f"-filer={address('filer')}"]
    result = subprocess.run(shell, input=command + "\n", capture_output=True, text=True, timeout=60, check=False)
    applied = rf'"locationPrefix":\s*"/buckets/{BUCKET}/",.*?"fsync":\s*true'
    if not re.search(applied, result.stdout, re.DOTALL):
        raise RuntimeError(f"weed shell did not turn fsync on with {command!r}:\n{result.stdout}{result.stderr}")


@contextmanager
def running_targets(root: Path) -> Iterator[list[Target]]:
    """Start Altostratus (`alto serve`) and SeaweedFS (`weed mini`); stop both by pid at the end."""
    with ExitStack() as stack:
        weed = stack.enter_context(seaweedfs_server(root))
        weed_pid = _child_pid(weed_binary().name)
        alto = stack.enter_context(live_server(root / "alto-data"))
        assert alto.process is not None
        yield [
            Target("altostratus", alto.process.pid, alto.endpoint, alto.access_key, alto.secret_key),
            Target("seaweedfs", weed_pid, weed.endpoint_url, weed.access_key, weed.secret_key),
        ]


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


def run(seconds: float, reps: int, only: str, weed_fsync: bool) -> list[dict[str, Any]]:
    """Measure every scenario on both servers, alternating which goes first; the results as dicts."""
    chosen = [s for s in scenarios() if only.lower() in s.name.lower()]
    with tempfile.TemporaryDirectory(prefix="alto-bench-lake-") as tmp, running_targets(Path(tmp)) as targets:
        for target in targets:
            prepare(target)
        if weed_fsync:
            turn_on_weed_fsync(next(t.pid for t in targets if t.name == "seaweedfs"))
        count = max((s.clients for s in chosen), default=1)
        with client_processes(targets, count, Path(tmp)) as pipes:
            print(f"{len(chosen)} figures, {reps} runs of {seconds:g} s each per server, after a warm-up", flush=True)
            results = []
            for scenario in chosen:
                for target in targets:
                    measure(pipes, target, scenario, seconds / 4)
                samples: dict[str, list[Sample]] = {t.name: [] for t in targets}
                for rep in range(reps):
                    for target in targets if rep % 2 == 0 else targets[::-1]:
                        samples[target.name].append(measure(pipes, target, scenario, seconds))
                results.append(_summary(scenario, samples))
                print(f"  {_row(results[-1])}", flush=True)
    return results


def _summary(scenario: Scenario, samples: dict[str, list[Sample]]) -> dict[str, Any]:
    alto, weed = samples["altostratus"], samples["seaweedfs"]
    ratios = [a.value / w.value for a, w in zip(alto, weed, strict=True)]
    return {
        "figure": scenario.name,
        "unit": scenario.unit,
        "clients": scenario.clients,
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
    parser.add_argument(
        "--no-weed-fsync", dest="weed_fsync", action="store_false", help="leave SeaweedFS at its default: no fsync"
    )
    args = parser.parse_args(argv)
    seconds = args.seconds or (0.4 if args.quick else 2.0)
    reps = args.reps or (2 if args.quick else 3)
    began = time.monotonic()
    print("Lake (S3 API) through boto3: Altostratus (alto serve) and SeaweedFS (weed mini)", flush=True)
    weed_sync = "fsyncs each write (fs.configure -fsync)" if args.weed_fsync else "no fsync (--no-weed-fsync)"
    print(f"fsync: Altostratus before answering each PUT; SeaweedFS {weed_sync}", flush=True)
    results = run(seconds, reps, args.only, args.weed_fsync)
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
            "seaweedfs_fsync": args.weed_fsync,
            "results": results,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
