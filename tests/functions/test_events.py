"""Event invocations, dead letters, trigger delivery and chain counting over the functions service (fake runtime).

tests/api/test_events.py and tests/api/test_triggers.py drive the same code through a real server and boto3.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from altostratus.core.clock import SystemClock
from altostratus.functions import lineage
from altostratus.functions.dead_letters import DeadLetters, lake_location
from altostratus.functions.errors import FunctionNotFound, InvalidRequestContent, PayloadTooLarge, RecursiveInvocation
from altostratus.functions.events import INVOKE_ASYNC_JOB, EventFailed, EventInvocations
from altostratus.functions.triggers import Triggers, destination_problem
from altostratus.jobs import PermanentJobError
from tests.functions.conftest import HELLO, Harness

RECORD = {
    "Records": [
        {
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AKIAUPLOADER"},
            "s3": {"bucket": {"name": "lake"}, "object": {"key": "raw/a.csv"}},
        }
    ]
}


class LetterBox:
    """Keeps the objects written, instead of a lake."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.traces: list[str] = []

    def put(self, bucket: str, key: str, body: bytes, *, trace_id: str) -> None:
        """Keep one object."""
        self.objects[bucket, key] = body
        self.traces.append(trace_id)

    def only(self) -> tuple[str, str, dict[str, Any]]:
        """The one object written: bucket, key and parsed JSON."""
        ((bucket, key), body), *rest = self.objects.items()
        assert not rest
        return bucket, key, json.loads(body)


@dataclasses.dataclass
class Attempt:
    """A JobContext for one attempt of a queued job, as the job runner would make it."""

    job_id: str
    payload: Mapping[str, Any]
    attempt: int

    def report_progress(self, fraction: float, message: str | None = None) -> None:
        """Ignored."""

    def is_cancel_requested(self) -> bool:
        """Never."""
        return False


@pytest.fixture
def box() -> LetterBox:
    """Where dead letters go."""
    return LetterBox()


@pytest.fixture
def events(harness: Harness, box: LetterBox) -> EventInvocations:
    """Event invocations over the harness's service and job queue."""
    return EventInvocations(harness.service, harness.jobs, DeadLetters(box), SystemClock())


def attempt(harness: Harness, request_id: str, number: int) -> Attempt:
    """The context of attempt `number` of a queued event."""
    return Attempt(request_id, harness.jobs.get(request_id).payload, number)


def test_submit_queues_one_job_per_request_id(harness: Harness, events: EventInvocations) -> None:
    harness.service.create("fn", handler="app.handler", code=HELLO)

    first = events.submit("fn", b'{"a": 1}', request_id="req-1")
    again = events.submit("fn", b'{"a": 1}', request_id="req-1")

    assert first == again == "req-1"
    jobs = harness.jobs.list(kind=INVOKE_ASYNC_JOB)
    assert [j.job_id for j in jobs] == ["req-1"]
    assert jobs[0].payload["event"] == '{"a": 1}'
    assert lineage.chain_length(jobs[0].payload["trace_id"]) == 1


def test_submit_refuses_what_lambda_refuses(harness: Harness, events: EventInvocations) -> None:
    harness.service.create("fn", handler="app.handler", code=HELLO)
    with pytest.raises(PayloadTooLarge, match="1048576 bytes"):
        events.submit("fn", b'"' + b"x" * (1024 * 1024) + b'"')
    with pytest.raises(InvalidRequestContent):
        events.submit("fn", b"{nope")
    with pytest.raises(FunctionNotFound):
        events.submit("other", b"{}")
    sixteen = "Root=1-00000000-000000000000000000000000;Lineage=abcd1234:16"
    with pytest.raises(RecursiveInvocation, match="invocation 17"):
        events.submit("fn", b"{}", trace_id=sixteen)
    assert harness.jobs.list(kind=INVOKE_ASYNC_JOB) == []


def test_a_run_invokes_with_the_request_id_and_the_trace(harness: Harness, events: EventInvocations) -> None:
    harness.service.create("fn", handler="app.handler", code=HELLO)
    request_id = events.submit("fn", b'{"a": 1}')

    result = events.run(attempt(harness, request_id, 1))

    ((_spec, invocation),) = harness.runtime.calls
    assert invocation.request_id == request_id == result["requestId"]
    assert json.loads(invocation.payload) == {"a": 1}
    assert invocation.trace_id == harness.jobs.get(request_id).payload["trace_id"]
    (record,) = harness.service.invocations("fn")
    assert (record.request_id, record.invocation_type) == (request_id, "Event")


