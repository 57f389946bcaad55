"""Bucket notification rules and the S3 event records they produce."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus

from altostratus.core.caller import Caller
from altostratus.core.errors import InvalidArgument
from altostratus.lake.objects import NotificationRule, ObjectInfo

TOPIC = "lake.notification"
# Every object change, whatever the rules: {"event", "bucket", "key", "etag"} (pipelines re-run on new data).
OBJECT_TOPIC = "lake.object"
EVENT_TYPES = frozenset(
    {
        "s3:ObjectCreated:*",
        "s3:ObjectCreated:Put",
        "s3:ObjectCreated:Post",
        "s3:ObjectCreated:Copy",
        "s3:ObjectCreated:CompleteMultipartUpload",
        "s3:ObjectRemoved:*",
        "s3:ObjectRemoved:Delete",
        "s3:ObjectRemoved:DeleteMarkerCreated",
        "s3:ObjectTagging:*",
        "s3:ObjectTagging:Put",
        "s3:ObjectTagging:Delete",
    }
)
_sequence = itertools.count()


def check_rules(rules: Iterable[NotificationRule]) -> list[NotificationRule]:
    """The rules, checked: known event types, an ARN, unique ids."""
    checked: list[NotificationRule] = []
    seen: set[str] = set()
    for rule in rules:
        if not rule.function_arn:
            raise InvalidArgument("LambdaFunctionArn is required in every LambdaFunctionConfiguration")
        if not rule.events:
            raise InvalidArgument(f"Id={rule.rule_id!r}: Events must name at least one event")
        unknown = sorted(set(rule.events) - EVENT_TYPES)
        if unknown:
            raise InvalidArgument(f"Events={unknown}: unknown event types; expected some of {sorted(EVENT_TYPES)}")
        if rule.rule_id in seen:
            raise InvalidArgument(f"Id={rule.rule_id!r} is used by more than one configuration")
        seen.add(rule.rule_id)
        checked.append(rule)
    return checked


def matches(rule: NotificationRule, event_name: str, key: str) -> bool:
    """Whether the rule asks for this event ("ObjectCreated:Put") on this key."""
    family = event_name.split(":", 1)[0]
    wanted = {f"s3:{event_name}", f"s3:{family}:*"}
    return bool(wanted & set(rule.events)) and key.startswith(rule.prefix) and key.endswith(rule.suffix)


def event_record(
    *,
    event_name: str,
    rule: NotificationRule,
    region: str,
    bucket: str,
    key: str,
    caller: Caller,
    event_time: str,
    obj: ObjectInfo | None,
) -> dict[str, Any]:
    """One S3 event notification message, shaped exactly as S3 sends it to a Lambda function."""
    s3_object: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    if obj is not None:
        s3_object.update(size=obj.size, eTag=obj.etag.strip('"'))
    s3_object["sequencer"] = f"{time.time_ns():016X}{next(_sequence) % 0xFFFF:04X}"
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time,
                "eventName": event_name,
                "userIdentity": {"principalId": caller.principal_id},
                "requestParameters": {"sourceIPAddress": caller.source_ip},
                "responseElements": {
                    "x-amz-request-id": caller.request_id,
                    "x-amz-id-2": caller.request_id,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": rule.rule_id,
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": caller.principal_id},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": s3_object,
                },
            }
        ]
    }


def rules_to_json(rules: Iterable[NotificationRule]) -> list[Mapping[str, Any]]:
    """Rules as stored in the metadata store."""
    return [
        {
            "id": r.rule_id,
            "arn": r.function_arn,
            "events": list(r.events),
            "prefix": r.prefix,
            "suffix": r.suffix,
        }
        for r in rules
    ]


def rules_from_json(data: Any) -> list[NotificationRule]:
    """Rules read back from the metadata store."""
    return [
        NotificationRule(d["id"], d["arn"], tuple(d["events"]), d.get("prefix", ""), d.get("suffix", ""))
        for d in (data or [])
    ]
