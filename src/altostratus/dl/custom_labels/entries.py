"""A dataset's entries: the JSON lines of a SageMaker Ground Truth manifest, checked as Custom Labels checks them.

Each line names an image (`source-ref`, `s3://bucket/key`) and carries label attributes: `<attr>` with
`<attr>-metadata` of type `groundtruth/image-classification` (one `class-name`) or
`groundtruth/image-classification-multilabel` (a `class-map`). A line with a problem is kept, with an `errors`
list of `{"code", "message"}` added, and counted as an error entry (Custom Labels' non-terminal JSON line
errors); a line with no label attribute is an unlabeled entry. Object-detection attributes are reported as
errors: the families here classify whole images.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from altostratus.dl.manifests import has_dot_segment

CLASSIFICATION = "groundtruth/image-classification"
MULTILABEL = "groundtruth/image-classification-multilabel"
DETECTION = "groundtruth/object-detection"
LAKE = "s3://"
# Custom Labels' test split when a project has no TEST dataset: a fifth of each label's images.
TEST_FRACTION = 0.2

ObjectExists = Callable[[str, str], bool]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One JSON line of a dataset: its text (errors included), the image it names, its labels and whether it erred."""

    text: str
    source_ref: str | None
    labels: tuple[str, ...]
    has_errors: bool

    @property
    def labeled(self) -> bool:
        """Whether the entry carries a label."""
        return bool(self.labels)


@dataclasses.dataclass(frozen=True)
class EntryFilter:
    """ListDatasetEntries' filters; None lets every entry through."""

    contains_labels: frozenset[str] | None = None
    labeled: bool | None = None
    source_ref_contains: str | None = None
    has_errors: bool | None = None

    def matches(self, entry: Entry) -> bool:
        """Whether the entry passes every filter given."""
        if self.contains_labels is not None and not self.contains_labels & set(entry.labels):
            return False
        if self.labeled is not None and entry.labeled != self.labeled:
            return False
        if self.source_ref_contains is not None and self.source_ref_contains not in (entry.source_ref or ""):
            return False
        return self.has_errors is None or entry.has_errors == self.has_errors


@dataclasses.dataclass
class EntryCounts:
    """DatasetStats as entries are read: totals, and how many entries carry each label."""

    total: int = 0
    labeled: int = 0
    errors: int = 0
    labels: Counter[str] = dataclasses.field(default_factory=Counter)

    def add(self, entry: Entry) -> None:
        """Count one entry."""
        self.total += 1
        self.labeled += entry.labeled
        self.errors += entry.has_errors
        self.labels.update(entry.labels)

    def as_json(self) -> dict[str, Any]:
        """The counts as the dataset's row keeps them."""
        return {"total": self.total, "labeled": self.labeled, "errors": self.errors, "labels": dict(self.labels)}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> EntryCounts:
        """The counts a row kept."""
        return cls(value["total"], value["labeled"], value["errors"], Counter(value["labels"]))


def checked_entry(line: str, exists: ObjectExists) -> Entry:
    """A manifest line as an entry, with the errors found in it; `exists` tells whether its image is in the lake."""
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return _erred({"json-line": line[:1024]}, "ERROR_INVALID_JSON_LINE", "The line is not a JSON object")
    value.pop("errors", None)
    errors = list(_problems(value, exists))
    if errors:
        value["errors"] = [{"code": code, "message": message} for code, message in errors]
    return stored_entry(json.dumps(value, separators=(",", ":")))


def stored_entry(text: str) -> Entry:
    """An entry as the dataset's manifest blob holds it (checked when the dataset was created)."""
    value = json.loads(text)
    source = value.get("source-ref")
    return Entry(text, source if isinstance(source, str) else None, tuple(_labels(value)), "errors" in value)


def training_manifest(entries: Iterable[Entry], classes: Sequence[str]) -> bytes:
    """Image-classification lines of the entries' images and their one label each, `class` its index in `classes`."""
    index = {name: i for i, name in enumerate(classes)}
    lines = []
    for entry in entries:
        label = entry.labels[0]
        metadata = {"class-name": label, "confidence": 1.0, "type": CLASSIFICATION, "human-annotated": "yes"}
        value = {"source-ref": entry.source_ref, "class": index[label], "class-metadata": metadata}
        lines.append(json.dumps(value, separators=(",", ":")) + "\n")
    return "".join(lines).encode()


