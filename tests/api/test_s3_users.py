"""Users and ownership: keys belong to users, buckets to their creators, listings to their owners."""

from __future__ import annotations

import subprocess
import uuid
from typing import Any

import pytest

from tests.api.errors import fails
from tests.api.principals import alto, new_user, user_client
from tests.live_server import ALTO, LiveServer


@pytest.fixture(scope="module")
def ada(server: LiveServer) -> dict[str, str]:
    """A user."""
    return new_user(server, "ada")


@pytest.fixture(scope="module")
def bob(server: LiveServer) -> dict[str, str]:
    """Another user."""
    return new_user(server, "bob")


@pytest.fixture(scope="module")
def ada_s3(server: LiveServer, ada: dict[str, str]) -> Any:
    return user_client(server, ada)


@pytest.fixture(scope="module")
def bob_s3(server: LiveServer, bob: dict[str, str]) -> Any:
    return user_client(server, bob)


def bucket_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_a_users_id_looks_like_iams(ada: dict[str, str]) -> None:
    assert ada["UserId"].startswith("AIDA") and len(ada["UserId"]) == 20
    assert ada["UserId"][4:].isupper() or ada["UserId"][4:].isalnum()


def test_creating_another_users_bucket_is_bucket_already_exists(ada_s3: Any, bob_s3: Any, s3: Any) -> None:
    name = bucket_name("ada")
    ada_s3.create_bucket(Bucket=name)
    fails(lambda: bob_s3.create_bucket(Bucket=name), "BucketAlreadyExists", 409)
    fails(lambda: ada_s3.create_bucket(Bucket=name), "BucketAlreadyOwnedByYou", 409)
    fails(lambda: s3.create_bucket(Bucket=name), "BucketAlreadyExists", 409)
    admin_bucket = bucket_name("admin")
    s3.create_bucket(Bucket=admin_bucket)
    fails(lambda: ada_s3.create_bucket(Bucket=admin_bucket), "BucketAlreadyExists", 409)
    fails(lambda: s3.create_bucket(Bucket=admin_bucket), "BucketAlreadyOwnedByYou", 409)


def test_list_buckets_shows_ones_own_and_the_account_sees_all(
    ada_s3: Any, bob_s3: Any, s3: Any, ada: dict[str, str]
) -> None:
    mine, theirs = bucket_name("mine"), bucket_name("theirs")
    ada_s3.create_bucket(Bucket=mine)
    bob_s3.create_bucket(Bucket=theirs)
    listed = ada_s3.list_buckets()
    names = [b["Name"] for b in listed["Buckets"]]
    assert mine in names and theirs not in names
    assert listed["Owner"] == {"ID": ada["UserId"], "DisplayName": ada["UserName"]}
    everything = s3.list_buckets()
    assert {mine, theirs} <= {b["Name"] for b in everything["Buckets"]}
    assert len(everything["Owner"]["ID"]) == 64, "the account's canonical id"


def test_another_users_bucket_is_closed_to_a_user(ada_s3: Any, bob_s3: Any) -> None:
    name = bucket_name("closed")
    ada_s3.create_bucket(Bucket=name)
    ada_s3.put_object(Bucket=name, Key="secret.txt", Body=b"mine")
    fails(lambda: bob_s3.get_object(Bucket=name, Key="secret.txt"), "AccessDenied", 403)
    fails(lambda: bob_s3.put_object(Bucket=name, Key="x", Body=b"x"), "AccessDenied", 403)
    fails(lambda: bob_s3.list_objects_v2(Bucket=name), "AccessDenied", 403)
    fails(lambda: bob_s3.delete_object(Bucket=name, Key="secret.txt"), "AccessDenied", 403)
    fails(lambda: bob_s3.delete_bucket(Bucket=name), "AccessDenied", 403)
    fails(lambda: bob_s3.get_bucket_acl(Bucket=name), "AccessDenied", 403)
    fails(lambda: bob_s3.put_bucket_policy(Bucket=name, Policy="{}"), "AccessDenied", 403)
    fails(lambda: bob_s3.copy_object(Bucket=name, Key="c", CopySource=f"{name}/secret.txt"), "AccessDenied", 403)
    denied = bob_s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "secret.txt"}]})
    assert [e["Code"] for e in denied["Errors"]] == ["AccessDenied"]
    assert ada_s3.get_object(Bucket=name, Key="secret.txt")["Body"].read() == b"mine"


