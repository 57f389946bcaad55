"""ACLs: canned ACLs and grants on buckets and objects, who can and cannot read and write through them, ownership
controls and public access blocks, with real boto3 (signed as users and unsigned) and plain HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.errors import fails
from tests.api.principals import anonymous_client
from tests.live_server import LiveServer

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


@pytest.fixture
def owned(ada: tuple[dict[str, str], Any], bucket: str) -> str:
    """A bucket of ada's (the name the `bucket` fixture chose, plus -ada)."""
    name = f"{bucket[:55]}-ada"
    ada[1].create_bucket(Bucket=name)
    return name


def grantees(acl: dict[str, Any]) -> set[tuple[str, str]]:
    return {(g["Grantee"].get("ID") or g["Grantee"]["URI"], g["Permission"]) for g in acl["Grants"]}


def test_default_acl_is_the_owners_full_control(ada: tuple[dict[str, str], Any], owned: str) -> None:
    user, s3 = ada
    acl = s3.get_bucket_acl(Bucket=owned)
    assert acl["Owner"] == {"ID": user["UserId"], "DisplayName": user["UserName"]}
    assert grantees(acl) == {(user["UserId"], "FULL_CONTROL")}
    assert acl["Grants"][0]["Grantee"]["Type"] == "CanonicalUser"
    s3.put_object(Bucket=owned, Key="k", Body=b"v")
    assert grantees(s3.get_object_acl(Bucket=owned, Key="k")) == {(user["UserId"], "FULL_CONTROL")}


def test_private_object_is_closed_to_others(
    server: LiveServer, http: httpx.Client, ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_object(Bucket=owned, Key="private.txt", Body=b"p", ACL="private")
    fails(lambda: bob[1].get_object(Bucket=owned, Key="private.txt"), "AccessDenied", 403)
    fails(lambda: anonymous_client(server).get_object(Bucket=owned, Key="private.txt"), "AccessDenied", 403)
    assert http.get(f"{server.endpoint}/{owned}/private.txt").status_code == 403


def test_public_read_object_is_read_by_anyone_and_written_by_none(
    server: LiveServer, http: httpx.Client, ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_object(Bucket=owned, Key="site/index.html", Body=b"<h1>hi</h1>", ACL="public-read")
    response = http.get(f"{server.endpoint}/{owned}/site/index.html")
    assert (response.status_code, response.content) == (200, b"<h1>hi</h1>")
    unsigned = anonymous_client(server)
    assert unsigned.get_object(Bucket=owned, Key="site/index.html")["Body"].read() == b"<h1>hi</h1>"
    assert unsigned.head_object(Bucket=owned, Key="site/index.html")["ContentLength"] == 11
    assert bob[1].get_object(Bucket=owned, Key="site/index.html")["Body"].read() == b"<h1>hi</h1>"
    fails(lambda: unsigned.put_object(Bucket=owned, Key="site/index.html", Body=b"defaced"), "AccessDenied", 403)
    fails(lambda: bob[1].delete_object(Bucket=owned, Key="site/index.html"), "AccessDenied", 403)
    fails(lambda: unsigned.list_objects_v2(Bucket=owned), "AccessDenied", 403)
    fails(lambda: unsigned.get_object_acl(Bucket=owned, Key="site/index.html"), "AccessDenied", 403)
    assert (ALL_USERS, "READ") in grantees(ada[1].get_object_acl(Bucket=owned, Key="site/index.html"))


def test_public_read_bucket_lists_to_anyone(
    server: LiveServer, http: httpx.Client, ada: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_object(Bucket=owned, Key="a", Body=b"a")
    ada[1].put_bucket_acl(Bucket=owned, ACL="public-read")
    unsigned = anonymous_client(server)
    assert [o["Key"] for o in unsigned.list_objects_v2(Bucket=owned)["Contents"]] == ["a"]
    assert http.get(f"{server.endpoint}/{owned}?list-type=2").status_code == 200
    fails(lambda: unsigned.get_object(Bucket=owned, Key="a"), "AccessDenied", 403)  # the object is private
    fails(lambda: unsigned.put_object(Bucket=owned, Key="b", Body=b"b"), "AccessDenied", 403)


def test_public_read_write_bucket_takes_anonymous_writes_owned_by_the_bucket_owner(
    server: LiveServer, ada: tuple[dict[str, str], Any], owned: str
) -> None:
    user, s3 = ada
    s3.put_bucket_acl(Bucket=owned, ACL="public-read-write")
    unsigned = anonymous_client(server)
    unsigned.put_object(Bucket=owned, Key="drop", Body=b"dropped")
    assert s3.get_object(Bucket=owned, Key="drop")["Body"].read() == b"dropped"
    assert s3.get_object_acl(Bucket=owned, Key="drop")["Owner"]["ID"] == user["UserId"]
    unsigned.delete_object(Bucket=owned, Key="drop")
    fails(lambda: s3.head_object(Bucket=owned, Key="drop"), "404", 404)


def test_authenticated_read_is_for_signed_requests_only(
    server: LiveServer, ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_object(Bucket=owned, Key="members", Body=b"m", ACL="authenticated-read")
    assert bob[1].get_object(Bucket=owned, Key="members")["Body"].read() == b"m"
    fails(lambda: anonymous_client(server).get_object(Bucket=owned, Key="members"), "AccessDenied", 403)
    assert (AUTHENTICATED, "READ") in grantees(ada[1].get_object_acl(Bucket=owned, Key="members"))


def test_a_grant_header_names_who_reads(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], carol: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_object(Bucket=owned, Key="for-bob", Body=b"b", GrantRead=f'id="{bob[0]["UserId"]}"')
    assert bob[1].get_object(Bucket=owned, Key="for-bob")["Body"].read() == b"b"
    fails(lambda: carol[1].get_object(Bucket=owned, Key="for-bob"), "AccessDenied", 403)
    fails(lambda: bob[1].get_object_acl(Bucket=owned, Key="for-bob"), "AccessDenied", 403)
    assert grantees(ada[1].get_object_acl(Bucket=owned, Key="for-bob")) == {(bob[0]["UserId"], "READ")}


def test_a_write_grant_on_the_bucket_lets_a_user_write_objects_it_then_owns(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], carol: tuple[dict[str, str], Any], owned: str
) -> None:
    user, s3 = ada
    s3.put_bucket_acl(
        Bucket=owned,
        AccessControlPolicy={
            "Owner": {"ID": user["UserId"]},
            "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": user["UserId"]}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "CanonicalUser", "ID": bob[0]["UserId"]}, "Permission": "WRITE"},
            ],
        },
    )
    assert (bob[0]["UserId"], "WRITE") in grantees(s3.get_bucket_acl(Bucket=owned))
    bob[1].put_object(Bucket=owned, Key="from-bob", Body=b"b", ACL="bucket-owner-read")
    acl = bob[1].get_object_acl(Bucket=owned, Key="from-bob")
    assert acl["Owner"]["ID"] == bob[0]["UserId"]
    assert grantees(acl) == {(bob[0]["UserId"], "FULL_CONTROL"), (user["UserId"], "READ")}
    assert s3.get_object(Bucket=owned, Key="from-bob")["Body"].read() == b"b"
    fails(lambda: bob[1].list_objects_v2(Bucket=owned), "AccessDenied", 403)
    fails(lambda: carol[1].put_object(Bucket=owned, Key="from-carol", Body=b"c"), "AccessDenied", 403)


