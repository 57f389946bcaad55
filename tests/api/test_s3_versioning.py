"""Bucket versioning through boto3: version ids, delete markers, reads and deletes by version, listing versions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.test_aws_cli import aws_json


def enable(s3: Any, bucket: str, status: str = "Enabled") -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def body(s3: Any, bucket: str, key: str, **kw: Any) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()  # type: ignore[no-any-return]


def all_versions(s3: Any, bucket: str, **kw: Any) -> list[tuple[str, str, bool, bool]]:
    """(key, version id, is latest, is a delete marker) for every version, following the pages."""
    out = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, **kw):
        entries = [(v, False) for v in page.get("Versions", [])] + [(m, True) for m in page.get("DeleteMarkers", [])]
        out.extend((e["Key"], e["VersionId"], e["IsLatest"], marker) for e, marker in entries)
    return out


def test_state_of_a_new_bucket_and_its_changes(s3: Any, bucket: str) -> None:
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_bad_configurations_are_refused(server: Any, bucket: str) -> None:
    raw = server.client("s3", parameter_validation=False)
    fails(lambda: enable(raw, bucket, "On"), "MalformedXML", 400)
    mfa = {"Status": "Enabled", "MFADelete": "Enabled"}
    fails(lambda: raw.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=mfa), "NotImplemented", 501)
    assert "Status" not in raw.get_bucket_versioning(Bucket=bucket)
    fails(lambda: enable(raw, "no-such-bucket-here"), "NoSuchBucket", 404)


def test_every_write_is_a_version_and_old_ones_stay_readable(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert first != second and len(first) == 32
    assert body(s3, bucket, "k") == b"two"
    assert body(s3, bucket, "k", VersionId=first) == b"one"
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["VersionId"] == second
    head = s3.head_object(Bucket=bucket, Key="k", VersionId=first)
    assert (head["VersionId"], head["ContentLength"]) == (first, 3)
    assert [(v[1], v[2]) for v in all_versions(s3, bucket)] == [(second, True), (first, False)]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]


def test_a_delete_adds_a_marker_that_hides_the_key(s3: Any, server: Any, bucket: str) -> None:
    enable(s3, bucket)
    kept = s3.put_object(Bucket=bucket, Key="k", Body=b"kept")["VersionId"]
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    error = fails(lambda: s3.get_object(Bucket=bucket, Key="k"), "NoSuchKey", 404)
    headers = error.response["ResponseMetadata"]["HTTPHeaders"]
    assert (headers["x-amz-delete-marker"], headers["x-amz-version-id"]) == ("true", marker)
    fails(lambda: s3.head_object(Bucket=bucket, Key="k"), "404", 404)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    error = fails(lambda: s3.get_object(Bucket=bucket, Key="k", VersionId=marker), "MethodNotAllowed", 405)
    assert error.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    assert all_versions(s3, bucket) == [("k", kept, False, False), ("k", marker, True, True)]
    assert body(s3, bucket, "k", VersionId=kept) == b"kept"
    # Removing the marker brings the object back.
    removed = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert (removed["DeleteMarker"], removed["VersionId"]) == (True, marker)
    assert body(s3, bucket, "k") == b"kept"


def test_deleting_the_latest_version_makes_the_previous_one_current(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    first = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    second = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId=second)["VersionId"] == second
    assert body(s3, bucket, "k") == b"one"
    assert all_versions(s3, bucket) == [("k", first, True, False)]
    s3.delete_object(Bucket=bucket, Key="k", VersionId=first)
    assert all_versions(s3, bucket) == []
    fails(lambda: s3.get_object(Bucket=bucket, Key="k"), "NoSuchKey", 404)
    s3.delete_bucket(Bucket=bucket)


def test_version_ids_are_checked(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", VersionId="not-a-version"), "InvalidArgument", 400)
    fails(lambda: s3.get_object(Bucket=bucket, Key="k", VersionId="A" * 32), "NoSuchVersion", 404)
    fails(lambda: s3.delete_object(Bucket=bucket, Key="k", VersionId="bad id"), "InvalidArgument", 400)
    # A well-formed id that names nothing deletes nothing, and S3 answers 204 all the same.
    assert s3.delete_object(Bucket=bucket, Key="k", VersionId="B" * 32)["VersionId"] == "B" * 32
    assert body(s3, bucket, "k") == b"x"


def test_objects_from_before_versioning_are_the_null_version(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")
    assert "VersionId" not in s3.head_object(Bucket=bucket, Key="k")
    enable(s3, bucket)
    after = s3.put_object(Bucket=bucket, Key="k", Body=b"after")["VersionId"]
    assert all_versions(s3, bucket) == [("k", after, True, False), ("k", "null", False, False)]
    assert body(s3, bucket, "k", VersionId="null") == b"before"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId="null")["VersionId"] == "null"


def test_suspended_versioning_replaces_the_null_version_and_keeps_the_others(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    kept = s3.put_object(Bucket=bucket, Key="k", Body=b"versioned")["VersionId"]
    enable(s3, bucket, "Suspended")
    s3.put_object(Bucket=bucket, Key="k", Body=b"null one")
    s3.put_object(Bucket=bucket, Key="k", Body=b"null two")
    assert all_versions(s3, bucket) == [("k", "null", True, False), ("k", kept, False, False)]
    assert body(s3, bucket, "k") == b"null two"
    deleted = s3.delete_object(Bucket=bucket, Key="k")
    assert (deleted["DeleteMarker"], deleted["VersionId"]) == (True, "null")
    assert all_versions(s3, bucket) == [("k", kept, False, False), ("k", "null", True, True)]
    assert body(s3, bucket, "k", VersionId=kept) == b"versioned"


def test_copy_from_an_old_version(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    old = s3.put_object(Bucket=bucket, Key="src", Body=b"old")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"new")
    copied = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": old})
    assert copied["CopySourceVersionId"] == old
    assert copied["VersionId"] != old
    assert body(s3, bucket, "dst") == b"old"
    fails(
        lambda: s3.copy_object(
            Bucket=bucket, Key="d2", CopySource={"Bucket": bucket, "Key": "src", "VersionId": "C" * 32}
        ),
        "NoSuchVersion",
        404,
    )


def test_multipart_completion_is_a_version(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=b"part")["ETag"]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}
    )
    assert done["VersionId"] == s3.head_object(Bucket=bucket, Key="big")["VersionId"]


def test_listing_versions_in_pages_with_prefixes(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    expected = []
    for key in ["a", "b/1", "b/2", "c", "d"]:
        ids = [s3.put_object(Bucket=bucket, Key=key, Body=key.encode() * n)["VersionId"] for n in range(3)]
        expected.extend((key, vid, vid == ids[-1] and key != "c", False) for vid in reversed(ids))
    expected.append(("c", s3.delete_object(Bucket=bucket, Key="c")["VersionId"], True, True))
    whole = all_versions(s3, bucket)
    assert sorted(whole) == sorted(expected)
    # boto3 parts each page into Versions and DeleteMarkers; within those, keys come in order, newest first.
    versions = [entry for entry in whole if not entry[3]]
    assert versions == [entry for entry in expected if not entry[3]]
    for size in (1, 2, 4, 7):
        assert sorted(all_versions(s3, bucket, PaginationConfig={"PageSize": size})) == sorted(whole)
    rolled = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["b/"]
    assert {v["Key"] for v in rolled["Versions"]} == {"a", "c", "d"}
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Delimiter="/", MaxKeys=2))
    prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    assert prefixes == ["b/"]
    under = s3.list_object_versions(Bucket=bucket, Prefix="b/")
    assert {v["Key"] for v in under["Versions"]} == {"b/1", "b/2"} and len(under["Versions"]) == 6
    first = s3.list_object_versions(Bucket=bucket, MaxKeys=2)
    assert first["IsTruncated"] and first["NextKeyMarker"] == "a" and first["NextVersionIdMarker"]


def test_version_markers_are_checked(server: Any, s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    raw = server.client("s3", parameter_validation=False)
    fails(lambda: raw.list_object_versions(Bucket=bucket, VersionIdMarker="D" * 32), "InvalidArgument", 400)
    fails(lambda: raw.list_object_versions(Bucket=bucket, MaxKeys=-1), "InvalidArgument", 400)


def test_delete_objects_by_version(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    one = s3.put_object(Bucket=bucket, Key="one", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="two", Body=b"2")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "one", "VersionId": one}, {"Key": "two"}]})
    by_key = {d["Key"]: d for d in result["Deleted"]}
    assert by_key["one"]["VersionId"] == one and "DeleteMarker" not in by_key["one"]
    assert by_key["two"]["DeleteMarker"] is True and len(by_key["two"]["DeleteMarkerVersionId"]) == 32
    assert [(k, marker) for k, _, _, marker in all_versions(s3, bucket)] == [("two", False), ("two", True)]


def test_a_bucket_holding_only_old_versions_is_not_empty(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    fails(lambda: s3.delete_bucket(Bucket=bucket), "BucketNotEmpty", 409)


def test_conditional_create_over_a_delete_marker(s3: Any, bucket: str) -> None:
    enable(s3, bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.delete_object(Bucket=bucket, Key="k")
    s3.put_object(Bucket=bucket, Key="k", Body=b"again", IfNoneMatch="*")
    fails(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"no", IfNoneMatch="*"), "PreconditionFailed", 412)
    assert body(s3, bucket, "k") == b"again"


@pytest.mark.parametrize("versioned", [False, True])
def test_replaced_and_deleted_versions_leave_no_blobs(server: Any, s3: Any, bucket: str, versioned: bool) -> None:
    if versioned:
        enable(s3, bucket)
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"%d" % n).get("VersionId") for n in range(3)]
    for version_id in ids if versioned else [None]:
        s3.delete_object(Bucket=bucket, Key="k", **({"VersionId": version_id} if version_id else {}))
    blobs = list((server.data_dir / "blobs" / "objects" / bucket).rglob("*"))
    assert [b for b in blobs if b.is_file()] == []


def test_the_aws_cli_turns_versioning_on_and_lists_versions(server: Any, s3: Any, bucket: str) -> None:
    aws_json(
        server, "s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled"
    )
    assert aws_json(server, "s3api", "get-bucket-versioning", "--bucket", bucket) == {"Status": "Enabled"}
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"%d" % n)["VersionId"] for n in range(2)]
    listed = aws_json(server, "s3api", "list-object-versions", "--bucket", bucket)
    assert [v["VersionId"] for v in listed["Versions"]] == ids[::-1]
    deleted = aws_json(server, "s3api", "delete-object", "--bucket", bucket, "--key", "k", "--version-id", ids[1])
    assert deleted == {"VersionId": ids[1]}
    assert s3.get_object(Bucket=bucket, Key="k")["VersionId"] == ids[0]


def test_deleting_page_by_page_while_listing_versions(s3: Any, bucket: str) -> None:
    # The way S3 clients empty a bucket: list a page, delete it, list from the markers, though they name
    # versions that are gone by then.
    enable(s3, bucket)
    for n in range(7):
        s3.put_object(Bucket=bucket, Key=f"k{n % 3}", Body=b"%d" % n)
    s3.delete_object(Bucket=bucket, Key="k1")
    kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": 2}
    while True:
        page = s3.list_object_versions(**kwargs)
        entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
        if entries:
            objects = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        if not page["IsTruncated"]:
            break
        kwargs.update(KeyMarker=page["NextKeyMarker"], VersionIdMarker=page["NextVersionIdMarker"])
    assert all_versions(s3, bucket) == []
    s3.delete_bucket(Bucket=bucket)
