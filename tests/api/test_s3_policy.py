"""Bucket policies against real boto3: each rule kind (allow, deny, wildcards, NotAction, conditions), explicit
deny winning over ACLs and ownership, policy status, the public access block, and the errors for bad policies."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.api.errors import fails
from tests.api.principals import anonymous_client, key_id, new_user, user_client
from tests.live_server import LiveServer

ACCOUNT = "000000000000"


@pytest.fixture
def owned(ada: tuple[dict[str, str], Any], bucket: str) -> str:
    """A bucket of ada's holding public/a.txt, private/b.txt and logs/c.txt."""
    name = f"{bucket[:55]}-ada"
    ada[1].create_bucket(Bucket=name)
    for key in ("public/a.txt", "private/b.txt", "logs/c.txt"):
        ada[1].put_object(Bucket=name, Key=key, Body=key.encode())
    return name


def put_policy(s3: Any, bucket: str, *statements: dict[str, Any]) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def user_arn(user: dict[str, str]) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{user['UserName']}"


def test_allow_a_user_one_action_on_a_prefix(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    put_policy(
        ada[1],
        owned,
        {
            "Sid": "bob-reads-public",
            "Effect": "Allow",
            "Principal": {"AWS": user_arn(bob[0])},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{owned}/public/*",
        },
    )
    assert bob[1].get_object(Bucket=owned, Key="public/a.txt")["Body"].read() == b"public/a.txt"
    fails(lambda: bob[1].get_object(Bucket=owned, Key="private/b.txt"), "AccessDenied", 403)
    fails(lambda: bob[1].put_object(Bucket=owned, Key="public/x", Body=b"x"), "AccessDenied", 403)
    assert json.loads(ada[1].get_bucket_policy(Bucket=owned)["Policy"])["Statement"][0]["Sid"] == "bob-reads-public"


def test_a_principal_named_by_access_key_id(server: LiveServer, ada: tuple[dict[str, str], Any], owned: str) -> None:
    other = new_user(server, "keyed")
    first, second = user_client(server, other), user_client(server, other)
    put_policy(
        ada[1],
        owned,
        {
            "Effect": "Allow",
            "Principal": {"AWS": [key_id(first)]},
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{owned}/*",
        },
    )
    assert first.get_object(Bucket=owned, Key="logs/c.txt")["Body"].read() == b"logs/c.txt"
    fails(lambda: second.get_object(Bucket=owned, Key="logs/c.txt"), "AccessDenied", 403)


def test_wildcard_action_and_the_account_principal(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    put_policy(
        ada[1],
        owned,
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["s3:Get*", "s3:List*"],
            "Resource": [f"arn:aws:s3:::{owned}", f"arn:aws:s3:::{owned}/*"],
        },
    )
    assert bob[1].list_objects_v2(Bucket=owned)["KeyCount"] == 3
    assert bob[1].get_object(Bucket=owned, Key="private/b.txt")["Body"].read() == b"private/b.txt"
    fails(lambda: bob[1].delete_object(Bucket=owned, Key="private/b.txt"), "AccessDenied", 403)


def test_wildcard_resource_in_the_key(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    put_policy(
        ada[1],
        owned,
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{owned}/*/?.txt"},
    )
    assert bob[1].get_object(Bucket=owned, Key="logs/c.txt")["Body"].read() == b"logs/c.txt"
    ada[1].put_object(Bucket=owned, Key="logs/cc.txt", Body=b"cc")
    fails(lambda: bob[1].get_object(Bucket=owned, Key="logs/cc.txt"), "AccessDenied", 403)


def test_not_action_allows_everything_else(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    put_policy(
        ada[1],
        owned,
        {
            "Effect": "Allow",
            "Principal": {"AWS": user_arn(bob[0])},
            "NotAction": ["s3:DeleteObject", "s3:PutBucketPolicy"],
            "Resource": [f"arn:aws:s3:::{owned}", f"arn:aws:s3:::{owned}/*"],
        },
    )
    bob[1].put_object(Bucket=owned, Key="from-bob", Body=b"b")
    assert bob[1].get_object(Bucket=owned, Key="from-bob")["Body"].read() == b"b"
    fails(lambda: bob[1].delete_object(Bucket=owned, Key="from-bob"), "AccessDenied", 403)
    fails(lambda: bob[1].put_bucket_policy(Bucket=owned, Policy="{}"), "AccessDenied", 403)


def test_explicit_deny_wins_over_ownership_an_allow_and_an_acl(
    server: LiveServer, http: httpx.Client, ada: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_object(Bucket=owned, Key="public/a.txt", Body=b"a", ACL="public-read")
    assert http.get(f"{server.endpoint}/{owned}/public/a.txt").status_code == 200
    put_policy(
        ada[1],
        owned,
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{owned}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{owned}/public/*"},
    )
    assert http.get(f"{server.endpoint}/{owned}/public/a.txt").status_code == 403, "deny beats the ACL grant"
    fails(lambda: ada[1].get_object(Bucket=owned, Key="public/a.txt"), "AccessDenied", 403)  # and ownership
    assert http.get(f"{server.endpoint}/{owned}/logs/c.txt").status_code == 200, "the Allow still holds elsewhere"


def test_the_account_can_always_mend_a_policy_that_locks_everyone_out(
    s3: Any, ada: tuple[dict[str, str], Any], owned: str
) -> None:
    put_policy(
        ada[1], owned, {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{owned}"}
    )
    fails(lambda: ada[1].delete_bucket_policy(Bucket=owned), "AccessDenied", 403)
    fails(lambda: s3.list_objects_v2(Bucket=owned), "AccessDenied", 403)
    s3.delete_bucket_policy(Bucket=owned)
    assert ada[1].list_objects_v2(Bucket=owned)["KeyCount"] == 3


def test_s3_prefix_condition_on_listing(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    put_policy(
        ada[1],
        owned,
        {
            "Effect": "Allow",
            "Principal": {"AWS": user_arn(bob[0])},
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{owned}",
            "Condition": {"StringLike": {"s3:prefix": ["public/*"]}, "NumericLessThanEquals": {"s3:max-keys": "100"}},
        },
    )
    listed = bob[1].list_objects_v2(Bucket=owned, Prefix="public/", MaxKeys=10)
    assert [o["Key"] for o in listed["Contents"]] == ["public/a.txt"]
    fails(lambda: bob[1].list_objects_v2(Bucket=owned, Prefix="private/", MaxKeys=10), "AccessDenied", 403)
    fails(lambda: bob[1].list_objects_v2(Bucket=owned, MaxKeys=10), "AccessDenied", 403)  # no prefix: no match
    fails(lambda: bob[1].list_objects_v2(Bucket=owned, Prefix="public/"), "AccessDenied", 403)  # max-keys 1000


@pytest.mark.parametrize(("cidr", "allowed"), [("127.0.0.1/32", True), ("10.0.0.0/8", False)])
def test_source_ip_condition(
    server: LiveServer, http: httpx.Client, ada: tuple[dict[str, str], Any], owned: str, cidr: str, allowed: bool
) -> None:
    put_policy(
        ada[1],
        owned,
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{owned}/*",
            "Condition": {"IpAddress": {"aws:SourceIp": cidr}},
        },
    )
    response = http.get(f"{server.endpoint}/{owned}/logs/c.txt")
    assert response.status_code == (200 if allowed else 403)
    assert ada[1].get_bucket_policy_status(Bucket=owned)["PolicyStatus"]["IsPublic"] is False, "pinned to addresses"


def test_secure_transport_false_over_plain_http_is_denied(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    put_policy(
        ada[1],
        owned,
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{owned}/*"},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": f"arn:aws:s3:::{owned}/private/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    assert bob[1].get_object(Bucket=owned, Key="logs/c.txt")["Body"].read() == b"logs/c.txt"
    fails(lambda: bob[1].get_object(Bucket=owned, Key="private/b.txt"), "AccessDenied", 403)
    fails(lambda: ada[1].get_object(Bucket=owned, Key="private/b.txt"), "AccessDenied", 403)


def test_principal_conditions_and_existing_object_tags(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_object(Bucket=owned, Key="tagged", Body=b"t", Tagging="share=yes")
    put_policy(
        ada[1],
        owned,
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{owned}/*",
            "Condition": {
                "StringEquals": {"aws:username": bob[0]["UserName"], "aws:PrincipalAccount": ACCOUNT},
                "StringEqualsIgnoreCase": {"aws:userid": bob[0]["UserId"].lower()},
                "StringNotEquals": {"s3:ExistingObjectTag/share": "no"},
                "Null": {"s3:ExistingObjectTag/share": "false"},
            },
        },
    )
    assert bob[1].get_object(Bucket=owned, Key="tagged")["Body"].read() == b"t"
    fails(lambda: bob[1].get_object(Bucket=owned, Key="logs/c.txt"), "AccessDenied", 403)  # untagged: Null fails


def test_anonymous_reads_through_a_policy_and_a_public_access_block_stopping_them(
    server: LiveServer, http: httpx.Client, ada: tuple[dict[str, str], Any], owned: str
) -> None:
    s3 = ada[1]
    public = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{owned}/public/*",
    }
    put_policy(s3, owned, public)
    assert s3.get_bucket_policy_status(Bucket=owned)["PolicyStatus"]["IsPublic"] is True
    url = f"{server.endpoint}/{owned}/public/a.txt"
    assert http.get(url).content == b"public/a.txt"
    assert anonymous_client(server).get_object(Bucket=owned, Key="public/a.txt")["Body"].read() == b"public/a.txt"
    fails(lambda: anonymous_client(server).get_object(Bucket=owned, Key="private/b.txt"), "AccessDenied", 403)
    s3.put_public_access_block(Bucket=owned, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    assert http.get(url).status_code == 403
    s3.put_public_access_block(Bucket=owned, PublicAccessBlockConfiguration={"BlockPublicPolicy": True})
    assert http.get(url).status_code == 200
    fails(lambda: put_policy(s3, owned, public), "AccessDenied", 403)
    s3.delete_public_access_block(Bucket=owned)
    s3.delete_bucket_policy(Bucket=owned)
    assert http.get(url).status_code == 403
    fails(lambda: s3.get_bucket_policy(Bucket=owned), "NoSuchBucketPolicy", 404)
    fails(lambda: s3.get_bucket_policy_status(Bucket=owned), "NoSuchBucketPolicy", 404)


def test_a_signature_that_does_not_match_is_never_anonymous(
    server: LiveServer, ada: tuple[dict[str, str], Any], owned: str
) -> None:
    put_policy(
        ada[1],
        owned,
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{owned}/*"},
    )
    wrong = server.client("s3", secret_key="not-the-secret")
    fails(lambda: wrong.get_object(Bucket=owned, Key="logs/c.txt"), "SignatureDoesNotMatch", 403)


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::elsewhere/*"},
            "invalid resource",
        ),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}, "invalid resource"),
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:Frobnicate", "Resource": "{bucket}/*"}, "invalid action"),
        ({"Effect": "Allow", "NotPrincipal": {"AWS": "*"}, "Action": "s3:*", "Resource": "{bucket}/*"}, "NotPrincipal"),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "{bucket}/*"}, "no Principal"),
        (
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "s3:*",
                "Resource": "{bucket}/*",
            },
            "Invalid principal",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "{bucket}/*",
                "Condition": {"StringEquals": {"aws:CurrentTime": "x"}},
            },
            "aws:CurrentTime",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "{bucket}/*",
                "Condition": {"StringEqualsIfExists": {"s3:prefix": "x"}},
            },
            "IfExists",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "{bucket}/*",
                "Condition": {"ForAnyValue:StringEquals": {"s3:prefix": "x"}},
            },
            "ForAnyValue",
        ),
    ],
)
def test_malformed_policies_name_what_is_wrong(
    ada: tuple[dict[str, str], Any], owned: str, statement: dict[str, Any], message: str
) -> None:
    fixed = {
        k: (v.replace("{bucket}", f"arn:aws:s3:::{owned}") if isinstance(v, str) else v) for k, v in statement.items()
    }
    error = fails(lambda: put_policy(ada[1], owned, fixed), "MalformedPolicy", 400)
    assert message in error.response["Error"]["Message"]


def test_a_policy_that_is_not_json_or_too_big_is_malformed(ada: tuple[dict[str, str], Any], owned: str) -> None:
    fails(lambda: ada[1].put_bucket_policy(Bucket=owned, Policy="{not json"), "MalformedPolicy", 400)
    deep = "[" * 100_000 + "]" * 100_000
    fails(lambda: ada[1].put_bucket_policy(Bucket=owned, Policy=deep), "MalformedPolicy", 400)


def test_delete_objects_naming_a_version_needs_delete_object_version(
    ada: tuple[dict[str, str], Any], bob: tuple[dict[str, str], Any], owned: str
) -> None:
    ada[1].put_bucket_versioning(Bucket=owned, VersioningConfiguration={"Status": "Enabled"})
    version = ada[1].put_object(Bucket=owned, Key="logs/c.txt", Body=b"v2")["VersionId"]
    allow = {"Effect": "Allow", "Principal": {"AWS": user_arn(bob[0])}, "Resource": f"arn:aws:s3:::{owned}/logs/*"}
    put_policy(ada[1], owned, {**allow, "Action": "s3:DeleteObject"})
    named = bob[1].delete_objects(Bucket=owned, Delete={"Objects": [{"Key": "logs/c.txt", "VersionId": version}]})
    assert [(e["Code"], e["VersionId"]) for e in named["Errors"]] == [("AccessDenied", version)]
    assert "s3:DeleteObjectVersion" in named["Errors"][0]["Message"]
    latest = bob[1].delete_objects(Bucket=owned, Delete={"Objects": [{"Key": "logs/c.txt"}]})
    assert latest["Deleted"][0]["DeleteMarker"] is True  # without a version id: s3:DeleteObject, a delete marker
    put_policy(ada[1], owned, {**allow, "Action": "s3:DeleteObjectVersion"})
    named = bob[1].delete_objects(Bucket=owned, Delete={"Objects": [{"Key": "logs/c.txt", "VersionId": version}]})
    assert [d["VersionId"] for d in named["Deleted"]] == [version]
    versions = ada[1].list_object_versions(Bucket=owned, Prefix="logs/")["Versions"]
    assert version not in [v["VersionId"] for v in versions]
