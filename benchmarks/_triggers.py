"""Helper of benchmarks/functions.py: the time from an S3 PutObject to the triggered handler starting.

Beside it, in the same run and on the same warm function: the time from a synchronous Invoke (RequestResponse)
and from an Event Invoke to the handler starting, and Event throughput (events run per second). The handler
notes `time.time()` as its first statement and writes it to the lake; client and server share this machine's
clock. Uploads go one at a time, each after the previous one's handler has run, so the figures are latencies
of an otherwise idle server.

    python benchmarks/functions_triggers.py [--uploads N] [--events N] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api.function_tools import create_function, grant_lake, keys_under
from tests.functions.wheels import make_zip
from tests.live_server import LiveServer, live_server

# Reading the result back is itself a request to the server: poll gently, and let the server settle in between.
POLL_SECONDS = 0.01
PAUSE_SECONDS = 0.05

# Notes when it started under results/KEY (the uploaded key, or the event's "id"), as its first action.
HANDLER = make_zip(
    {
        "app.py": (
            "import time\n"
            "import boto3\n"
            "s3 = boto3.client('s3')\n"
            "def handler(event, context):\n"
            "    started = time.time()\n"
            "    if 'Records' in event:\n"
            "        key = event['Records'][0]['s3']['object']['key']\n"
            "    else:\n"
            "        key = event['id']\n"
            "    s3.put_object(Bucket='results', Key=f'results/{key}', Body=repr(started).encode())\n"
            "    return started\n"
        )
    }
)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p99 and max of latencies in seconds, as milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def started_at(s3: Any, key: str, timeout: float = 30) -> float:
    """When the handler that wrote results/KEY started."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return float(s3.get_object(Bucket="results", Key=f"results/{key}")["Body"].read())
        except s3.exceptions.NoSuchKey:
            if time.monotonic() > deadline:
                raise
            time.sleep(POLL_SECONDS)


def latencies(count: int, start: Callable[[str], None], s3: Any, prefix: str) -> list[float]:
    """Seconds from calling start(key) to the handler starting, one at a time."""
    found = []
    for i in range(count):
        key = f"{prefix}{i}"
        sent = time.time()
        start(key)
        found.append(started_at(s3, key) - sent)
        time.sleep(PAUSE_SECONDS)
    return found


def event_throughput(server: LiveServer, count: int) -> float:
    """Events run per second: `count` Event invocations sent from 8 threads, until every one has run."""
    lam, s3 = server.client("lambda", max_pool_connections=8), server.client("s3")
    began = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda n: lam.invoke(FunctionName="timer", InvocationType="Event", Payload=json.dumps({"id": f"t{n}"})),
                range(count),
            )
        )
    while len(keys_under(s3, "results", "results/t")) < count:
        time.sleep(0.05)
    return count / (time.monotonic() - began)


def run(uploads: int, events: int) -> dict[str, Any]:
    """Every figure, on one fresh server."""
    with tempfile.TemporaryDirectory() as folder, live_server(Path(folder) / "data") as server:
        lam, s3 = server.client("lambda"), server.client("s3")
        for bucket in ("results", "uploads"):
            s3.create_bucket(Bucket=bucket)
        create_function(lam, "timer", HANDLER, Timeout=30)
        grant_lake(server, "timer", "results")  # its key reaches its trigger's bucket only by default
        config = {
            "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:timer",
            "Events": ["s3:ObjectCreated:*"],
        }
        s3.put_bucket_notification_configuration(
            Bucket="uploads", NotificationConfiguration={"LambdaFunctionConfigurations": [config]}
        )
        # Warm up: start the function's worker, and the server's connections.
        lam.invoke(FunctionName="timer", Payload=b'{"id": "warm-up"}')

        def put(key: str) -> None:
            s3.put_object(Bucket="uploads", Key=key, Body=b"x" * 1024)

        def invoke(key: str) -> None:
            lam.invoke(FunctionName="timer", Payload=json.dumps({"id": key}).encode())

        def invoke_event(key: str) -> None:
            lam.invoke(FunctionName="timer", InvocationType="Event", Payload=json.dumps({"id": key}).encode())

        return {
            "put_object_to_handler_start": percentiles(latencies(uploads, put, s3, "u")),
            "sync_invoke_to_handler_start": percentiles(latencies(uploads, invoke, s3, "s")),
            "event_invoke_to_handler_start": percentiles(latencies(uploads, invoke_event, s3, "e")),
            "event_throughput_per_second": round(event_throughput(server, events), 1),
        }


def main(argv: list[str] | None = None) -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--uploads", type=int, default=50, help="uploads (and invocations) timed one by one [50]")
    parser.add_argument("--events", type=int, default=300, help="Event invocations for the throughput figure [300]")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    results = {"load_average_before": os.getloadavg()[0], **run(args.uploads, args.events)}
    for name, figure in results.items():
        print(f"{name:32} {figure}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
