"""Event (asynchronous) invocations: queued as jobs, run at least once under one request id, retried, dead-lettered.

Durability: `submit` returns (and Invoke answers 202) only once the job is committed to the metadata store, so
a crash after that loses nothing; a worker that dies mid-run loses its lease and another worker runs the event
again. A handler may therefore see an event more than once, always with the same `context.aws_request_id`:
that is the key to de-duplicate on.

Retries: a function error (an exception, a timeout, running out of memory) or a failure to run it at all is
retried twice, so it runs three times in all as on Lambda, after the job queue's backoff: `retry_seconds`,
then twice that (Lambda waits about one and two minutes). After the last failure the event becomes a dead
letter (dead_letters.py): Lambda's on-failure destination record, plus every attempt with its times.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.core import json_input
from altostratus.core.clock import Clock
from altostratus.core.errors import AltoError
from altostratus.core.ids import request_id as new_request_id
from altostratus.functions import lineage
from altostratus.functions.dead_letters import DeadLetters
from altostratus.functions.definitions import LATEST, MAX_ASYNC_PAYLOAD_BYTES, InvocationType, error_document
from altostratus.functions.errors import FunctionNotFound, InvalidRequestContent, PayloadTooLarge, RecursiveInvocation
from altostratus.functions.names import parse_ref
from altostratus.functions.registry import InvocationRecord
from altostratus.functions.service import FunctionsService
from altostratus.jobs.queue import JobQueue
from altostratus.jobs.runner import JobContext, PermanentJobError

log = logging.getLogger(__name__)
INVOKE_ASYNC_JOB = "functions.invoke-async"
# Lambda runs an asynchronous event up to three times: once, then two retries.
ATTEMPTS = 3
# Job attempts beyond ATTEMPTS, used only when a worker dies mid-run: a crash is not the function's failure.
SPARE_ATTEMPTS = 2


class EventFailed(Exception):
    """One run of an Event invocation failed; the job queue runs it again after its backoff."""


class EventInvocations:
    """Queues Event invocations and runs them as jobs (INVOKE_ASYNC_JOB), with retries and dead letters."""

    def __init__(
        self,
        functions: FunctionsService,
        jobs: JobQueue,
        dead_letters: DeadLetters,
        clock: Clock,
        *,
        attempts: int = ATTEMPTS,
    ) -> None:
        self._functions = functions
        self._jobs = jobs
        self._dead_letters = dead_letters
        self._clock = clock
        self._attempts = attempts

    def submit(
        self,
        name: str,
        payload: bytes,
        *,
        qualifier: str | None = None,
        request_id: str | None = None,
        trace_id: str = "",
        require_active: bool = True,
    ) -> str:
        """Queue one Event invocation and return its request id once it is stored.

        trace_id is the trace header of the request that caused it: the invocation is the next link of its
        chain (RecursiveInvocation past lineage.MAX_CHAIN_LENGTH). With require_active (Invoke), a function that
        is not Active is refused now; lake triggers queue anyway, and the runs retry while it is Pending.
        Submitting a request id again returns at once without queueing it twice.
        """
        if len(payload) > MAX_ASYNC_PAYLOAD_BYTES:
            raise PayloadTooLarge(
                f"Request must be smaller than {MAX_ASYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation "
                "with InvocationType=Event"
            )
        event = _json_text(payload if payload.strip() else b"{}")
        request_id = request_id or new_request_id()
        link = lineage.next_link(trace_id, request_id)
        if lineage.chain_length(link) > lineage.MAX_CHAIN_LENGTH:
            raise RecursiveInvocation(
                f"Function {name!r} would be invocation {lineage.chain_length(link)} of one chain of triggered "
                f"invocations (at most {lineage.MAX_CHAIN_LENGTH}): a recursive loop was detected and stopped"
            )
        ref = parse_ref(name, qualifier)
        if require_active:
            self._functions.check_invocable(ref.name, ref.qualifier)
        else:
            self._functions.get(ref.name, ref.qualifier)
        queued = {"function": ref.name, "qualifier": ref.qualifier, "event": event, "trace_id": link}
        job = self._jobs.submit(
            INVOKE_ASYNC_JOB,
            queued,
            max_attempts=self._attempts + SPARE_ATTEMPTS,
            job_id=request_id,
        )
        return job.job_id

    def run(self, context: JobContext) -> dict[str, Any]:
        """Job handler: run the queued event once; on its last failure, write the dead letter."""
        queued = context.payload
        name, qualifier = str(queued["function"]), queued.get("qualifier")
        request_id = context.job_id
        try:
            result = self._functions.invoke(
                name,
                str(queued["event"]).encode(),
                qualifier=qualifier,
                request_id=request_id,
                invocation_type=InvocationType.EVENT,
                trace_id=str(queued["trace_id"]),
            )
        except FunctionNotFound as gone:
            # Deleted since the event was queued: no retry brings it back.
            raise self._dead_letter(
                context, "FunctionNotFound", error_document(gone.message, gone.code), None
            ) from None
        except Exception as error:
            code = error.code if isinstance(error, AltoError) else type(error).__name__
            failure, response = error_document(str(error), code), None
        else:
            if result.outcome.ok:
                return {"requestId": request_id, "executedVersion": result.executed_version, "attempt": context.attempt}
            failure = _error_of(result.outcome.payload)
            response = {
                "statusCode": 200,
                "executedVersion": result.executed_version,
                "functionError": result.outcome.function_error,
            }
        if self._is_last(context, name, request_id):
            raise self._dead_letter(context, "RetriesExhausted", failure, response)
        raise EventFailed(f"{name} {request_id}: {failure.get('errorType')}: {failure.get('errorMessage')}")

    def _is_last(self, context: JobContext, name: str, request_id: str) -> bool:
        # Runs that failed are counted from the invocation records, so a run cut short by a crash does not count.
        failed = [r for r in self._attempts_of(name, request_id) if r.status != "Success"]
        return len(failed) >= self._attempts or context.attempt >= self._attempts + SPARE_ATTEMPTS

    def _attempts_of(self, name: str, request_id: str) -> Sequence[InvocationRecord]:
        limit = self._attempts + SPARE_ATTEMPTS
        return self._functions.invocations(name, limit=limit, newest_first=False, request_ids=[request_id])

    def _dead_letter(
        self,
        context: JobContext,
        condition: str,
        failure: Mapping[str, Any],
        response: Mapping[str, Any] | None,
    ) -> PermanentJobError:
        """Write the event's dead letter; the error that ends its job (an EventFailed if the write failed)."""
        queued = context.payload
        name, qualifier = str(queued["function"]), queued.get("qualifier")
        records = self._attempts_of(name, context.job_id)
        now = self._clock.now()
        letter = {
            "version": "1.0",
            "timestamp": _iso(now),
            "requestContext": {
                "requestId": context.job_id,
                "functionArn": self._functions.arn(name, qualifier or LATEST),
                "condition": condition,
                "approximateInvokeCount": len(records),
            },
            "requestPayload": json.loads(str(queued["event"])),
            "responseContext": dict(response) if response is not None else None,
            "responsePayload": dict(failure),
            "queuedAt": _iso(self._jobs.get(context.job_id).created_at),
            "traceId": queued["trace_id"],
            "attempts": [_attempt(n, record) for n, record in enumerate(records, start=1)],
        }
        try:
            url = self._dead_letters.write(
                name, self._target(name, qualifier), context.job_id, letter, when=now, trace_id=str(queued["trace_id"])
            )
        except Exception as error:
            log.exception("event %s for %s: could not write its dead letter", context.job_id, name)
            raise EventFailed(f"writing the dead letter failed: {error}") from error
        log.warning("event %s for %s: %s; dead letter at %s", context.job_id, name, condition, url)
        return PermanentJobError(
            f"{condition}: {failure.get('errorType')}: {failure.get('errorMessage')}; dead letter {url}"
        )

    def _target(self, name: str, qualifier: str | None) -> str:
        try:
            return self._functions.get(name, qualifier).dead_letter_target
        except AltoError:  # the function (or alias) is gone: the default location
            return ""


def _json_text(payload: bytes) -> str:
    try:
        text = payload.decode("utf-8")
        json_input.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRequestContent(f"Could not parse request body into json: {error}") from None
    return text


def _error_of(payload: bytes) -> dict[str, Any]:
    """The function's error document, or one describing what it answered instead."""
    try:
        document = json_input.loads(payload)
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict):
        return document
    return error_document(payload[:1000].decode("utf-8", "replace"), "Unhandled")


def _attempt(number: int, record: InvocationRecord) -> dict[str, Any]:
    return {
        "attempt": number,
        "startedAt": _iso(record.started_at),
        "durationMs": round(record.duration_ms, 3),
        "status": record.status,
        "errorType": record.error_type,
        "version": record.version,
    }


def _iso(when: dt.datetime) -> str:
    """A UTC time with milliseconds, as Lambda writes them: 2019-11-14T18:16:05.568Z."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