def test_a_user_cannot_copy_out_of_another_users_bucket(ada_s3: Any, bob_s3: Any) -> None:
    private, own = bucket_name("private"), bucket_name("own")
    ada_s3.create_bucket(Bucket=private)
    ada_s3.put_object(Bucket=private, Key="k", Body=b"v")
    bob_s3.create_bucket(Bucket=own)
    fails(lambda: bob_s3.copy_object(Bucket=own, Key="stolen", CopySource=f"{private}/k"), "AccessDenied", 403)


def test_the_account_key_reaches_every_users_bucket(ada_s3: Any, s3: Any) -> None:
    name = bucket_name("reach")
    ada_s3.create_bucket(Bucket=name)
    ada_s3.put_object(Bucket=name, Key="k", Body=b"v")
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
    s3.put_object(Bucket=name, Key="from-admin", Body=b"a")
    assert [o["Key"] for o in ada_s3.list_objects_v2(Bucket=name)["Contents"]] == ["from-admin", "k"]


def test_a_users_read_only_key(server: LiveServer, ada: dict[str, str], ada_s3: Any) -> None:
    name = bucket_name("ro")
    ada_s3.create_bucket(Bucket=name)
    ada_s3.put_object(Bucket=name, Key="k", Body=b"v")
    reader = user_client(server, ada, role="read-only")
    assert reader.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
    assert name in [b["Name"] for b in reader.list_buckets()["Buckets"]]
    fails(lambda: reader.put_object(Bucket=name, Key="x", Body=b"x"), "AccessDenied", 403)
    fails(lambda: reader.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "k"}]}), "AccessDenied", 403)
    fails(lambda: reader.create_bucket(Bucket=bucket_name("ro-new")), "AccessDenied", 403)
    fails(lambda: reader.put_bucket_acl(Bucket=name, ACL="public-read"), "AccessDenied", 403)


def test_nonexistent_bucket_is_no_such_bucket_for_a_user(bob_s3: Any) -> None:
    fails(lambda: bob_s3.get_object(Bucket=bucket_name("absent"), Key="k"), "NoSuchBucket", 404)


def run_alto(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ALTO, *args, "--data-dir", str(server.data_dir)], capture_output=True, text=True, timeout=120
    )


def test_users_cli_lists_and_refuses_deleting_a_user_with_keys_or_buckets(server: LiveServer) -> None:
    user = new_user(server, "cli")
    assert user["UserName"] in [u["UserName"] for u in alto(server, "users", "list")["Users"]]
    client = user_client(server, user)
    name = bucket_name("held")
    client.create_bucket(Bucket=name)
    key = next(k for k in alto(server, "keys", "list")["AccessKeys"] if k["UserName"] == user["UserName"])
    refused = run_alto(server, "users", "delete", user["UserName"])
    assert refused.returncode != 0
    assert key["AccessKeyId"] in refused.stderr and f"bucket {name}" in refused.stderr
    assert run_alto(server, "keys", "delete", key["AccessKeyId"]).returncode == 0
    refused = run_alto(server, "users", "delete", user["UserName"])
    assert refused.returncode != 0 and f"bucket {name}" in refused.stderr and "access key" not in refused.stderr
    server.client("s3").delete_bucket(Bucket=name)
    done = run_alto(server, "users", "delete", user["UserName"])
    assert done.returncode == 0, done.stderr
    assert user["UserName"] not in [u["UserName"] for u in alto(server, "users", "list")["Users"]]


def test_cli_refuses_a_bad_name_and_a_key_for_no_user(server: LiveServer) -> None:
    bad = run_alto(server, "users", "create", "no spaces")
    assert bad.returncode != 0 and "A-Z a-z 0-9" in bad.stderr
    missing = run_alto(server, "keys", "create", "--user", "nobody-at-all")
    assert missing.returncode != 0 and "does not exist" in missing.stderr
    taken = new_user(server, "dup")
    again = run_alto(server, "users", "create", taken["UserName"])
    assert again.returncode != 0 and "already exists" in again.stderr
