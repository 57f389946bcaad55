"""Listing objects through real boto3: ListObjectsV2 and ListObjects, prefixes, delimiters, pages, URL encoding."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest

from tests.api.errors import error_code, fails
from tests.api.raw import send_signed
from tests.live_server import LiveServer

KEYS = [
    "a.txt",
    "b/1.txt",
    "b/2.txt",
    "b/c/3.txt",
    "b/c/4.txt",
    "d/5.txt",
    "e.txt",
    "f/g/6.txt",
]
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    """A bucket holding KEYS."""
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def keys_of(page: dict[str, Any]) -> list[str]:
    """The object keys of one listing page."""
    return [o["Key"] for o in page.get("Contents", [])]


def prefixes_of(page: dict[str, Any]) -> list[str]:
    """The common prefixes of one listing page."""
    return [p["Prefix"] for p in page.get("CommonPrefixes", [])]


def test_list_all(s3: Any, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled)
    assert keys_of(page) == KEYS
    assert (page["KeyCount"], page["IsTruncated"], page["MaxKeys"], page["Name"]) == (len(KEYS), False, 1000, filled)
    first = page["Contents"][0]
    assert (first["Size"], first["StorageClass"]) == (len("a.txt"), "STANDARD")
    assert first["ETag"].startswith('"') and first["LastModified"].tzinfo is not None
    assert "Owner" not in first
    assert "Owner" in s3.list_objects_v2(Bucket=filled, FetchOwner=True)["Contents"][0]


def test_empty_bucket(s3: Any, bucket: str) -> None:
    page = s3.list_objects_v2(Bucket=bucket)
    assert (page["KeyCount"], page["IsTruncated"], "Contents" in page) == (0, False, False)
    assert "Contents" not in s3.list_objects(Bucket=bucket)


def test_prefix(s3: Any, filled: str) -> None:
    assert keys_of(s3.list_objects_v2(Bucket=filled, Prefix="b/")) == ["b/1.txt", "b/2.txt", "b/c/3.txt", "b/c/4.txt"]
    assert keys_of(s3.list_objects_v2(Bucket=filled, Prefix="b/c")) == ["b/c/3.txt", "b/c/4.txt"]
    assert keys_of(s3.list_objects_v2(Bucket=filled, Prefix="zzz")) == []
    assert s3.list_objects_v2(Bucket=filled, Prefix="b/")["Prefix"] == "b/"


def test_delimiter(s3: Any, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert keys_of(page) == ["a.txt", "e.txt"]
    assert prefixes_of(page) == ["b/", "d/", "f/"]
    assert (page["KeyCount"], page["Delimiter"]) == (5, "/")
    page = s3.list_objects_v2(Bucket=filled, Delimiter="/", Prefix="b/")
    assert (keys_of(page), prefixes_of(page)) == (["b/1.txt", "b/2.txt"], ["b/c/"])
    page = s3.list_objects_v2(Bucket=filled, Delimiter=".txt")
    assert prefixes_of(page) == [k for k in KEYS]
    page = s3.list_objects(Bucket=filled, Delimiter="/")
    assert (keys_of(page), prefixes_of(page)) == (["a.txt", "e.txt"], ["b/", "d/", "f/"])


def test_multi_character_delimiter(s3: Any, bucket: str) -> None:
    for key in ("x--1", "x--2", "y", "z--a--b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    page = s3.list_objects_v2(Bucket=bucket, Delimiter="--")
    assert (keys_of(page), prefixes_of(page)) == (["y"], ["x--", "z--"])


def test_start_after(s3: Any, filled: str) -> None:
    assert keys_of(s3.list_objects_v2(Bucket=filled, StartAfter="b/c/3.txt")) == KEYS[4:]
    assert keys_of(s3.list_objects_v2(Bucket=filled, StartAfter="b")) == KEYS[1:]
    assert keys_of(s3.list_objects_v2(Bucket=filled, StartAfter="zzz")) == []
    page = s3.list_objects_v2(Bucket=filled, StartAfter="c", Delimiter="/")
    assert (keys_of(page), prefixes_of(page)) == (["e.txt"], ["d/", "f/"])
    assert s3.list_objects_v2(Bucket=filled, StartAfter="b/1.txt")["StartAfter"] == "b/1.txt"
    assert keys_of(s3.list_objects(Bucket=filled, Marker="d/5.txt")) == ["e.txt", "f/g/6.txt"]


def test_max_keys_and_continuation(s3: Any, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=3)
    assert keys_of(page) == KEYS[:3]
    assert (page["IsTruncated"], page["KeyCount"], page["MaxKeys"]) == (True, 3, 3)
    token = page["NextContinuationToken"]
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=3, ContinuationToken=token)
    assert keys_of(page) == KEYS[3:6]
    assert page["ContinuationToken"] == token
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=3, ContinuationToken=page["NextContinuationToken"])
    assert keys_of(page) == KEYS[6:]
    assert page["IsTruncated"] is False
    assert "NextContinuationToken" not in page


def test_max_keys_zero(s3: Any, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert (keys_of(page), page["KeyCount"], page["MaxKeys"]) == ([], 0, 0)


def test_max_keys_over_the_limit(s3: Any, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=5000)
    assert (keys_of(page), page["IsTruncated"]) == (KEYS, False)


@pytest.mark.parametrize("page_size", [1, 2, 3, 7])
def test_paginator_v2_with_delimiter(s3: Any, filled: str, page_size: int) -> None:
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=filled, Delimiter="/", PaginationConfig={"PageSize": page_size}))
    assert [k for p in pages for k in keys_of(p)] == ["a.txt", "e.txt"]
    assert [c for p in pages for c in prefixes_of(p)] == ["b/", "d/", "f/"]
    assert all(p["KeyCount"] <= page_size for p in pages)
    assert len(pages) == -(-5 // page_size)


@pytest.mark.parametrize("operation", ["list_objects", "list_objects_v2"])
def test_paginator_across_many_pages(s3: Any, bucket: str, operation: str) -> None:
    keys = sorted(f"k/{i:03d}" for i in range(45))
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    paginator = s3.get_paginator(operation)
    pages = list(paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": 10}))
    assert [len(keys_of(p)) for p in pages] == [10, 10, 10, 10, 5]
    assert [k for p in pages for k in keys_of(p)] == keys


def test_list_objects_v1_markers(s3: Any, filled: str) -> None:
    page = s3.list_objects(Bucket=filled, MaxKeys=2)
    assert keys_of(page) == KEYS[:2]
    assert page["IsTruncated"] is True
    assert "NextMarker" not in page  # S3 sends NextMarker only with a delimiter
    page = s3.list_objects(Bucket=filled, MaxKeys=2, Delimiter="/")
    assert (keys_of(page), prefixes_of(page), page["NextMarker"]) == (["a.txt"], ["b/"], "b/")
    page = s3.list_objects(Bucket=filled, MaxKeys=2, Delimiter="/", Marker="b/")
    assert (keys_of(page), prefixes_of(page), page["NextMarker"]) == (["e.txt"], ["d/"], "e.txt")


WEIRD_KEYS = sorted(
    [
        "space key/one two.txt",
        "plus+key/a+b",
        "percent%key/100%25",
        "unicode/日本/ü.txt",
        "amp&lt;/x",
        "tab\tkey",
        "new\nline",
        "question?/q",
        "emoji/😀",
    ]
)


@pytest.fixture
def weird(s3: Any, bucket: str) -> str:
    """A bucket holding WEIRD_KEYS."""
    for key in WEIRD_KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=b"")
    return bucket


def test_weird_keys_through_boto3(s3: Any, weird: str) -> None:
    # boto3 asks for EncodingType=url on its own and decodes what comes back.
    assert keys_of(s3.list_objects_v2(Bucket=weird)) == WEIRD_KEYS
    assert keys_of(s3.list_objects(Bucket=weird)) == WEIRD_KEYS
    page = s3.list_objects_v2(Bucket=weird, Delimiter="/")
    assert prefixes_of(page) == sorted({k.split("/")[0] + "/" for k in WEIRD_KEYS if "/" in k})
    page = s3.list_objects_v2(Bucket=weird, Prefix="space key/", Delimiter=" ")
    assert (prefixes_of(page), page["Prefix"], page["Delimiter"]) == (["space key/one "], "space key/", " ")
    assert (
        keys_of(s3.list_objects_v2(Bucket=weird, StartAfter="plus+key/a+b"))
        == WEIRD_KEYS[WEIRD_KEYS.index("plus+key/a+b") + 1 :]
    )
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket=weird, PaginationConfig={"PageSize": 2}))
    assert [k for p in pages for k in keys_of(p)] == WEIRD_KEYS


def _raw_list(http: httpx.Client, server: LiveServer, bucket: str, query: str) -> ET.Element:
    response = send_signed(http, server, "GET", f"/{bucket}?{query}")
    assert response.status_code == 200, response.text
    return ET.fromstring(response.content)


def test_encoding_type_url_on_the_wire(http: httpx.Client, server: LiveServer, weird: str) -> None:
    root = _raw_list(http, server, weird, "list-type=2&encoding-type=url&prefix=space%20key%2F&delimiter=%20")
    assert root.findtext(f"{NS}EncodingType") == "url"
    # A space is %20, as S3 writes it (ceph s3-tests check "quux%20ab/"); a plus is %2B.
    assert root.findtext(f"{NS}Prefix") == "space%20key/"
    assert root.findtext(f"{NS}Delimiter") == "%20"
    assert [p.text for p in root.iter(f"{NS}Prefix")][1:] == ["space%20key/one%20"]
    root = _raw_list(http, server, weird, "list-type=2&encoding-type=url")
    wire = [c.findtext(f"{NS}Key") for c in root.iter(f"{NS}Contents")]
    assert "plus%2Bkey/a%2Bb" in wire
    assert "percent%25key/100%2525" in wire
    assert "unicode/%E6%97%A5%E6%9C%AC/%C3%BC.txt" in wire
    assert "new%0Aline" in wire


def test_without_encoding_type_keys_are_plain_xml(http: httpx.Client, server: LiveServer, weird: str) -> None:
    root = _raw_list(http, server, weird, "list-type=2")
    assert root.findtext(f"{NS}EncodingType") is None
    assert [c.findtext(f"{NS}Key") for c in root.iter(f"{NS}Contents")] == WEIRD_KEYS


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("list-type=2&max-keys=-1", "InvalidArgument"),
        ("list-type=2&max-keys=ten", "InvalidArgument"),
        ("list-type=2&encoding-type=base64", "InvalidArgument"),
        ("list-type=2&continuation-token=%25%25%25", "InvalidArgument"),
        ("max-keys=-1", "InvalidArgument"),
    ],
)
def test_bad_listing_arguments(http: httpx.Client, server: LiveServer, bucket: str, query: str, code: str) -> None:
    response = send_signed(http, server, "GET", f"/{bucket}?{query}")
    assert (response.status_code, error_code(response)) == (400, code)


def test_listing_missing_bucket(s3: Any) -> None:
    fails(lambda: s3.list_objects_v2(Bucket="no-such-bucket-here"), "NoSuchBucket", 404)


def test_listings_show_each_objects_owner(s3: Any, ada: tuple[dict[str, str], Any]) -> None:
    user, client = ada
    name = f"owners-{user['UserName'].lower()}"[:63]
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="by-ada", Body=b"x")
    s3.put_object(Bucket=name, Key="by-account", Body=b"x")
    listed = {o["Key"]: o["Owner"] for o in s3.list_objects(Bucket=name)["Contents"]}
    assert listed["by-ada"] == {"ID": user["UserId"], "DisplayName": user["UserName"]}
    assert listed["by-account"]["DisplayName"] == "account" and len(listed["by-account"]["ID"]) == 64
    v2 = {o["Key"]: o["Owner"] for o in client.list_objects_v2(Bucket=name, FetchOwner=True)["Contents"]}
    assert v2 == listed
    versions = {v["Key"]: v["Owner"] for v in s3.list_object_versions(Bucket=name)["Versions"]}
    assert versions == listed
