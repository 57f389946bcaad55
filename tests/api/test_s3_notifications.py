"""Bucket notification configuration through real boto3: round trips, filters, and what S3 refuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.errors import error_code, fails
from tests.api.raw import send_signed
from tests.live_server import LiveServer

ARN = "arn:aws:lambda:us-east-1:000000000000:function:on-upload"


def lambda_config(events: list[str], *, rule_id: str = "", prefix: str = "", suffix: str = "") -> dict[str, Any]:
    """One LambdaFunctionConfiguration as boto3 takes it."""
    config: dict[str, Any] = {"LambdaFunctionArn": ARN, "Events": events}
    if rule_id:
        config["Id"] = rule_id
    rules = [{"Name": name, "Value": value} for name, value in (("prefix", prefix), ("suffix", suffix)) if value]
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    return config


def test_empty_configuration(s3: Any, bucket: str) -> None:
    got = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert "LambdaFunctionConfigurations" not in got
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_round_trip_with_filters(s3: Any, bucket: str) -> None:
    configs = [
        lambda_config(["s3:ObjectCreated:*"], rule_id="images", prefix="uploads/", suffix=".jpg"),
        lambda_config(["s3:ObjectRemoved:Delete", "s3:ObjectCreated:Copy"], rule_id="audit"),
        lambda_config(["s3:ObjectCreated:CompleteMultipartUpload"], rule_id="big", suffix=".bin"),
    ]
    put = s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs}
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert [(c["Id"], c["LambdaFunctionArn"], c["Events"]) for c in got] == [
        ("images", ARN, ["s3:ObjectCreated:*"]),
        ("audit", ARN, ["s3:ObjectRemoved:Delete", "s3:ObjectCreated:Copy"]),
        ("big", ARN, ["s3:ObjectCreated:CompleteMultipartUpload"]),
    ]
    rules = [
        {r["Name"].lower(): r["Value"] for r in c.get("Filter", {}).get("Key", {}).get("FilterRules", [])} for c in got
    ]
    assert rules == [{"prefix": "uploads/", "suffix": ".jpg"}, {}, {"suffix": ".bin"}]


def test_id_is_made_up_when_missing(s3: Any, bucket: str) -> None:
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"LambdaFunctionConfigurations": [lambda_config(["s3:ObjectCreated:Put"])]},
    )
    (config,) = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert config["Id"]


def test_replacing_and_clearing(s3: Any, bucket: str) -> None:
    first = {"LambdaFunctionConfigurations": [lambda_config(["s3:ObjectCreated:*"], rule_id="one")]}
    second = {"LambdaFunctionConfigurations": [lambda_config(["s3:ObjectRemoved:*"], rule_id="two")]}
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=first)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=second)
    got = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert [c["Id"] for c in got] == ["two"]
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


@pytest.mark.parametrize(
    "events",
    [
        ["s3:ObjectCreated:Posted"],
        ["ObjectCreated:Put"],
        ["s3:ObjectRestore:*"],
        ["s3:*"],
        ["s3:ObjectCreated:Put", "x"],
    ],
)
def test_unknown_event_names(s3: Any, bucket: str, events: list[str]) -> None:
    config = {"LambdaFunctionConfigurations": [lambda_config(events)]}
    fails(
        lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config),
        "InvalidArgument",
        400,
    )
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


@pytest.mark.parametrize(
    "config",
    [
        {
            "TopicConfigurations": [
                {"TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Events": ["s3:ObjectCreated:*"]}
            ]
        },
        {
            "QueueConfigurations": [
                {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    ],
    ids=["topic", "queue"],
)
def test_topic_and_queue_configurations_are_refused(s3: Any, bucket: str, config: dict[str, Any]) -> None:
    error = fails(
        lambda: s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config),
        "InvalidArgument",
        400,
    )
    assert "LambdaFunctionConfiguration" in error.response["Error"]["Message"]


def test_duplicate_ids(s3: Any, bucket: str) -> None:
    configs = [
        lambda_config(["s3:ObjectCreated:*"], rule_id="same"),
        lambda_config(["s3:ObjectRemoved:*"], rule_id="same"),
    ]
    fails(
        lambda: s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs}
        ),
        "InvalidArgument",
        400,
    )


def test_unknown_filter_rule_name(s3: Any, bucket: str) -> None:
    config = lambda_config(["s3:ObjectCreated:*"])
    config["Filter"] = {"Key": {"FilterRules": [{"Name": "contains", "Value": "x"}]}}
    fails(
        lambda: s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [config]}
        ),
        "InvalidArgument",
        400,
    )


def test_missing_bucket(s3: Any) -> None:
    config = {"LambdaFunctionConfigurations": [lambda_config(["s3:ObjectCreated:*"])]}
    fails(
        lambda: s3.put_bucket_notification_configuration(
            Bucket="no-such-bucket-here", NotificationConfiguration=config
        ),
        "NoSuchBucket",
        404,
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<NotificationConfiguration>",
        b"<Other/>",
        b"<NotificationConfiguration><CloudFunctionConfiguration><Event>s3:ObjectCreated:*</Event>"
        b"</NotificationConfiguration>",
    ],
)
def test_malformed_xml(http: httpx.Client, server: LiveServer, bucket: str, body: bytes) -> None:
    response = send_signed(http, server, "PUT", f"/{bucket}?notification", body=body)
    assert (response.status_code, error_code(response)) == (400, "MalformedXML")
