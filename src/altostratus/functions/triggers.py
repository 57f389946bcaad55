"""Lake triggers: each lake notification becomes an Event invocation of the function its rule names.

`Triggers.deliver` is subscribed to the lake's notification topic (app/functions.py). The bus calls it in the writer's
thread right after the object is committed, so the invocation is queued in the metadata store before the PUT
is answered: an upload whose answer arrived is never lost to a crash.

Loops: a function that writes back to the lake must not trigger itself forever. Two guards:
- a function never receives events caused by its own writes (the record's principalId is its access key id);
- every triggered invocation is a link in a chain counted in its trace header (see lineage.py), which boto3
  inside the handler carries on to the next write; past lineage.MAX_CHAIN_LENGTH invocations (16, as Lambda's
  recursive loop detection) the chain is stopped and logged, however many functions take part in it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from altostratus.core.errors import AltoError
from altostratus.functions.errors import RecursiveInvocation
from altostratus.functions.events import EventInvocations
from altostratus.functions.names import parse_ref
from altostratus.functions.service import FunctionsService

log = logging.getLogger(__name__)
_FUNCTION_ARN = re.compile(r"arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):\d{12}:function:.+")


def destination_problem(arn: str, *, region: str) -> str | None:
    """Why a bucket notification rule cannot deliver to this LambdaFunctionArn; None when it can."""
    found = _FUNCTION_ARN.fullmatch(arn)
    if found is None:
        return "expected a function ARN: arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]"
    if found.group("region") != region:
        return f"the function must be in the bucket's region, {region}"
    try:
        parse_ref(arn)
    except AltoError as error:
        return error.message
    return None


class Triggers:
    """Delivers lake notifications to functions as Event invocations."""

    def __init__(self, functions: FunctionsService, events: EventInvocations) -> None:
        self._functions = functions
        self._events = events

    def deliver(self, topic: str, message: Mapping[str, Any]) -> None:
        """Event bus handler: queue one Event invocation with the S3 event record, unless a guard stops it."""
        arn = str(message.get("function_arn", ""))
        event = message["event"]
        try:
            ref = parse_ref(arn)
            if _principal(event) == self._functions.access_key_id(ref.name):
                log.debug("lake event for %s skipped: caused by the function's own write", arn)
                return
            self._events.submit(
                ref.name,
                json.dumps(event).encode(),
                qualifier=ref.qualifier,
                trace_id=str(message.get("trace_id") or ""),
                require_active=False,
            )
        except RecursiveInvocation as stopped:
            log.warning("lake event for %s on %s dropped: %s", arn, _object(event), stopped.message)
        except AltoError as error:
            log.warning("lake event for %s on %s not delivered: %s: %s", arn, _object(event), error.code, error.message)


def _principal(event: Mapping[str, Any]) -> str:
    return str(event["Records"][0]["userIdentity"]["principalId"])


def _object(event: Mapping[str, Any]) -> str:
    s3 = event["Records"][0]["s3"]
    return f"s3://{s3['bucket']['name']}/{s3['object']['key']}"
