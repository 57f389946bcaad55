"""S3 event records on the platform's event bus: their exact shape, and which rules select them."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest

from altostratus.app import Platform, build_platform, create_asgi_app
from altostratus.auth.keys import Role
from altostratus.core.caller import Caller
from altostratus.core.clock import Clock, SystemClock
from altostratus.core.events import Event
from altostratus.core.settings import Settings
from altostratus.lake import notifications
from altostratus.lake.multipart import MIN_PART_SIZE
from altostratus.lake.objects import NotificationRule, ObjectMeta
from tests.api.raw import build_signed

NOW = dt.datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=dt.UTC)
ARN = "arn:aws:lambda:us-east-1:000000000000:function:handler"
CALLER = Caller("AKIAEXAMPLE", "10.1.2.3", "req-123")


class FixedClock:
    """A clock stopped at NOW."""

    def now(self) -> dt.datetime:
        """NOW."""
        return NOW

    def monotonic(self) -> float:
        """The machine's monotonic clock."""
        return time.monotonic()


def make_platform(tmp_path: Path, clock: Clock) -> Platform:
    """A platform over a temporary data directory, with its workers not started."""
    settings = Settings.load({}, config_file=tmp_path / "absent.toml", data_dir=tmp_path / "data")
    return build_platform(settings, clock=clock)


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    """A platform whose clock is stopped at NOW."""
    built = make_platform(tmp_path, FixedClock())
    yield built
    built.close()


@pytest.fixture
def events(platform: Platform) -> list[dict[str, Any]]:
    """Every notification published on the bus, as (function ARN, record) dictionaries."""
    seen: list[dict[str, Any]] = []

    def collect(topic: str, event: Event) -> None:
        # The object is committed before it is announced: a subscriber can already read it.
        record = event["event"]["Records"][0]
        if record["eventName"].startswith("ObjectCreated"):
            platform.lake.head(record["s3"]["bucket"]["name"], platform_key(record))
        seen.append(dict(event))

    platform.bus.subscribe(notifications.TOPIC, collect)
    return seen


def platform_key(record: dict[str, Any]) -> str:
    """The key of a record, decoded from its URL form."""
    return unquote_plus(record["s3"]["object"]["key"])


def rule(rule_id: str, *events: str, prefix: str = "", suffix: str = "") -> NotificationRule:
    """A rule sending these events to ARN."""
    return NotificationRule(rule_id, ARN, events, prefix, suffix)


def put(platform: Platform, bucket: str, key: str, data: bytes) -> None:
    """Write one object through the lake, as the PUT handler does."""
    writer = platform.lake.object_writer(bucket, key, ObjectMeta())
    writer.write(data)
    writer.commit(CALLER)


