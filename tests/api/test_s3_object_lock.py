"""Object lock through boto3: lock-enabled buckets, default retention, GOVERNANCE and COMPLIANCE, legal holds."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.test_aws_cli import aws, aws_json

_names = itertools.count()


@pytest.fixture
def locked(s3: Any) -> str:
    """A fresh bucket created with object lock."""
    name = f"locked-{next(_names)}"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def later(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(**delta)


def put(s3: Any, bucket: str, key: str = "k", **kw: Any) -> str:
    return s3.put_object(Bucket=bucket, Key=key, Body=b"kept", **kw)["VersionId"]  # type: ignore[no-any-return]


def test_a_lock_enabled_bucket_is_versioned_for_good(s3: Any, locked: str) -> None:
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled"
    }
    fails(
        lambda: s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Suspended"}),
        "InvalidBucketState",
        409,
    )


def test_buckets_without_lock(s3: Any, bucket: str) -> None:
    fails(lambda: s3.get_object_lock_configuration(Bucket=bucket), "ObjectLockConfigurationNotFoundError", 404)
    fails(lambda: s3.get_object_retention(Bucket=bucket, Key="k"), "InvalidRequest", 400)
    until = later(days=1)
    error = fails(
        lambda: s3.put_object(
            Bucket=bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until
        ),
        "InvalidRequest",
        400,
    )
    assert "Object Lock" in error.response["Error"]["Message"]
    # A versioned bucket may have object lock turned on later; an unversioned one may not.
    config = {"ObjectLockEnabled": "Enabled"}
    fails(
        lambda: s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config),
        "InvalidBucketState",
        409,
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=config)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == config


def test_governance_retention_blocks_deletes_unless_bypassed(s3: Any, locked: str) -> None:
    version = put(s3, locked, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later(days=1))
    head = s3.head_object(Bucket=locked, Key="k")
    assert head["ObjectLockMode"] == "GOVERNANCE" and head["ObjectLockRetainUntilDate"] > later(hours=23)
    retention = s3.get_object_retention(Bucket=locked, Key="k", VersionId=version)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    fails(lambda: s3.delete_object(Bucket=locked, Key="k", VersionId=version), "AccessDenied", 403)
    # A delete without a version id removes nothing: it adds a delete marker, as S3 allows.
    assert s3.delete_object(Bucket=locked, Key="k")["DeleteMarker"] is True
    s3.delete_object(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True)
    fails(lambda: s3.get_object(Bucket=locked, Key="k", VersionId=version), "NoSuchVersion", 404)


def test_compliance_retention_cannot_be_shortened_or_bypassed(s3: Any, locked: str) -> None:
    until = later(days=2)
    version = put(s3, locked, ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    fails(
        lambda: s3.delete_object(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True),
        "AccessDenied",
        403,
    )
    shorter = {"Mode": "COMPLIANCE", "RetainUntilDate": later(days=1)}
    fails(
        lambda: s3.put_object_retention(Bucket=locked, Key="k", Retention=shorter, BypassGovernanceRetention=True),
        "AccessDenied",
        403,
    )
    weaker = {"Mode": "GOVERNANCE", "RetainUntilDate": later(days=3)}
    fails(lambda: s3.put_object_retention(Bucket=locked, Key="k", Retention=weaker), "AccessDenied", 403)
    longer = {"Mode": "COMPLIANCE", "RetainUntilDate": later(days=3)}
    s3.put_object_retention(Bucket=locked, Key="k", Retention=longer)
    assert s3.get_object_retention(Bucket=locked, Key="k")["Retention"]["RetainUntilDate"] > later(days=2, hours=23)


def test_governance_retention_changes_with_bypass(s3: Any, locked: str) -> None:
    put(s3, locked, ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later(days=5))
    shorter = {"Mode": "GOVERNANCE", "RetainUntilDate": later(days=1)}
    fails(lambda: s3.put_object_retention(Bucket=locked, Key="k", Retention=shorter), "AccessDenied", 403)
    s3.put_object_retention(Bucket=locked, Key="k", Retention=shorter, BypassGovernanceRetention=True)
    assert s3.get_object_retention(Bucket=locked, Key="k")["Retention"]["RetainUntilDate"] < later(days=2)


def test_legal_hold_keeps_a_version_until_it_is_taken_off(s3: Any, locked: str) -> None:
    version = put(s3, locked, ObjectLockLegalHoldStatus="ON")
    assert s3.get_object_legal_hold(Bucket=locked, Key="k")["LegalHold"] == {"Status": "ON"}
    assert s3.get_object(Bucket=locked, Key="k")["ObjectLockLegalHoldStatus"] == "ON"
    fails(
        lambda: s3.delete_object(Bucket=locked, Key="k", VersionId=version, BypassGovernanceRetention=True),
        "AccessDenied",
        403,
    )
    s3.put_object_legal_hold(Bucket=locked, Key="k", VersionId=version, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked, Key="k", VersionId=version)
    result = s3.delete_objects(Bucket=locked, Delete={"Objects": [{"Key": "k", "VersionId": version}]})
    assert result["Deleted"] == [{"Key": "k", "VersionId": version}]


def test_default_retention_applies_to_new_versions(s3: Any, locked: str) -> None:
    rule = {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}
    s3.put_object_lock_configuration(
        Bucket=locked, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": rule}
    )
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]["Rule"] == rule
    version = put(s3, locked)
    retention = s3.get_object_retention(Bucket=locked, Key="k", VersionId=version)["Retention"]
    assert retention["Mode"] == "GOVERNANCE" and later(hours=23) < retention["RetainUntilDate"] < later(days=1, hours=1)
    blocked = s3.delete_objects(Bucket=locked, Delete={"Objects": [{"Key": "k", "VersionId": version}]})
    assert (blocked["Errors"][0]["Code"], blocked["Errors"][0]["VersionId"]) == ("AccessDenied", version)
    upload = s3.create_multipart_upload(Bucket=locked, Key="mp")["UploadId"]
    etag = s3.upload_part(Bucket=locked, Key="mp", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=locked, Key="mp", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert s3.head_object(Bucket=locked, Key="mp", VersionId=done["VersionId"])["ObjectLockMode"] == "GOVERNANCE"


def test_copies_carry_the_lock_they_ask_for_not_the_sources(s3: Any, locked: str) -> None:
    put(s3, locked, ObjectLockLegalHoldStatus="ON")
    copied = s3.copy_object(Bucket=locked, Key="copy", CopySource={"Bucket": locked, "Key": "k"})
    assert "ObjectLockLegalHoldStatus" not in s3.head_object(Bucket=locked, Key="copy", VersionId=copied["VersionId"])
    until = later(days=1)
    s3.copy_object(
        Bucket=locked,
        Key="copy2",
        CopySource={"Bucket": locked, "Key": "k"},
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=until,
    )
    assert s3.head_object(Bucket=locked, Key="copy2")["ObjectLockMode"] == "COMPLIANCE"


def test_bad_lock_requests(server: Any, s3: Any, locked: str) -> None:
    raw = server.client("s3", parameter_validation=False)
    fails(
        lambda: raw.put_object(
            Bucket=locked, Key="k", Body=b"x", ObjectLockMode="FOREVER", ObjectLockRetainUntilDate=later(days=1)
        ),
        "InvalidArgument",
        400,
    )
    fails(
        lambda: raw.put_object(
            Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later(days=-1)
        ),
        "InvalidArgument",
        400,
    )
    fails(
        lambda: raw.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE"), "InvalidArgument", 400
    )
    both = {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}
    fails(
        lambda: raw.put_object_lock_configuration(
            Bucket=locked, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": both}}
        ),
        "MalformedXML",
        400,
    )
    zero = {"Mode": "GOVERNANCE", "Days": 0}
    fails(
        lambda: raw.put_object_lock_configuration(
            Bucket=locked, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": zero}}
        ),
        "InvalidArgument",
        400,
    )
    fails(
        lambda: raw.create_multipart_upload(Bucket=locked, Key="mp", ObjectLockLegalHoldStatus="ON"),
        "NotImplemented",
        501,
    )
    put(s3, locked)
    fails(lambda: raw.get_object_retention(Bucket=locked, Key="k"), "NoSuchObjectLockConfiguration", 404)
    fails(lambda: raw.put_object_legal_hold(Bucket=locked, Key="k", LegalHold={"Status": "MAYBE"}), "MalformedXML", 400)
    fails(lambda: raw.get_object_legal_hold(Bucket=locked, Key="k", VersionId="F" * 32), "NoSuchVersion", 404)


def test_lock_parameters_need_an_integrity_header(server: Any, locked: str) -> None:
    bare = server.client("s3", request_checksum_calculation="when_required")
    sent: list[dict[str, str]] = []
    bare.meta.events.register("before-send.s3.PutObject", lambda request, **kw: sent.append(dict(request.headers)))
    error = fails(
        lambda: bare.put_object(Bucket=locked, Key="k", Body=b"x", ObjectLockLegalHoldStatus="ON"),
        "InvalidRequest",
        400,
    )
    assert "Content-MD5 OR x-amz-checksum-" in error.response["Error"]["Message"]
    assert not any(name.lower().startswith(("content-md5", "x-amz-checksum-")) for name in sent[0])


def test_the_aws_cli_sets_and_reads_a_legal_hold(server: Any, s3: Any, locked: str) -> None:
    version = put(s3, locked)
    hold = ["--bucket", locked, "--key", "k", "--version-id", version]
    aws_json(server, "s3api", "put-object-legal-hold", *hold, "--legal-hold", "Status=ON")
    assert aws_json(server, "s3api", "get-object-legal-hold", *hold) == {"LegalHold": {"Status": "ON"}}
    refused = aws(server, "s3api", "delete-object", *hold, ok=False)
    assert refused.returncode != 0 and "AccessDenied" in refused.stderr
