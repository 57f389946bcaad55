"""Lifecycle rules through boto3, applied by the server's background job on days shortened to one second."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.test_aws_cli import aws, aws_json
from tests.live_server import LiveServer, live_server

DAY = 1.0  # seconds in a lifecycle day on the server under test
FAST = {"ALTO_LAKE_LIFECYCLE_DAY_SECONDS": str(DAY), "ALTO_LAKE_LIFECYCLE_INTERVAL_SECONDS": "0.5"}
_names = itertools.count()


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose lifecycle days last a second and whose lifecycle job runs twice a second."""
    with live_server(tmp_path_factory.mktemp("lifecycle") / "data", env=FAST) as running:
        yield running


@pytest.fixture
def fast(quick: LiveServer) -> Any:
    return quick.client("s3")


@pytest.fixture
def fresh(fast: Any) -> str:
    name = f"life-{next(_names)}"
    fast.create_bucket(Bucket=name)
    return name


def rule(**parts: Any) -> dict[str, Any]:
    return {"ID": parts.pop("ID", f"r{next(_names)}"), "Status": "Enabled", "Filter": {"Prefix": ""}, **parts}


def configure(s3: Any, bucket: str, *rules: dict[str, Any]) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the lifecycle job did not get there in time"
        time.sleep(0.2)


def keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def versions(s3: Any, bucket: str) -> list[tuple[str, bool]]:
    page = s3.list_object_versions(Bucket=bucket)
    return sorted(
        [(v["Key"], False) for v in page.get("Versions", [])]
        + [(m["Key"], True) for m in page.get("DeleteMarkers", [])]
    )


def test_configurations_round_trip(s3: Any, bucket: str) -> None:
    fails(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket), "NoSuchLifecycleConfiguration", 404)
    rules = [
        rule(ID="logs", Filter={"Prefix": "logs/"}, Expiration={"Days": 30}),
        rule(
            ID="tagged",
            Filter={"Tag": {"Key": "temp", "Value": "yes"}},
            Expiration={"Date": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
        ),
        rule(
            ID="old",
            Filter={"And": {"Prefix": "data/", "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 1000}},
            NoncurrentVersionExpiration={"NoncurrentDays": 7, "NewerNoncurrentVersions": 2},
        ),
        rule(
            ID="markers",
            Expiration={"ExpiredObjectDeleteMarker": True},
            AbortIncompleteMultipartUpload={"DaysAfterInitiation": 3},
        ),
        {"ID": "off", "Status": "Disabled", "Prefix": "legacy/", "Expiration": {"Days": 1}},
    ]
    configure(s3, bucket, *rules)
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["ID"] for r in got] == ["logs", "tagged", "old", "markers", "off"]
    assert got[0]["Filter"] == {"Prefix": "logs/"} and got[0]["Expiration"] == {"Days": 30}
    assert got[1]["Filter"] == {"Tag": {"Key": "temp", "Value": "yes"}}
    assert got[1]["Expiration"]["Date"] == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert got[2]["Filter"]["And"] == {"Prefix": "data/", "ObjectSizeGreaterThan": 10, "ObjectSizeLessThan": 1000}
    assert got[2]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 7, "NewerNoncurrentVersions": 2}
    assert got[3]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
    assert (got[4]["Status"], got[4]["Prefix"]) == ("Disabled", "legacy/")
    s3.delete_bucket_lifecycle(Bucket=bucket)
    fails(lambda: s3.get_bucket_lifecycle_configuration(Bucket=bucket), "NoSuchLifecycleConfiguration", 404)


@pytest.mark.parametrize(
    ("bad", "code", "status"),
    [
        (rule(Expiration={"Days": 0}), "InvalidArgument", 400),
        (rule(Filter={"Prefix": "x"}), "InvalidArgument", 400),
        (rule(Expiration={"Days": 1, "Date": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}), "MalformedXML", 400),
        (rule(Expiration={"Date": dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)}), "InvalidArgument", 400),
        (rule(Transitions=[{"Days": 30, "StorageClass": "GLACIER"}]), "NotImplemented", 501),
        (rule(Status="Sometimes", Expiration={"Days": 1}), "MalformedXML", 400),
        (
            rule(Filter={"Tag": {"Key": "a", "Value": "b"}}, Expiration={"ExpiredObjectDeleteMarker": True}),
            "InvalidArgument",
            400,
        ),
    ],
)
def test_bad_rules_are_refused(server: Any, bucket: str, bad: dict[str, Any], code: str, status: int) -> None:
    raw = server.client("s3", parameter_validation=False)
    fails(lambda: configure(raw, bucket, bad), code, status)


def test_duplicate_rule_ids_are_refused(s3: Any, bucket: str) -> None:
    twice = [rule(ID="same", Expiration={"Days": 1}), rule(ID="same", Expiration={"Days": 2})]
    fails(lambda: configure(s3, bucket, *twice), "InvalidArgument", 400)


