"""Event (asynchronous) invocations with unmodified boto3 against a real `alto serve`: queueing, retries, dead letters.

The server retries after 0.3 s and 0.6 s (ALTO_FUNCTIONS_EVENT_RETRY_SECONDS) instead of 1 s and 2 s, to keep
the tests short; the gaps between attempts are checked against that.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.function_tools import LAKE_FOR_ALL, create_function, eventually, keys_under
from tests.functions.wheels import make_zip
from tests.live_server import LiveServer, live_server

RETRY_SECONDS = 0.3
EVENT_WORKERS = 2
DEAD_LETTERS = "alto-dead-letters"
_names = itertools.count()


@pytest.fixture(scope="module")
def events_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`alto serve` with short retry delays; requirements install from an empty folder (so they fail)."""
    empty = tmp_path_factory.mktemp("no-wheels")
    env = {
        "ALTO_FUNCTIONS_EVENT_RETRY_SECONDS": str(RETRY_SECONDS),
        "ALTO_FUNCTIONS_EVENT_WORKERS": str(EVENT_WORKERS),
        "ALTO_FUNCTIONS_PIP_ARGS": f"--no-index --find-links {empty}",
        **LAKE_FOR_ALL,
    }
    with live_server(tmp_path_factory.mktemp("events") / "data", env=env) as running:
        yield running


@pytest.fixture
def lam(events_server: LiveServer) -> Any:
    """A boto3 lambda client with the admin key."""
    return events_server.client("lambda")