def test_bucket_owner_full_control_and_put_object_acl(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_bucket_acl(Bucket=owned, GrantWrite=f'id="{bob[0]["UserId"]}"')
    bob[1].put_object(Bucket=owned, Key="shared", Body=b"s", ACL="bucket-owner-full-control")
    assert (ada[0]["UserId"], "FULL_CONTROL") in grantees(bob[1].get_object_acl(Bucket=owned, Key="shared"))
    bob[1].put_object_acl(Bucket=owned, Key="shared", ACL="private")
    assert grantees(bob[1].get_object_acl(Bucket=owned, Key="shared")) == {(bob[0]["UserId"], "FULL_CONTROL")}


def test_refused_acls_say_why(ada: tuple[dict[str, str], Any], owned: str) -> None:
    s3 = ada[1]
    error = fails(lambda: s3.put_object(Bucket=owned, Key="k", Body=b"", ACL="aws-exec-read"), "InvalidArgument", 400)
    assert "EC2" in error.response["Error"]["Message"]
    fails(lambda: s3.put_object(Bucket=owned, Key="k", Body=b"", ACL="everyone"), "InvalidArgument", 400)
    error = fails(
        lambda: s3.put_bucket_acl(Bucket=owned, GrantRead='emailAddress="a@example.com"'), "NotImplemented", 501
    )
    assert "e-mail" in error.response["Error"]["Message"]
    fails(lambda: s3.put_bucket_acl(Bucket=owned, GrantRead='id="AIDANOSUCHUSER000000"'), "InvalidArgument", 400)
    fails(lambda: s3.put_bucket_acl(Bucket=owned, GrantRead='uri="http://example.com/g"'), "InvalidArgument", 400)
    fails(
        lambda: s3.put_bucket_acl(Bucket=owned, ACL="public-read", GrantRead=f'uri="{ALL_USERS}"'),
        "InvalidArgument",
        400,
    )
    fails(lambda: s3.put_object_acl(Bucket=owned, Key="absent", ACL="private"), "NoSuchKey", 404)


def test_create_bucket_with_a_canned_acl(server: LiveServer, ada: tuple[dict[str, str], Any], bucket: str) -> None:
    name = f"{bucket[:54]}-pub"
    ada[1].create_bucket(Bucket=name, ACL="public-read")
    assert (ALL_USERS, "READ") in grantees(ada[1].get_bucket_acl(Bucket=name))
    assert anonymous_client(server).list_objects_v2(Bucket=name)["KeyCount"] == 0


def test_bucket_owner_enforced_turns_acls_off(
    server: LiveServer, ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    s3 = ada[1]
    s3.put_bucket_ownership_controls(
        Bucket=owned, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    rules = s3.get_bucket_ownership_controls(Bucket=owned)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    fails(
        lambda: s3.put_object(Bucket=owned, Key="k", Body=b"", ACL="public-read"), "AccessControlListNotSupported", 400
    )
    fails(lambda: s3.put_bucket_acl(Bucket=owned, ACL="public-read"), "AccessControlListNotSupported", 400)
    s3.put_object(Bucket=owned, Key="k", Body=b"v", ACL="bucket-owner-full-control")
    fails(lambda: anonymous_client(server).get_object(Bucket=owned, Key="k"), "AccessDenied", 403)
    s3.delete_bucket_ownership_controls(Bucket=owned)
    fails(lambda: s3.get_bucket_ownership_controls(Bucket=owned), "OwnershipControlsNotFoundError", 404)


def test_enforced_ownership_is_refused_while_the_bucket_acl_grants_others(
    ada: tuple[dict[str, str], Any], owned: str
) -> None:
    s3 = ada[1]
    s3.put_bucket_acl(Bucket=owned, ACL="public-read")
    controls = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    fails(
        lambda: s3.put_bucket_ownership_controls(Bucket=owned, OwnershipControls=controls),
        "InvalidBucketAclWithObjectOwnership",
        400,
    )
    bad = {"Rules": [{"ObjectOwnership": "Whoever"}]}
    fails(lambda: s3.put_bucket_ownership_controls(Bucket=owned, OwnershipControls=bad), "InvalidArgument", 400)


def test_bucket_owner_preferred_gives_the_bucket_owner_objects_written_with_full_control(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    s3 = ada[1]
    s3.put_bucket_ownership_controls(
        Bucket=owned, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    )
    s3.put_bucket_acl(Bucket=owned, GrantWrite=f'id="{bob[0]["UserId"]}"')
    bob[1].put_object(Bucket=owned, Key="given", Body=b"g", ACL="bucket-owner-full-control")
    bob[1].put_object(Bucket=owned, Key="kept", Body=b"k")
    assert s3.get_object_acl(Bucket=owned, Key="given")["Owner"]["ID"] == ada[0]["UserId"]
    assert s3.get_object_acl(Bucket=owned, Key="kept")["Owner"]["ID"] == bob[0]["UserId"]


def test_public_access_block_blocks_and_ignores_public_acls(
    server: LiveServer, http: httpx.Client, ada: tuple[dict[str, str], Any], owned: str
) -> None:
    s3 = ada[1]
    fails(lambda: s3.get_public_access_block(Bucket=owned), "NoSuchPublicAccessBlockConfiguration", 404)
    s3.put_object(Bucket=owned, Key="public", Body=b"p", ACL="public-read")
    assert http.get(f"{server.endpoint}/{owned}/public").status_code == 200
    s3.put_public_access_block(
        Bucket=owned, PublicAccessBlockConfiguration={"BlockPublicAcls": True, "IgnorePublicAcls": True}
    )
    config = s3.get_public_access_block(Bucket=owned)["PublicAccessBlockConfiguration"]
    assert config == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    assert http.get(f"{server.endpoint}/{owned}/public").status_code == 403
    fails(lambda: s3.put_object(Bucket=owned, Key="p2", Body=b"", ACL="public-read"), "AccessDenied", 403)
    fails(lambda: s3.put_bucket_acl(Bucket=owned, ACL="public-read-write"), "AccessDenied", 403)
    s3.put_object(Bucket=owned, Key="p3", Body=b"", ACL="private")
    s3.delete_public_access_block(Bucket=owned)
    assert http.get(f"{server.endpoint}/{owned}/public").status_code == 200


def test_multipart_upload_takes_its_acl(server: LiveServer, http: httpx.Client, s3: Any, bucket: str) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key="mp", ACL="public-read")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=upload["UploadId"], PartNumber=1, Body=b"whole")
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    assert http.get(f"{server.endpoint}/{bucket}/mp").content == b"whole"


def test_copy_takes_the_acl_asked_for_never_the_sources(
    server: LiveServer, http: httpx.Client, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"s", ACL="public-read")
    s3.copy_object(Bucket=bucket, Key="plain-copy", CopySource=f"{bucket}/src")
    s3.copy_object(Bucket=bucket, Key="public-copy", CopySource=f"{bucket}/src", ACL="public-read")
    assert http.get(f"{server.endpoint}/{bucket}/plain-copy").status_code == 403
    assert http.get(f"{server.endpoint}/{bucket}/public-copy").content == b"s"


def test_unsigned_requests_to_other_services_are_still_refused(server: LiveServer, http: httpx.Client) -> None:
    response = http.get(f"{server.endpoint}/2015-03-31/functions")
    assert response.status_code == 403
