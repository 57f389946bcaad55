"""Tag rules (limits, characters, the reserved prefix, the header's format) and the lake's tagging, below the wire."""

from __future__ import annotations

from typing import Any

import pytest

from altostratus.core.caller import Caller
from altostratus.core.errors import AltoError, InvalidArgument
from altostratus.core.events import Event
from altostratus.lake import notifications
from altostratus.lake.errors import InvalidTag, NoSuchTagSet, OperationAborted, TooManyTags
from altostratus.lake.objects import NotificationRule, ObjectInfo, ObjectMeta
from altostratus.lake.service import LakeService
from altostratus.lake.tagging import BUCKET_TAGS, OBJECT_TAGS, Tagging, check_tags, header_tags, parse_header

ARN = "arn:aws:lambda:us-east-1:000000000000:function:on-tags"
# A letter outside the Basic Multilingual Plane (MATHEMATICAL BOLD CAPITAL A): two UTF-16 code units.
WIDE = "\U0001d400"


def put(lake: LakeService, key: str, data: bytes, tags: dict[str, str] | None = None) -> ObjectInfo:
    writer = lake.object_writer("data", key, ObjectMeta(), tags=tags)
    writer.write(data)
    return writer.commit()


# ---- the rules --------------------------------------------------------------------------------------------


def test_a_valid_set_comes_back_as_a_mapping() -> None:
    pairs = [("b", ""), ("a", "1"), ("名前 +-=._:/@", "värde ٣"), ("k" * 128, "v" * 256), (WIDE * 64, WIDE * 128)]
    assert check_tags(pairs, OBJECT_TAGS) == dict(pairs)
    assert check_tags([], OBJECT_TAGS) == {}


@pytest.mark.parametrize(
    ("kind", "count", "allowed"),
    [(OBJECT_TAGS, 10, True), (OBJECT_TAGS, 11, False), (BUCKET_TAGS, 50, True), (BUCKET_TAGS, 51, False)],
)
def test_the_count_limit(kind: Any, count: int, allowed: bool) -> None:
    pairs = [(f"k{n}", "v") for n in range(count)]
    if allowed:
        assert len(check_tags(pairs, kind)) == count
        return
    with pytest.raises(TooManyTags) as caught:
        check_tags(pairs, kind)
    assert (caught.value.code, caught.value.status) == ("BadRequest", 400)
    assert caught.value.message.startswith(kind.too_many)
    assert str(count) in caught.value.message


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("", "v", "TagKey='' has 0 characters; expected 1 to 128"),
        ("k" * 129, "v", "has 129 characters; expected 1 to 128"),
        (WIDE * 65, "v", "has 130 characters"),
        ("k", "v" * 257, "TagValue="),
        ("a\nb", "v", "holds '\\n'"),
        ("k", "semi;colon", "holds ';'"),
        ("k", "<tag>", "holds '<'"),
        ("aws:name", "v", "Your TagKey cannot be prefixed with aws:"),
    ],
)
def test_bad_keys_and_values_are_invalid_tags(key: str, value: str, words: str) -> None:
    with pytest.raises(InvalidTag) as caught:
        check_tags([(key, value)], OBJECT_TAGS)
    assert (caught.value.code, caught.value.status) == ("InvalidTag", 400)
    assert words in caught.value.message


def test_a_long_bad_value_is_shown_cut_short() -> None:
    with pytest.raises(InvalidTag) as caught:
        check_tags([("k", "v" * 100_000)], BUCKET_TAGS)
    assert len(caught.value.message) < 300
    assert "100000 characters" in caught.value.message


def test_duplicate_keys_are_invalid_and_keys_are_case_sensitive() -> None:
    with pytest.raises(InvalidTag, match="Cannot provide multiple Tags with the same key"):
        check_tags([("k", "1"), ("k", "2")], BUCKET_TAGS)
    assert check_tags([("k", "1"), ("K", "2"), ("AWS:upper", "3")], BUCKET_TAGS) == {
        "k": "1",
        "K": "2",
        "AWS:upper": "3",
    }


def test_the_header_is_a_form_encoded_query() -> None:
    assert parse_header("a=1&b=two") == [("a", "1"), ("b", "two")]
    assert parse_header("spaced+key=x%20y&plus=%2B&bare&empty=&&") == [
        ("spaced key", "x y"),
        ("plus", "+"),
        ("bare", ""),
        ("empty", ""),
    ]
    assert parse_header("%E5%90%8D=%E5%80%A4") == [("名", "値")]
    assert parse_header("") == []