def records(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The single record of each event."""
    out = []
    for event in events:
        assert event["function_arn"] == ARN
        assert len(event["event"]["Records"]) == 1
        out.append(event["event"]["Records"][0])
    return out


def test_put_record_shape(platform: Platform, events: list[dict[str, Any]]) -> None:
    platform.lake.create_bucket("photos")
    platform.lake.set_notification_rules("photos", [rule("on-create", "s3:ObjectCreated:*")])
    put(platform, "photos", "albums/summer trip/ü+1.jpg", b"jpeg bytes")
    (record,) = records(events)
    sequencer = record["s3"]["object"].pop("sequencer")
    assert record == {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-03-04T05:06:07.891Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AKIAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "10.1.2.3"},
        "responseElements": {"x-amz-request-id": "req-123", "x-amz-id-2": "req-123"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "on-create",
            "bucket": {
                "name": "photos",
                "ownerIdentity": {"principalId": "AKIAEXAMPLE"},
                "arn": "arn:aws:s3:::photos",
            },
            "object": {
                "key": "albums/summer+trip/%C3%BC%2B1.jpg",
                "size": 10,
                "eTag": hashlib.md5(b"jpeg bytes").hexdigest(),
            },
        },
    }
    assert isinstance(sequencer, str)
    int(sequencer, 16)


def test_copy_multipart_and_delete_records(platform: Platform, events: list[dict[str, Any]]) -> None:
    lake = platform.lake
    lake.create_bucket("data")
    lake.set_notification_rules("data", [rule("all", "s3:ObjectCreated:*", "s3:ObjectRemoved:*")])
    put(platform, "data", "src.csv", b"a,b\n1,2\n")
    source = lake.head("data", "src.csv")
    lake.copy_object(source, "data", "copy.csv", None, CALLER)

    upload = platform.multipart.create("data", "big.bin", ObjectMeta())
    parts = [b"x" * MIN_PART_SIZE, b"tail"]
    etags = []
    for number, data in enumerate(parts, start=1):
        writer = platform.multipart.part_writer("data", "big.bin", upload.upload_id, number)
        writer.write(data)
        etags.append(writer.commit_part().etag)
    platform.multipart.complete("data", "big.bin", upload.upload_id, list(enumerate(etags, start=1)), CALLER)
    lake.delete_object("data", "copy.csv", CALLER)

    found = records(events)
    assert [r["eventName"] for r in found] == [
        "ObjectCreated:Put",
        "ObjectCreated:Copy",
        "ObjectCreated:CompleteMultipartUpload",
        "ObjectRemoved:Delete",
    ]
    copy, multipart, delete = found[1:]
    assert copy["s3"]["object"]["key"] == "copy.csv"
    assert (copy["s3"]["object"]["size"], copy["s3"]["object"]["eTag"]) == (8, hashlib.md5(b"a,b\n1,2\n").hexdigest())
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    assert multipart["s3"]["object"]["eTag"] == f"{hashlib.md5(md5s).hexdigest()}-2"
    assert multipart["s3"]["object"]["size"] == MIN_PART_SIZE + 4
    assert set(delete["s3"]["object"]) == {"key", "sequencer"}
    assert delete["s3"]["object"]["key"] == "copy.csv"
    for record in found:
        assert record["eventTime"] == "2026-03-04T05:06:07.891Z"
        assert record["s3"]["bucket"]["name"] == "data"
        assert record["s3"]["configurationId"] == "all"
    sequencers = [r["s3"]["object"]["sequencer"] for r in found]
    assert sequencers == sorted(sequencers)
    assert len(set(sequencers)) == len(sequencers)


@pytest.mark.parametrize(
    ("rules", "key", "wanted"),
    [
        ([rule("r", "s3:ObjectCreated:Put", prefix="in/")], "in/a.txt", ["r"]),
        ([rule("r", "s3:ObjectCreated:Put", prefix="in/")], "out/a.txt", []),
        ([rule("r", "s3:ObjectCreated:Put", prefix="in/")], "in", []),
        ([rule("r", "s3:ObjectCreated:Put", suffix=".jpg")], "a/b.jpg", ["r"]),
        ([rule("r", "s3:ObjectCreated:Put", suffix=".jpg")], "a/b.jpeg", []),
        ([rule("r", "s3:ObjectCreated:Put", suffix=".jpg")], "a/b.JPG", []),
        ([rule("r", "s3:ObjectCreated:Put", prefix="in/", suffix=".jpg")], "in/x.jpg", ["r"]),
        ([rule("r", "s3:ObjectCreated:Put", prefix="in/", suffix=".jpg")], "in/x.png", []),
        ([rule("r", "s3:ObjectCreated:Put", prefix="in/", suffix=".jpg")], "other/x.jpg", []),
        ([rule("r", "s3:ObjectCreated:Copy")], "in/x.jpg", []),
        ([rule("r", "s3:ObjectRemoved:*")], "in/x.jpg", []),
        ([rule("r", "s3:ObjectCreated:*")], "in/x.jpg", ["r"]),
        (
            [rule("jpg", "s3:ObjectCreated:*", suffix=".jpg"), rule("in", "s3:ObjectCreated:Put", prefix="in/")],
            "in/x.jpg",
            ["jpg", "in"],
        ),
    ],
)
def test_filters_select_records(
    platform: Platform, events: list[dict[str, Any]], rules: list[NotificationRule], key: str, wanted: list[str]
) -> None:
    platform.lake.create_bucket("filtered")
    platform.lake.set_notification_rules("filtered", rules)
    put(platform, "filtered", key, b"x")
    assert [r["s3"]["configurationId"] for r in records(events)] == wanted


def test_delete_rule_ignores_creation(platform: Platform, events: list[dict[str, Any]]) -> None:
    platform.lake.create_bucket("deletes")
    platform.lake.set_notification_rules("deletes", [rule("gone", "s3:ObjectRemoved:Delete", prefix="tmp/")])
    put(platform, "deletes", "tmp/a", b"x")
    put(platform, "deletes", "keep/a", b"x")
    platform.lake.delete_object("deletes", "keep/a", CALLER)
    assert events == []
    platform.lake.delete_object("deletes", "tmp/a", CALLER)
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records(events)] == [("ObjectRemoved:Delete", "tmp/a")]


def test_no_rules_no_events(platform: Platform, events: list[dict[str, Any]]) -> None:
    platform.lake.create_bucket("quiet")
    put(platform, "quiet", "a", b"x")
    platform.lake.delete_object("quiet", "a", CALLER)
    assert events == []


@pytest.fixture
def live_platform(tmp_path: Path) -> Iterator[Platform]:
    """A platform on the machine's clock, so that botocore's signatures are fresh."""
    built = make_platform(tmp_path, SystemClock())
    yield built
    built.close()


def test_records_through_the_gateway(live_platform: Platform) -> None:
    """A PUT through the HTTP gateway carries the signer's key id, address and request id into the record."""
    platform = live_platform
    events: list[dict[str, Any]] = []
    platform.bus.subscribe(notifications.TOPIC, lambda topic, event: events.append(dict(event)))
    key = platform.keys.create(Role.ADMIN)
    platform.lake.create_bucket("wire")
    platform.lake.set_notification_rules("wire", [rule("wire", "s3:ObjectCreated:*", "s3:ObjectRemoved:*")])
    app = create_asgi_app(platform)
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 5555))

    async def scenario() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            replies = []
            for method, path, body in (
                ("PUT", "/wire/dir/a b.txt", b"hello"),
                ("DELETE", "/wire/dir/a b.txt", b""),
            ):
                request = build_signed(
                    client,
                    method,
                    f"http://testserver{path}",
                    access_key=key.access_key_id,
                    secret_key=key.secret_access_key,
                    body=body,
                )
                replies.append(await client.send(request))
            return replies

    put_reply, delete_reply = asyncio.run(scenario())
    assert (put_reply.status_code, delete_reply.status_code) == (200, 204)
    put_record, delete_record = records(events)
    assert put_record["eventName"] == "ObjectCreated:Put"
    assert put_record["userIdentity"] == {"principalId": key.access_key_id}
    assert put_record["requestParameters"] == {"sourceIPAddress": "192.0.2.7"}
    assert put_record["responseElements"]["x-amz-request-id"] == put_reply.headers["x-amz-request-id"]
    assert put_record["s3"]["object"]["key"] == "dir/a+b.txt"
    assert put_record["s3"]["object"]["eTag"] == put_reply.headers["etag"].strip('"')
    assert delete_record["responseElements"]["x-amz-request-id"] == delete_reply.headers["x-amz-request-id"]