def test_the_third_failure_writes_a_dead_letter(harness: Harness, events: EventInvocations, box: LetterBox) -> None:
    harness.service.create("fn", handler="app.handler", code=HELLO, dead_letter_target="arn:aws:s3:::failed/fn-dlq/")
    harness.runtime.function_error = "Unhandled"
    request_id = events.submit("fn", b'{"a": 1}')

    for number in (1, 2):
        with pytest.raises(EventFailed, match="ValueError: boom"):
            events.run(attempt(harness, request_id, number))
    assert not box.objects
    with pytest.raises(
        PermanentJobError, match="RetriesExhausted: ValueError: boom; dead letter s3://failed/fn-dlq/fn/"
    ):
        events.run(attempt(harness, request_id, 3))

    bucket, key, letter = box.only()
    assert bucket == "failed"
    assert key.startswith("fn-dlq/fn/") and key.endswith(f"/{request_id}.json")
    assert letter["requestContext"] == {
        "requestId": request_id,
        "functionArn": "arn:aws:lambda:eu-west-1:000000000000:function:fn:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert letter["requestPayload"] == {"a": 1}
    assert letter["responsePayload"]["errorType"] == "ValueError"
    assert [a["attempt"] for a in letter["attempts"]] == [1, 2, 3]
    assert box.traces == [letter["traceId"]]
    assert {call[1].request_id for call in harness.runtime.calls} == {request_id}


def test_a_run_cut_short_does_not_count_as_a_failure(
    harness: Harness, events: EventInvocations, box: LetterBox
) -> None:
    """Attempt 3 after one crash (no record) is only the second failure: it is retried, not dead-lettered."""
    harness.service.create("fn", handler="app.handler", code=HELLO)
    harness.runtime.function_error = "Unhandled"
    request_id = events.submit("fn", b"{}")

    with pytest.raises(EventFailed):
        events.run(attempt(harness, request_id, 2))  # attempt 1 died with its worker
    with pytest.raises(EventFailed):
        events.run(attempt(harness, request_id, 3))
    with pytest.raises(PermanentJobError):
        events.run(attempt(harness, request_id, 4))
    assert box.only()[2]["requestContext"]["approximateInvokeCount"] == 3


def test_a_runtime_failure_is_retried_like_a_function_error(harness: Harness, events: EventInvocations) -> None:
    harness.service.create("fn", handler="app.handler", code=HELLO)
    harness.runtime.fail_with = OSError("no more processes")
    request_id = events.submit("fn", b"{}")

    with pytest.raises(EventFailed, match="OSError: no more processes"):
        events.run(attempt(harness, request_id, 1))


def test_an_event_for_a_deleted_function_is_dead_lettered_at_once(
    harness: Harness, events: EventInvocations, box: LetterBox
) -> None:
    harness.service.create("fn", handler="app.handler", code=HELLO, dead_letter_target="arn:aws:s3:::failed")
    request_id = events.submit("fn", b"{}")
    harness.service.delete("fn")

    with pytest.raises(PermanentJobError, match="FunctionNotFound"):
        events.run(attempt(harness, request_id, 1))

    bucket, key, letter = box.only()
    assert (bucket, key.split("/")[0]) == ("alto-dead-letters", "fn")  # its configuration went with it
    assert letter["responsePayload"]["errorType"] == "ResourceNotFoundException"


def test_triggers_queue_the_exact_record_unless_the_function_caused_it(
    harness: Harness, events: EventInvocations, caplog: pytest.LogCaptureFixture
) -> None:
    harness.service.create("fn", handler="app.handler", code=HELLO)
    triggers = Triggers(harness.service, events)
    arn = harness.service.arn("fn")
    own = json.loads(json.dumps(RECORD))
    own["Records"][0]["userIdentity"]["principalId"] = harness.service.access_key_id("fn")

    triggers.deliver("lake.notification", {"function_arn": arn, "event": RECORD, "trace_id": ""})
    triggers.deliver("lake.notification", {"function_arn": arn, "event": own, "trace_id": ""})
    with caplog.at_level(logging.WARNING):
        triggers.deliver("lake.notification", {"function_arn": harness.service.arn("gone"), "event": RECORD})
        deep = "Root=1-00000000-000000000000000000000000;Lineage=abcd1234:16"
        triggers.deliver("lake.notification", {"function_arn": arn, "event": RECORD, "trace_id": deep})

    (job,) = harness.jobs.list(kind=INVOKE_ASYNC_JOB)
    assert json.loads(job.payload["event"]) == RECORD
    assert "not delivered: ResourceNotFoundException" in caplog.text
    assert "s3://lake/raw/a.csv dropped" in caplog.text and "recursive loop" in caplog.text


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        ("arn:aws:lambda:eu-west-1:000000000000:function:fn", None),
        ("arn:aws:lambda:eu-west-1:000000000000:function:fn:live", None),
        ("arn:aws:lambda:us-east-1:000000000000:function:fn", "must be in the bucket's region, eu-west-1"),
        ("arn:aws:sqs:eu-west-1:000000000000:queue", "expected a function ARN"),
        ("fn", "expected a function ARN"),
        ("arn:aws:lambda:eu-west-1:000000000000:function:f:g:h", "expected one of"),
    ],
)
def test_destination_problems(arn: str, problem: str | None) -> None:
    found = destination_problem(arn, region="eu-west-1")
    assert found is None if problem is None else problem in (found or "")


@pytest.mark.parametrize(
    ("trace", "length"),
    [
        ("", 0),
        ("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1", 0),
        ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=a87bd80c:3", 3),
        ("Lineage=1:a87bd80c:7", 7),
        ("garbage", 0),
    ],
)
def test_chain_lengths(trace: str, length: int) -> None:
    assert lineage.chain_length(trace) == length
    following = lineage.next_link(trace, "request-1")
    assert lineage.chain_length(following) == length + 1
    assert lineage.next_link(trace, "request-1") == following != lineage.next_link(trace, "request-2")
    if trace.startswith("Root="):
        assert following.split(";")[0] == trace.split(";")[0]


def test_dead_letter_locations() -> None:
    assert lake_location("arn:aws:s3:::bucket") == lake_location("arn:aws:s3:::bucket/")
    assert lake_location("arn:aws:s3:::bucket/a/b/").prefix == "a/b/"  # type: ignore[union-attr]
    assert lake_location("arn:aws:sqs:us-east-1:000000000000:q") is None
    assert lake_location("") is None