@pytest.mark.parametrize("header", ["a=1&a=2", "k=a=b", "TagSet=[{Key=string,Value=string}]", "k=%FF", "k=é"])
def test_bad_headers_are_invalid_arguments(header: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_header(header)
    assert caught.value.code == "InvalidArgument"
    assert caught.value.message.startswith("The header 'x-amz-tagging' shall be encoded as UTF-8")


def test_header_tags_checks_the_rules_too() -> None:
    assert header_tags(None) == {}
    assert header_tags("a=1") == {"a": "1"}
    with pytest.raises(InvalidTag):
        header_tags("aws%3Ax=1")
    with pytest.raises(TooManyTags):
        header_tags("&".join(f"k{n}=v" for n in range(11)))


# ---- the lake's tagging -----------------------------------------------------------------------------------


def test_tags_on_write_and_replaced_later_keep_etag_and_time(lake: LakeService) -> None:
    tagging = Tagging(lake)
    written = put(lake, "k", b"bytes", {"a": "1"})
    assert tagging.object_tags("data", "k").tags == {"a": "1"}
    changed = tagging.set_object_tags("data", "k", [("b", "2")])
    after = lake.head("data", "k")
    assert (after.tags, changed.tags) == ({"b": "2"}, {"b": "2"})
    assert (after.etag, after.last_modified, after.blob_key) == (written.etag, written.last_modified, written.blob_key)
    tagging.delete_object_tags("data", "k")
    assert lake.head("data", "k").tags == {}


def test_writers_check_the_tags_they_are_given(lake: LakeService) -> None:
    with pytest.raises(InvalidTag):
        lake.object_writer("data", "k", ObjectMeta(), tags={"aws:x": "1"})
    source = put(lake, "src", b"x", {"a": "1"})
    assert lake.copy_object(source, "data", "copy", None).tags == {"a": "1"}
    assert lake.copy_object(source, "data", "replaced", None, tags={"b": "2"}).tags == {"b": "2"}
    assert lake.head("data", "replaced").tags == {"b": "2"}


def test_a_refused_tag_set_changes_nothing(lake: LakeService) -> None:
    put(lake, "k", b"x", {"keep": "me"})
    with pytest.raises(TooManyTags):
        Tagging(lake).set_object_tags("data", "k", [(f"k{n}", "v") for n in range(11)])
    assert lake.head("data", "k").tags == {"keep": "me"}


def test_tags_of_an_object_overwritten_meanwhile_are_not_put_on_the_new_one(
    lake: LakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(lake, "k", b"old")
    read = lake.head

    def read_then_overwrite(bucket: str, key: str, version_id: str | None = None) -> ObjectInfo:
        found = read(bucket, key, version_id)
        put(lake, key, b"new")
        return found

    monkeypatch.setattr(lake, "head", read_then_overwrite)
    with pytest.raises(OperationAborted) as caught:
        Tagging(lake).set_object_tags("data", "k", [("a", "1")])
    assert (caught.value.code, caught.value.status) == ("OperationAborted", 409)
    monkeypatch.undo()
    assert lake.head("data", "k").tags == {}


def test_tag_changes_are_announced_as_object_tagging_events(lake: LakeService) -> None:
    lake.set_notification_rules(
        "data",
        [
            NotificationRule("tags", ARN, ("s3:ObjectTagging:*",)),
            NotificationRule("created", ARN, ("s3:ObjectCreated:*",)),
        ],
    )
    seen: list[Event] = []
    lake.bus.subscribe(notifications.TOPIC, lambda topic, event: seen.append(event))
    put(lake, "k", b"x")
    seen.clear()
    tagging = Tagging(lake)
    tagging.set_object_tags("data", "k", [("a", "1")], caller=Caller("AKIAEXAMPLE", "10.1.2.3", "req-1"))
    tagging.delete_object_tags("data", "k")
    records = [event["event"]["Records"][0] for event in seen]
    assert [(r["eventName"], r["s3"]["configurationId"]) for r in records] == [
        ("ObjectTagging:Put", "tags"),
        ("ObjectTagging:Delete", "tags"),
    ]
    assert records[0]["userIdentity"] == {"principalId": "AKIAEXAMPLE"}


def test_bucket_tags(lake: LakeService) -> None:
    tagging = Tagging(lake)
    with pytest.raises(NoSuchTagSet) as caught:
        tagging.bucket_tags("data")
    assert (caught.value.code, caught.value.status) == ("NoSuchTagSet", 404)
    tagging.set_bucket_tags("data", [("team", "ml")])
    assert tagging.bucket_tags("data") == {"team": "ml"}
    tagging.set_bucket_tags("data", [])
    with pytest.raises(NoSuchTagSet):
        tagging.bucket_tags("data")
    tagging.set_bucket_tags("data", [("a", "1")])
    tagging.delete_bucket_tags("data")
    with pytest.raises(NoSuchTagSet):
        tagging.bucket_tags("data")
    for call in (
        lambda: tagging.bucket_tags("nope"),
        lambda: tagging.set_bucket_tags("nope", [("a", "1")]),
        lambda: tagging.delete_bucket_tags("nope"),
    ):
        with pytest.raises(AltoError) as missing:
            call()
        assert missing.value.code == "NoSuchBucket"