def test_objects_expire_after_a_day(fast: Any, fresh: str) -> None:
    for key in ("logs/a", "logs/b", "keep/c"):
        fast.put_object(Bucket=fresh, Key=key, Body=b"x")
    configure(fast, fresh, rule(Filter={"Prefix": "logs/"}, Expiration={"Days": 1}))
    eventually(lambda: keys(fast, fresh) == ["keep/c"])
    time.sleep(3 * DAY)
    assert keys(fast, fresh) == ["keep/c"]


def test_tag_and_size_filters_choose_what_expires(fast: Any, fresh: str) -> None:
    fast.put_object(Bucket=fresh, Key="tagged", Body=b"x", Tagging="temp=yes")
    fast.put_object(Bucket=fresh, Key="untagged", Body=b"x")
    fast.put_object(Bucket=fresh, Key="big", Body=b"x" * 100)
    configure(
        fast,
        fresh,
        rule(Filter={"Tag": {"Key": "temp", "Value": "yes"}}, Expiration={"Days": 1}),
        rule(Filter={"ObjectSizeGreaterThan": 50}, Expiration={"Days": 1}),
    )
    eventually(lambda: keys(fast, fresh) == ["untagged"])


def test_versioned_buckets_expire_into_markers_then_clean_up(fast: Any, fresh: str) -> None:
    fast.put_bucket_versioning(Bucket=fresh, VersioningConfiguration={"Status": "Enabled"})
    for n in range(3):
        fast.put_object(Bucket=fresh, Key="k", Body=b"%d" % n)
    history = {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}
    configure(fast, fresh, rule(ID="history", NoncurrentVersionExpiration=history))
    # Of the two older versions the newest noncurrent one is kept (NewerNoncurrentVersions=1); the other goes.
    eventually(lambda: versions(fast, fresh) == [("k", False), ("k", False)])
    configure(
        fast,
        fresh,
        rule(ID="current", Expiration={"Days": 1}),
        rule(ID="history", NoncurrentVersionExpiration={"NoncurrentDays": 1}),
        rule(ID="markers", Expiration={"ExpiredObjectDeleteMarker": True}),
    )
    # The current version expires into a delete marker, the history goes, and the marker left alone with it.
    eventually(lambda: versions(fast, fresh) == [], timeout=30)


def test_incomplete_uploads_are_aborted(fast: Any, fresh: str) -> None:
    upload = fast.create_multipart_upload(Bucket=fresh, Key="tmp/upload")["UploadId"]
    kept = fast.create_multipart_upload(Bucket=fresh, Key="other/upload")["UploadId"]
    configure(fast, fresh, rule(Filter={"Prefix": "tmp/"}, AbortIncompleteMultipartUpload={"DaysAfterInitiation": 1}))
    eventually(lambda: [u["UploadId"] for u in fast.list_multipart_uploads(Bucket=fresh).get("Uploads", [])] == [kept])
    fails(lambda: fast.list_parts(Bucket=fresh, Key="tmp/upload", UploadId=upload), "NoSuchUpload", 404)


def test_locked_versions_outlive_their_rules(fast: Any) -> None:
    name = f"life-locked-{next(_names)}"
    fast.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    held = fast.put_object(Bucket=name, Key="k", Body=b"held", ObjectLockLegalHoldStatus="ON")["VersionId"]
    fast.put_object(Bucket=name, Key="k", Body=b"newer")
    configure(fast, name, rule(NoncurrentVersionExpiration={"NoncurrentDays": 1}))
    time.sleep(4 * DAY)
    assert fast.get_object(Bucket=name, Key="k", VersionId=held)["Body"].read() == b"held"


def test_rules_keep_working_across_a_restart(tmp_path: Path) -> None:
    with live_server(tmp_path / "data", env=FAST) as first:
        s3 = first.client("s3")
        s3.create_bucket(Bucket="restarts")
        s3.put_object(Bucket="restarts", Key="old", Body=b"x")
        configure(s3, "restarts", rule(Expiration={"Days": 3}))
    with live_server(tmp_path / "data", env=FAST) as second:
        s3 = second.client("s3")
        assert s3.get_bucket_lifecycle_configuration(Bucket="restarts")["Rules"][0]["Expiration"] == {"Days": 3}
        eventually(lambda: keys(s3, "restarts") == [])


def test_the_aws_cli_puts_and_reads_a_lifecycle(server: Any, bucket: str, tmp_path: Path) -> None:
    document = tmp_path / "lifecycle.json"
    document.write_text(json.dumps({"Rules": [rule(ID="cli", Filter={"Prefix": "tmp/"}, Expiration={"Days": 7})]}))
    config = ["--bucket", bucket, "--lifecycle-configuration", f"file://{document}"]
    aws_json(server, "s3api", "put-bucket-lifecycle-configuration", *config)
    got = aws_json(server, "s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket)
    assert got["Rules"] == [{"ID": "cli", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Days": 7}}]
    aws(server, "s3api", "delete-bucket-lifecycle", "--bucket", bucket)
    missing = aws(server, "s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket, ok=False)
    assert "NoSuchLifecycleConfiguration" in missing.stderr
