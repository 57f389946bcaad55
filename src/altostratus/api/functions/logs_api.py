"""Functions' invocation logs through the CloudWatch Logs API (boto3's `logs` client), as Lambda writes them.

Each function has the log group /aws/lambda/NAME; each recorded invocation is one log stream named
YYYY/MM/DD/[VERSION]REQUEST-ID, holding its log: Lambda's START line, what the handler printed, END and REPORT.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from typing import Any

from altostratus.api.context import Call
from altostratus.api.model_adapters import Handler, JsonAdapter, operation_handlers
from altostratus.api.paging import PageTokens
from altostratus.core.errors import BadRequest, NotFound
from altostratus.functions.errors import FunctionNotFound
from altostratus.functions.registry import InvocationRecord
from altostratus.functions.service import FunctionsService

GROUP_PREFIX = "/aws/lambda/"
DEFAULT_STREAMS = 50
DEFAULT_EVENTS = 10000
# Invocations read per query while gathering events; each holds a few to a few thousand lines.
BATCH = 100


class InvalidLogParameter(BadRequest):
    """A parameter of a CloudWatch Logs request is not valid."""

    code = "InvalidParameterException"


# A stream list resumes after an invocation id; an event list after a record, skipping the events already sent.
TOKENS = PageTokens(InvalidLogParameter, parameter="nextToken", keys=frozenset({"id", "after", "skip"}))


class LogGroupNotFound(NotFound):
    """The log group does not exist."""

    code = "ResourceNotFoundException"
    status = 400  # CloudWatch Logs, a json protocol service, answers every client error with 400


def stream_name(record: InvocationRecord) -> str:
    """The log stream of one invocation: YYYY/MM/DD/[VERSION]REQUEST-ID."""
    return f"{record.started_at:%Y/%m/%d}/[{record.version}]{record.request_id}"


def request_id_of(stream: str) -> str:
    """The request id a stream name ends with."""
    return stream.rsplit("]", 1)[-1]


def events(record: InvocationRecord) -> list[dict[str, Any]]:
    """The invocation's log events, one per line of its log (which the runtime frames with START ... REPORT)."""
    start = _millis(record.started_at)
    end = start + math.ceil(record.duration_ms)
    stream = stream_name(record)
    return [
        {
            "logStreamName": stream,
            "timestamp": end if line.startswith(("END RequestId:", "REPORT RequestId:")) else start,
            "ingestionTime": end,
            "message": line + "\n",
            "eventId": f"{record.id:012d}{n:06d}",
        }
        for n, line in enumerate(line for line in record.log.splitlines() if line)
    ]


class LogsApi:
    """DescribeLogStreams and FilterLogEvents over the functions' invocation records."""

    def __init__(self, functions: FunctionsService) -> None:
        self._functions = functions

    def adapter(self) -> JsonAdapter:
        """The json adapter serving these operations."""
        return JsonAdapter("logs", self.handlers())

    def handlers(self) -> dict[str, Handler]:
        """Operation name -> handler: this class's methods named as boto3 names CloudWatch Logs' operations."""
        return operation_handlers(self, "logs")

    def describe_log_streams(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """DescribeLogStreams: one stream per invocation, newest first with orderBy=LastEventTime, descending."""
        name = self._function(params)
        newest_first = params.get("orderBy") == "LastEventTime" and params.get("descending", False)
        position = TOKENS.decode(params.get("nextToken")).get("id")
        limit = params.get("limit", DEFAULT_STREAMS)
        records = self._functions.invocations(
            name,
            limit=limit + 1,
            newest_first=newest_first,
            **({"before_id" if newest_first else "after_id": position} if position is not None else {}),
        )
        prefix = params.get("logStreamNamePrefix", "")
        page = records[:limit]
        streams = [_stream(r, self._functions.region) for r in page if stream_name(r).startswith(prefix)]
        token = TOKENS.encode({"id": page[-1].id}) if len(records) > limit else None
        return {"logStreams": streams, "nextToken": token}

    def filter_log_events(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        """FilterLogEvents: the events of the group's (or the named streams') invocations, oldest first."""
        name = self._function(params)
        limit = params.get("limit", DEFAULT_EVENTS)
        found: list[dict[str, Any]] = []
        resume = TOKENS.decode(params.get("nextToken"))
        for after, skip, event in self._events(name, params, resume.get("after"), resume.get("skip") or 0):
            if len(found) == limit:
                return {"events": found, "nextToken": TOKENS.encode({"after": after, "skip": skip})}
            found.append(event)
        return {"events": found}

    def _events(
        self, name: str, params: dict[str, Any], after: int | None = None, skip: int = 0
    ) -> Iterator[tuple[int | None, int, dict[str, Any]]]:
        """(where to resume: the record before it, the events to skip in it) and each matching event."""
        wanted = params.get("logStreamNames")
        prefix = params.get("logStreamNamePrefix", "")
        pattern = params.get("filterPattern", "").strip().strip('"')
        since, until = params.get("startTime"), params.get("endTime")
        while True:
            records = self._functions.invocations(
                name,
                limit=BATCH,
                newest_first=False,
                after_id=after,
                since=None if since is None else _time(since),
                until=None if until is None else _time(until),
                request_ids=None if wanted is None else [request_id_of(s) for s in wanted],
            )
            for record in records:
                if stream_name(record).startswith(prefix):
                    matching = [e for e in events(record) if pattern in e["message"]]
                    for n, event in enumerate(matching[skip:], start=skip):
                        yield after, n, event
                skip = 0
                after = record.id
            if len(records) < BATCH:
                return

    def _function(self, params: dict[str, Any]) -> str:
        group = params.get("logGroupName") or params.get("logGroupIdentifier") or ""
        group = group.split(":log-group:", 1)[-1].removesuffix(":*")
        if not group.startswith(GROUP_PREFIX):
            raise InvalidLogParameter(f"logGroupName={group!r}; expected {GROUP_PREFIX}FUNCTION-NAME")
        name = group[len(GROUP_PREFIX) :]
        try:
            self._functions.get(name)
        except FunctionNotFound:
            if not self._functions.invocations(name, limit=1):
                raise LogGroupNotFound("The specified log group does not exist.") from None
        return name


def _stream(record: InvocationRecord, region: str) -> dict[str, Any]:
    start = _millis(record.started_at)
    end = start + math.ceil(record.duration_ms)
    name = stream_name(record)
    return {
        "logStreamName": name,
        "creationTime": start,
        "firstEventTimestamp": start,
        "lastEventTimestamp": end,
        "lastIngestionTime": end,
        "arn": f"arn:aws:logs:{region}:000000000000:log-group:{GROUP_PREFIX}{record.function_name}:log-stream:{name}",
        "storedBytes": 0,
    }


def _millis(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _time(millis: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(millis / 1000, dt.UTC)
