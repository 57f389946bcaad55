"""Dead letters: Event invocations that never succeeded, kept as JSON documents in the lake.

Where: the function's DeadLetterConfig.TargetArn when it names a lake location (`arn:aws:s3:::BUCKET[/PREFIX]`),
else the bucket `alto-dead-letters` (created on first use); the key is `[PREFIX/]FUNCTION/YYYY-MM-DD/REQUEST-ID.json`,
so a retried write of the same letter replaces it. An SQS queue or SNS topic ARN is accepted in the configuration
(templates written for AWS deploy unchanged) but this platform has neither, so those letters go to the default bucket.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

DEFAULT_BUCKET = "alto-dead-letters"
_LAKE_ARN = re.compile(r"arn:aws[a-zA-Z-]*:s3:::(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?")
_QUEUE_OR_TOPIC_ARN = re.compile(r"arn:aws[a-zA-Z-]*:(?:sqs|sns):[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}")
TARGET_FORMS = "arn:aws:s3:::BUCKET[/PREFIX] (a lake location), an SQS queue ARN or an SNS topic ARN"


@dataclasses.dataclass(frozen=True)
class LakeLocation:
    """A bucket and a key prefix (empty, or ending in '/')."""

    bucket: str
    prefix: str = ""

    def key(self, function_name: str, request_id: str, when: dt.datetime) -> str:
        """Where one dead letter goes under this location."""
        return f"{self.prefix}{function_name}/{when:%Y-%m-%d}/{request_id}.json"


def is_valid_target(arn: str) -> bool:
    """Whether a DeadLetterConfig.TargetArn is one this platform accepts (see TARGET_FORMS)."""
    return bool(_LAKE_ARN.fullmatch(arn) or _QUEUE_OR_TOPIC_ARN.fullmatch(arn))


def lake_location(target_arn: str) -> LakeLocation | None:
    """The lake location a TargetArn names; None for an empty one, or a queue or topic."""
    found = _LAKE_ARN.fullmatch(target_arn)
    if found is None:
        return None
    prefix = (found.group("prefix") or "").strip("/")
    return LakeLocation(found.group("bucket"), f"{prefix}/" if prefix else "")


class LetterBox(Protocol):
    """Stores an object in the lake (app/functions.py implements it over the LakeService)."""

    def put(self, bucket: str, key: str, body: bytes, *, trace_id: str) -> None:
        """Write the object, creating the bucket first if there is none; trace_id goes into its event records."""
        ...


class DeadLetters:
    """Writes dead letters where each function's configuration says, or to the default bucket."""

    def __init__(self, box: LetterBox, *, default_bucket: str = DEFAULT_BUCKET) -> None:
        self._box = box
        self._default = LakeLocation(default_bucket)

    def write(
        self,
        function_name: str,
        target_arn: str,
        request_id: str,
        letter: Mapping[str, Any],
        *,
        when: dt.datetime,
        trace_id: str = "",
    ) -> str:
        """Store one letter as JSON; its s3:// URL."""
        location = lake_location(target_arn) or self._default
        key = location.key(function_name, request_id, when)
        body = json.dumps(letter, indent=2, ensure_ascii=False).encode()
        self._box.put(location.bucket, key, body, trace_id=trace_id)
        return f"s3://{location.bucket}/{key}"