def split_test(entries: Sequence[Entry], *, seed: int = 0) -> tuple[list[Entry], list[Entry]]:
    """(train, test): a seeded fifth of each label's entries held out, at least one where a label has two or more."""
    by_label: dict[str, list[Entry]] = {}
    for entry in entries:
        by_label.setdefault(entry.labels[0], []).append(entry)
    rng = random.Random(seed)
    train: list[Entry] = []
    test: list[Entry] = []
    for label in sorted(by_label):
        group = list(by_label[label])
        rng.shuffle(group)
        held = max(1, round(len(group) * TEST_FRACTION)) if len(group) >= 2 else 0
        test += group[:held]
        train += group[held:]
    return train, test


def trainable(entries: Iterable[Entry]) -> list[Entry]:
    """The entries training can use: no errors, exactly one label (the families here are single-label)."""
    return [e for e in entries if not e.has_errors and len(e.labels) == 1 and e.source_ref is not None]


def _erred(value: dict[str, Any], code: str, message: str) -> Entry:
    value["errors"] = [{"code": code, "message": message}]
    return stored_entry(json.dumps(value, separators=(",", ":")))


def _problems(value: Mapping[str, Any], exists: ObjectExists) -> Iterable[tuple[str, str]]:
    source = value.get("source-ref")
    if source is None:
        yield "ERROR_MISSING_SOURCE_REF", "The source-ref key is missing"
    elif not isinstance(source, str) or not source.startswith(LAKE) or "/" not in source[len(LAKE) :].strip("/"):
        yield "ERROR_INVALID_SOURCE_REF_FORMAT", f"source-ref={source!r}; expected s3://bucket/key"
    else:
        bucket, key = source[len(LAKE) :].split("/", 1)
        if has_dot_segment(key):
            yield "ERROR_INVALID_SOURCE_REF_FORMAT", f"source-ref={source!r}: a key with a '.' or '..' segment"
        elif not exists(bucket, key):
            yield "ERROR_INVALID_IMAGE", f"The image is invalid: {source} is not in the lake. Check the S3 path"
    for attribute, metadata in _label_attributes(value):
        kind = metadata.get("type")
        if kind == DETECTION:
            yield (
                "ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT",
                f"{attribute}: object detection is not trained here; label whole images ({CLASSIFICATION})",
            )
        elif kind not in (CLASSIFICATION, MULTILABEL):
            yield (
                "ERROR_INVALID_LABEL_ATTRIBUTE_METADATA_FORMAT",
                f"{attribute}-metadata type={kind!r}; expected {CLASSIFICATION} or {MULTILABEL}",
            )
        elif not list(_attribute_labels(value.get(attribute), metadata)):
            yield "ERROR_INVALID_LABEL_ATTRIBUTE_FORMAT", f"{attribute}: no class-name or class-map entry names a label"


def _label_attributes(value: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for name, metadata in value.items():
        if name.endswith("-metadata") and isinstance(metadata, Mapping):
            yield name[: -len("-metadata")], metadata


def _labels(value: Mapping[str, Any]) -> Iterable[str]:
    seen: dict[str, None] = {}
    for attribute, metadata in _label_attributes(value):
        seen.update(dict.fromkeys(_attribute_labels(value.get(attribute), metadata)))
    return seen


def _attribute_labels(indices: Any, metadata: Mapping[str, Any]) -> Iterable[str]:
    if metadata.get("type") == CLASSIFICATION:
        name = metadata.get("class-name")
        if isinstance(name, str) and name.strip():
            yield name
    elif metadata.get("type") == MULTILABEL:
        names = metadata.get("class-map")
        if isinstance(names, Mapping) and isinstance(indices, list):
            yield from (names[str(i)] for i in indices if isinstance(names.get(str(i)), str) and names[str(i)].strip())