@pytest.fixture
def s3(events_server: LiveServer) -> Any:
    """A boto3 s3 client with the admin key."""
    return events_server.client("s3")


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A fresh function name, also used as the bucket its runs are recorded in."""
    return f"ev{next(_names)}-{request.node.name}"[:40].lower().replace("_", "-").rstrip("-")


@pytest.fixture
def out(s3: Any, name: str) -> str:
    """The bucket a RECORDER function writes its runs to."""
    s3.create_bucket(Bucket=name)
    return name


def runs(s3: Any, bucket: str, request_id: str) -> list[dict[str, Any]]:
    """What each run of the invocation recorded, in the order they started."""
    keys = keys_under(s3, bucket, f"runs/{request_id}/")
    return sorted((json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys), key=started)


def started(run: dict[str, Any]) -> float:
    """When a run started (epoch seconds)."""
    return float(run["started"])


def dead_letter(s3: Any, bucket: str, key: str) -> dict[str, Any]:
    """The dead letter at bucket/key, once it is there."""

    def probe() -> dict[str, Any] | None:
        try:
            return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
            return None

    return eventually(probe, timeout=30)


def letter_key(name: str, request_id: str) -> str:
    """Where the dead letter of one invocation goes, under its location's prefix (UTC date: the server's clock)."""
    return f"{name}/{dt.datetime.now(dt.UTC):%Y-%m-%d}/{request_id}.json"


def test_event_answers_202_and_runs_the_handler_once(
    events_server: LiveServer, lam: Any, s3: Any, name: str, out: str
) -> None:
    create_function(lam, name, Environment={"Variables": {"OUT_BUCKET": out}})

    answer = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps({"order": 17}).encode())

    assert answer["StatusCode"] == 202
    assert answer["Payload"].read() == b""
    request_id = answer["ResponseMetadata"]["RequestId"]
    (run,) = eventually(lambda: runs(s3, out, request_id))
    assert run["event"] == {"order": 17}
    logs = events_server.client("logs")
    streams = eventually(lambda: logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"])
    assert [s["logStreamName"].endswith(f"]{request_id}") for s in streams] == [True]
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]]
    assert 'EVENT {"order": 17}\n' in messages
    assert any(m.startswith(f"START RequestId: {request_id}") for m in messages)
    assert len(runs(s3, out, request_id)) == 1


def test_a_failing_event_runs_three_times_with_one_request_id_then_becomes_a_dead_letter(
    lam: Any, s3: Any, name: str, out: str
) -> None:
    create_function(lam, name, Environment={"Variables": {"OUT_BUCKET": out}})

    answer = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"fail": true, "n": 1}')
    request_id = answer["ResponseMetadata"]["RequestId"]
    letter = dead_letter(s3, DEAD_LETTERS, letter_key(name, request_id))

    attempts = runs(s3, out, request_id)
    assert len(attempts) == 3
    gaps = [b["started"] - a["started"] for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= RETRY_SECONDS and gaps[1] >= 2 * RETRY_SECONDS
    assert letter["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert letter["requestPayload"] == {"fail": True, "n": 1}
    assert letter["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert (letter["responsePayload"]["errorType"], letter["responsePayload"]["errorMessage"]) == (
        "ValueError",
        "asked to fail",
    )
    assert [a["status"] for a in letter["attempts"]] == ["Error"] * 3
    assert letter["queuedAt"] <= letter["attempts"][0]["startedAt"] <= letter["timestamp"]
    time.sleep(4 * RETRY_SECONDS)  # no fourth run comes later
    assert len(runs(s3, out, request_id)) == 3


def test_timeouts_are_retried_and_dead_lettered_where_the_function_says(lam: Any, s3: Any, name: str, out: str) -> None:
    s3.create_bucket(Bucket=f"{name}-failed")
    create_function(
        lam,
        name,
        Timeout=1,
        Environment={"Variables": {"OUT_BUCKET": out}},
        DeadLetterConfig={"TargetArn": f"arn:aws:s3:::{name}-failed/letters/"},
    )

    answer = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"sleep": 5}')
    request_id = answer["ResponseMetadata"]["RequestId"]
    letter = dead_letter(s3, f"{name}-failed", "letters/" + letter_key(name, request_id))

    assert letter["responsePayload"]["errorType"] == "Sandbox.Timedout"
    assert letter["requestContext"]["approximateInvokeCount"] == 3
    assert len(runs(s3, out, request_id)) == 3
    assert not keys_under(s3, DEAD_LETTERS, name)


def test_an_event_for_a_function_deleted_meanwhile_becomes_a_dead_letter(
    lam: Any, s3: Any, name: str, out: str
) -> None:
    create_function(lam, name, Timeout=10, Environment={"Variables": {"OUT_BUCKET": out}})
    for _ in range(EVENT_WORKERS):  # keep every event worker busy, so the next event waits in the queue
        lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"sleep": 2}')
    eventually(lambda: len(keys_under(s3, out)) == EVENT_WORKERS or None)

    queued = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"second": true}')
    lam.delete_function(FunctionName=name)
    request_id = queued["ResponseMetadata"]["RequestId"]

    letter = dead_letter(s3, DEAD_LETTERS, letter_key(name, request_id))
    assert letter["requestContext"]["condition"] == "FunctionNotFound"
    assert letter["requestContext"]["approximateInvokeCount"] == 0
    assert letter["responsePayload"]["errorType"] == "ResourceNotFoundException"
    assert letter["requestPayload"] == {"second": True}
    assert not runs(s3, out, request_id)


def test_event_payload_limits(lam: Any, name: str, out: str) -> None:
    create_function(lam, name, Environment={"Variables": {"OUT_BUCKET": out}})
    one_mb = 1024 * 1024
    fitting = json.dumps({"pad": "x" * (one_mb - 20)}).encode()
    assert len(fitting) <= one_mb
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=fitting)["StatusCode"] == 202

    for size in (one_mb + 1, 7 * one_mb):
        payload = json.dumps({"pad": "x" * (size - 11)}).encode()
        error = fails(
            lambda payload=payload: lam.invoke(FunctionName=name, InvocationType="Event", Payload=payload),
            "RequestTooLargeException",
            413,
        )
        assert str(one_mb) in error.response["Error"]["Message"]


def test_bad_event_invocations_get_lambdas_errors(lam: Any, name: str, out: str) -> None:
    fails(
        lambda: lam.invoke(FunctionName=f"{name}-missing", InvocationType="Event", Payload=b"{}"),
        "ResourceNotFoundException",
        404,
    )
    create_function(lam, name, Environment={"Variables": {"OUT_BUCKET": out}})
    fails(
        lambda: lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{not json"),
        "InvalidRequestContentException",
        400,
    )
    fails(
        lambda: lam.invoke(FunctionName=name, InvocationType="Event", Qualifier="nope", Payload=b"{}"),
        "ResourceNotFoundException",
        404,
    )


def test_events_for_pending_and_failed_functions_are_refused(lam: Any, name: str) -> None:
    code = make_zip({"app.py": "def handler(event, context):\n    return 1\n", "requirements.txt": "missing-dist\n"})
    created = create_function(lam, name, code)
    assert created["State"] == "Pending"
    error = fails(
        lambda: lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}"), "ResourceConflictException", 409
    )
    assert "Pending" in error.response["Error"]["Message"]

    eventually(lambda: lam.get_function(FunctionName=name)["Configuration"]["State"] == "Failed" or None, timeout=120)
    error = fails(
        lambda: lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}"), "ResourceConflictException", 409
    )
    assert "Failed" in error.response["Error"]["Message"]


def test_dead_letter_targets_are_checked(lam: Any, name: str) -> None:
    fails(
        lambda: create_function(lam, name, DeadLetterConfig={"TargetArn": "s3://bucket/prefix"}),
        "InvalidParameterValueException",
        400,
    )
    queue = "arn:aws:sqs:us-east-1:000000000000:failed-events"
    created = create_function(lam, name, DeadLetterConfig={"TargetArn": queue})
    assert created["DeadLetterConfig"] == {"TargetArn": queue}


def test_the_request_id_is_the_job_id_so_a_restart_runs_what_was_accepted(tmp_path: Path) -> None:
    """A server killed right after answering 202 runs the event after its restart."""
    with live_server(tmp_path / "data", env={"ALTO_FUNCTIONS_EVENT_WORKERS": "1", **LAKE_FOR_ALL}) as server:
        lam, s3 = server.client("lambda"), server.client("s3")
        s3.create_bucket(Bucket="out")
        create_function(lam, "sleeper", Environment={"Variables": {"OUT_BUCKET": "out"}})
        lam.invoke(FunctionName="sleeper", InvocationType="Event", Payload=b'{"sleep": 30}')
        eventually(lambda: keys_under(s3, "out"))  # the only worker is busy now
        queued = lam.invoke(FunctionName="sleeper", InvocationType="Event", Payload=b'{"after": "restart"}')
        request_id = queued["ResponseMetadata"]["RequestId"]
        server.kill()
        server.start()
        (run,) = eventually(lambda: runs(server.client("s3"), "out", request_id), timeout=60)
        assert run["event"] == {"after": "restart"}


@pytest.mark.slow
def test_a_server_killed_with_1000_events_queued_runs_every_one_after_its_restart(tmp_path: Path) -> None:
    """SIGKILL right after the 1,000th 202: after the restart each event has run at least once, none is lost."""
    count = 1000
    env = {
        "ALTO_JOB_LEASE_SECONDS": "2",
        **LAKE_FOR_ALL,
    }  # runs cut short by the kill are taken over 2 s after the restart
    with live_server(tmp_path / "data", env=env) as server:
        lam, s3 = server.client("lambda", max_pool_connections=16), server.client("s3")
        s3.create_bucket(Bucket="out")
        create_function(lam, "counter", Environment={"Variables": {"OUT_BUCKET": "out"}})

        def submit(n: int) -> str:
            answer = lam.invoke(FunctionName="counter", InvocationType="Event", Payload=json.dumps({"n": n}).encode())
            assert answer["StatusCode"] == 202
            return str(answer["ResponseMetadata"]["RequestId"])

        with ThreadPoolExecutor(16) as pool:
            request_ids = list(pool.map(submit, range(count)))
        server.kill()
        assert len(set(request_ids)) == count

        server.start()
        s3 = server.client("s3")

        def ran() -> collections.Counter[str]:
            return collections.Counter(key.split("/")[1] for key in keys_under(s3, "out", "runs/"))

        runs = eventually(lambda: ran() if set(ran()) >= set(request_ids) else None, timeout=80, interval=0.5)
        assert set(runs) == set(request_ids)
        duplicates = sum(n - 1 for n in runs.values())
        assert duplicates <= 2 * 4  # only runs cut short by the kill ran twice (4 event workers)
