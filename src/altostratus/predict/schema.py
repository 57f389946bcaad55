"""Data schemas: attribute types, and Amazon ML's DataSchema JSON read, checked and written back.

A DataSchema is the JSON document Amazon ML takes with a datasource::

    {"version": "1.0", "targetAttributeName": "y", "rowId": "id", "dataFormat": "CSV",
     "dataFileContainsHeader": true,
     "attributes": [{"attributeName": "id", "attributeType": "CATEGORICAL"}, ...],
     "excludedAttributeNames": ["notes"]}

The attributes list every column of the CSV, in order. How values are read (missing markers, what
counts as a number or a binary value) lives in `values.py`; inferring a schema from data in `inference.py`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.core import json_input
from altostratus.predict.errors import InvalidInput

SCHEMA_VERSION = "1.0"
DATA_FORMATS = ("CSV",)
SCHEMA_KEYS = frozenset(
    {
        "version",
        "targetAttributeName",
        "rowId",
        "dataFormat",
        "dataFileContainsHeader",
        "attributes",
        "excludedAttributeNames",
    }
)
MAX_NAME_LENGTH = 256
_BOOL_STRINGS = {"true": True, "false": False}


class AttributeType(enum.StrEnum):
    """Amazon ML's attribute types."""

    NUMERIC = "NUMERIC"
    CATEGORICAL = "CATEGORICAL"
    TEXT = "TEXT"
    BINARY = "BINARY"


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One column: its name and type."""

    name: str
    type: AttributeType


@dataclasses.dataclass(frozen=True)
class Schema:
    """The columns of a CSV datasource, which one is the target, the row id, and which are left out."""

    attributes: tuple[Attribute, ...]
    target: str | None = None
    row_id: str | None = None
    contains_header: bool = False
    excluded: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = [attribute.name for attribute in self.attributes]
        if not names:
            raise InvalidInput("DataSchema attributes=[]; expected at least one attribute")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise InvalidInput(f"DataSchema attributes name {duplicates} more than once; names must be unique")
        for field, name in (("targetAttributeName", self.target), ("rowId", self.row_id)):
            if name is not None and name not in names:
                raise InvalidInput(f"DataSchema {field}={name!r} is not among the attributes {names}")
        unknown = sorted(set(self.excluded) - set(names))
        if unknown:
            raise InvalidInput(f"DataSchema excludedAttributeNames {unknown} are not among the attributes {names}")
        if self.target is not None and (self.target == self.row_id or self.target in self.excluded):
            raise InvalidInput(f"DataSchema targetAttributeName={self.target!r} may not be the rowId or excluded")

    @property
    def names(self) -> tuple[str, ...]:
        """Every attribute name, in column order."""
        return tuple(attribute.name for attribute in self.attributes)

    @functools.cached_property
    def name_set(self) -> frozenset[str]:
        """Every attribute name, for membership tests."""
        return frozenset(self.names)

    @property
    def inputs(self) -> tuple[Attribute, ...]:
        """The attributes a model learns from: all but the target, the row id and the excluded ones."""
        skip = {self.target, self.row_id, *self.excluded}
        return tuple(attribute for attribute in self.attributes if attribute.name not in skip)

    def type_of(self, name: str) -> AttributeType:
        """The type of the attribute `name`."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute.type
        raise InvalidInput(f"attribute {name!r} is not in the schema; expected one of {list(self.names)}")

    def with_target(self, target: str | None) -> Schema:
        """This schema with another target attribute."""
        return dataclasses.replace(self, target=target)

    def to_json(self) -> str:
        """The schema as an Amazon ML DataSchema JSON string."""
        document: dict[str, Any] = {"version": SCHEMA_VERSION}
        if self.row_id is not None:
            document["rowId"] = self.row_id
        if self.target is not None:
            document["targetAttributeName"] = self.target
        document["dataFormat"] = "CSV"
        document["dataFileContainsHeader"] = self.contains_header
        document["attributes"] = [
            {"attributeName": attribute.name, "attributeType": attribute.type.value} for attribute in self.attributes
        ]
        document["excludedAttributeNames"] = list(self.excluded)
        return json.dumps(document)

    @classmethod
    def from_json(cls, text: str) -> Schema:
        """Read an Amazon ML DataSchema JSON string; InvalidInput naming the field that is wrong."""
        document = _json_object("DataSchema", text)
        unknown = sorted(set(document) - SCHEMA_KEYS)
        if unknown:
            raise InvalidInput(f"DataSchema has unknown fields {unknown}; expected only {sorted(SCHEMA_KEYS)}")
        version = document.get("version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise InvalidInput(f"DataSchema version={version!r}; expected {SCHEMA_VERSION!r}")
        data_format = document.get("dataFormat", "CSV")
        if data_format not in DATA_FORMATS:
            raise InvalidInput(f"DataSchema dataFormat={data_format!r}; expected one of {list(DATA_FORMATS)}")
        return cls(
            attributes=tuple(_attributes(document.get("attributes"))),
            target=_optional_name(document, "targetAttributeName"),
            row_id=_optional_name(document, "rowId"),
            contains_header=parse_bool("DataSchema dataFileContainsHeader", document.get("dataFileContainsHeader")),
            excluded=tuple(_names(document.get("excludedAttributeNames", []), "excludedAttributeNames")),
        )


def parse_bool(field: str, value: object, default: bool = False) -> bool:
    """A JSON boolean, also given as the string "true" or "false" (Amazon ML's own examples do so)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOL_STRINGS:
        return _BOOL_STRINGS[value.lower()]
    raise InvalidInput(f"{field}={value!r}; expected true or false")


def check_name(field: str, name: object) -> str:
    """An attribute name: a non-empty string of at most 256 characters without parentheses or commas."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH or re.search(r"[(),]", name):
        raise InvalidInput(
            f"{field}={name!r}; expected a name of 1 to {MAX_NAME_LENGTH} characters without '(', ')' or ','"
        )
    return name


def default_names(count: int) -> list[str]:
    """Names for the columns of a CSV without a header: Var01, Var02, ... (as Amazon ML's console names them)."""
    width = max(2, len(str(count)))
    return [f"Var{number:0{width}d}" for number in range(1, count + 1)]


def _json_object(what: str, text: str) -> Mapping[str, Any]:
    try:
        document = json_input.loads(text)
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"{what} is not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"{what} is {type(document).__name__}; expected a JSON object")
    return document


def _attributes(value: object) -> list[Attribute]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"DataSchema attributes={value!r}; expected a non-empty list of attributes")
    attributes = []
    for position, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"attributeName", "attributeType"}:
            raise InvalidInput(
                f"DataSchema attributes[{position}]={item!r}; expected {{'attributeName': ..., 'attributeType': ...}}"
            )
        kind = item["attributeType"]
        if kind not in AttributeType.__members__:
            raise InvalidInput(
                f"DataSchema attributes[{position}] attributeType={kind!r}; expected one of {list(AttributeType)}"
            )
        name = check_name(f"DataSchema attributes[{position}] attributeName", item["attributeName"])
        attributes.append(Attribute(name, AttributeType(kind)))
    return attributes


def _optional_name(document: Mapping[str, Any], field: str) -> str | None:
    value = document.get(field)
    return None if value is None else check_name(f"DataSchema {field}", value)


def _names(value: object, field: str) -> Sequence[str]:
    if not isinstance(value, list):
        raise InvalidInput(f"DataSchema {field}={value!r}; expected a list of attribute names")
    return [check_name(f"DataSchema {field}", name) for name in value]
