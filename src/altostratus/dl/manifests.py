"""Dataset manifests in the lake, read line by line: a CSV of key,label, or SageMaker Ground Truth JSON lines.

Every line names one image by a key relative to the manifest's folder or a full `s3://` URL, and each named object
is checked with a head (cheap: the metadata store only). Errors name the manifest and the line.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
from collections.abc import Iterator
from typing import Any

from altostratus.dl.errors import DatasetTooLarge, InvalidManifest, MissingObject
from altostratus.lake.errors import NoSuchBucket, NoSuchKey
from altostratus.lake.objects import ObjectInfo
from altostratus.lake.service import LakeService

LAKE = "s3://"
MAX_LINE_CHARS = 1 << 20
CSV_HEADER = ["key", "label"]
METADATA = "-metadata"


def has_dot_segment(path: str) -> bool:
    """Whether a key has a '.' or '..' segment, which tools resolve but S3 takes literally: refused, never joined."""
    return any(segment in (".", "..") for segment in path.split("/"))


class LakeManifest:
    """One manifest object; its entries as (s3:// URL, class name), checked against the lake."""

    def __init__(self, lake: LakeService, info: ObjectInfo, folder: str, max_entries: int) -> None:
        self._lake = lake
        self._info = info
        self._url = f"{LAKE}{info.bucket}/{info.key}"
        self._folder = folder
        self._max_entries = max_entries

    def csv_entries(self) -> list[tuple[str, str]]:
        """The rows of `key,label` (a first row `key,label` is a header); blank lines are skipped."""
        found: list[tuple[str, str]] = []
        rows = csv.reader(self._lines(), strict=True)
        try:
            for row in rows:
                where = f"{self._url} line {rows.line_num}"
                if not row or (rows.line_num == 1 and [cell.strip().lower() for cell in row] == CSV_HEADER):
                    continue
                if len(row) != 2 or not row[0].strip() or not row[1].strip():
                    raise InvalidManifest(f"{where}: {len(row)} fields {row!r}; expected key,label")
                self._add(found, self._object_url(row[0].strip(), where), row[1].strip(), where)
        except csv.Error as error:
            raise InvalidManifest(f"{self._url} line {rows.line_num}: not CSV ({error})") from None
        return found

    def ground_truth_entries(self, label_attribute: str | None) -> tuple[list[tuple[str, str]], set[str]]:
        """The lines' images and class names, and every class name a `class-map` holds (each must have a line)."""
        found: list[tuple[str, str]] = []
        names: dict[int, str] = {}
        mapped: set[str] = set()
        for number, line in enumerate(self._lines(), start=1):
            where = f"{self._url} line {number}"
            if not line.strip():
                continue
            record = _json_object(line, where)
            label_attribute = label_attribute or _label_attribute(record, where)
            index, name, class_map = _classification(record, label_attribute, where)
            if names.setdefault(index, name) != name:
                raise InvalidManifest(f"{where}: class {index} is {name!r}; an earlier line calls it {names[index]!r}")
            mapped.update(class_map)
            source = record.get("source-ref")
            if not isinstance(source, str) or not source.strip():
                raise InvalidManifest(f"{where}: no 'source-ref'; expected the image's s3:// URL")
            self._add(found, self._object_url(source.strip(), where), name, where)
        return found, mapped

    def _add(self, found: list[tuple[str, str]], url: str, label: str, where: str) -> None:
        if len(found) == self._max_entries:
            raise DatasetTooLarge(f"{where}: {self._url} names more than max_entries={self._max_entries} images")
        found.append((url, label))

    def _object_url(self, text: str, where: str) -> str:
        """The s3:// URL a manifest key names, once the object is found in the lake."""
        if text.startswith(LAKE):
            bucket, _, key = text.removeprefix(LAKE).partition("/")
        elif "://" in text or text.startswith("/"):
            raise InvalidManifest(f"{where}: key {text!r}; expected a key relative to {self._folder} or an s3:// URL")
        else:
            bucket, key = self._info.bucket, self._folder.removeprefix(f"{LAKE}{self._info.bucket}/") + text
        if not bucket or not key or key.endswith("/"):
            raise InvalidManifest(f"{where}: {text!r} names no object; expected s3://bucket/key")
        if has_dot_segment(key):
            raise InvalidManifest(f"{where}: key {text!r} has a '.' or '..' segment; such keys are refused")
        url = f"{LAKE}{bucket}/{key}"
        try:
            self._lake.head(bucket, key)
        except (NoSuchBucket, NoSuchKey):
            raise MissingObject(f"{where}: {url} is not in the lake", url=url) from None
        return url

    def _lines(self) -> Iterator[str]:
        """The manifest's text line by line, each with its newline; InvalidManifest if not UTF-8 or a line is huge."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        pending, number = "", 0
        try:
            for chunk in itertools.chain(self._lake.read(self._info), [None]):
                pending += decoder.decode(chunk or b"", final=chunk is None)
                *complete, pending = pending.split("\n")
                number += len(complete)
                if len(pending) > MAX_LINE_CHARS:
                    raise InvalidManifest(f"{self._url} line {number + 1}: longer than {MAX_LINE_CHARS} characters")
                yield from (line + "\n" for line in complete)
        except UnicodeDecodeError as error:
            raise InvalidManifest(f"{self._url} line {number + 1}: not UTF-8 ({error.reason})") from None
        if pending:
            yield pending


def _json_object(line: str, where: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InvalidManifest(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(record, dict):
        raise InvalidManifest(f"{where}: a JSON {type(record).__name__}; expected an object with 'source-ref'")
    return record


def _label_attribute(record: dict[str, Any], where: str) -> str:
    """The one attribute whose `<attribute>-metadata` holds a class-name; InvalidManifest for none or several."""
    found = sorted(
        key.removesuffix(METADATA)
        for key, value in record.items()
        if key.endswith(METADATA)
        and isinstance(value, dict)
        and "class-name" in value
        and key.removesuffix(METADATA) in record
    )
    if not found:
        raise InvalidManifest(
            f"{where}: no label attribute; an image-classification line has <attribute> and <attribute>-metadata "
            "with a class-name"
        )
    if len(found) > 1:
        raise InvalidManifest(f"{where}: label attributes {found} are all possible; pass label_attribute= one of them")
    return found[0]


def _classification(record: dict[str, Any], attribute: str, where: str) -> tuple[int, str, set[str]]:
    """The line's class index, its class-name and the class names of its `class-map`, if it has one."""
    metadata = record.get(attribute + METADATA)
    if attribute not in record or not isinstance(metadata, dict) or not isinstance(metadata.get("class-name"), str):
        raise InvalidManifest(
            f"{where}: no label attribute {attribute!r} with {attribute}{METADATA} naming a class-name"
        )
    index = record[attribute]
    if not isinstance(index, int) or isinstance(index, bool):
        raise InvalidManifest(f"{where}: {attribute}={index!r}; expected the class index, an integer")
    class_map = metadata.get("class-map", {})
    if not isinstance(class_map, dict) or not all(isinstance(name, str) for name in class_map.values()):
        raise InvalidManifest(f"{where}: {attribute + METADATA}.class-map={class_map!r}; expected index -> class name")
    return index, metadata["class-name"], set(class_map.values())
