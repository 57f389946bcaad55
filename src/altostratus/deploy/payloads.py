"""Invocation bodies: CSV and JSON records in, predictions out in the type the caller accepts.

In (Content-Type):
- `text/csv`: one record per line, values in the model's column order (the target left out); a first
  line that lists the column names is a header and skipped.
- `application/json`: `{"instances": [...]}` (each an object of field values, or a list in column
  order), or one record as an object. Numbers and booleans are read as the text they would be in a CSV.
Out (Accept): `application/json` (the default): `{"predictions": [...]}`, or the one prediction when
one record came as an object; `text/csv`: one line per record, the predicted label or value.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from altostratus.core import json_input
from altostratus.deploy.errors import InvalidValue

JSON = "application/json"
CSV = "text/csv"
CONTENT_TYPES = (CSV, JSON)
ACCEPT_TYPES = (JSON, CSV)
_ANY_JSON = frozenset({"*/*", "application/*", JSON})
_ANY_CSV = frozenset({"text/*", CSV})
_SNIFFED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class UnreadableBody(InvalidValue):
    """The request body does not hold records the model can read."""


@dataclasses.dataclass(frozen=True)
class Formats:
    """What a request's body holds (its media type, "" to tell by the body) and the type its answer is written in."""

    body: str
    answer: str


@dataclasses.dataclass(frozen=True)
class Records:
    """The records of one request, and whether one record came alone (as a JSON object)."""

    rows: list[dict[str, str]]
    single: bool = False


def media_type(header: str | None) -> str:
    """A Content-Type or Accept value without parameters, lower-case ("text/csv; charset=utf-8" -> "text/csv")."""
    return (header or "").split(";", 1)[0].strip().lower()


def check_content_type(header: str | None) -> str:
    """The body's type: text/csv, application/json, or "" (to be told by the body's first byte)."""
    media = media_type(header)
    if media in _SNIFFED:
        return ""
    if media not in CONTENT_TYPES:
        raise InvalidValue(f"ContentType={header!r}; expected one of {list(CONTENT_TYPES)}")
    return media


def answer_type(accept: str | None) -> str:
    """The first type in Accept that this server writes; application/json when none is asked for."""
    if not accept or not accept.strip():
        return JSON
    for part in accept.split(","):
        media = media_type(part)
        if media in _ANY_JSON:
            return JSON
        if media in _ANY_CSV:
            return CSV
    raise InvalidValue(f"Accept={accept!r}; expected one of {list(ACCEPT_TYPES)}")


def read_records(body: bytes, content_type: str, columns: Sequence[str]) -> Records:
    """The records in a body of the given type ("" to sniff it) for a model with these input columns."""
    if not body.strip():
        raise UnreadableBody("the request body is empty; expected records as CSV or JSON")
    if not content_type:
        content_type = JSON if body.lstrip()[:1] in (b"{", b"[") else CSV
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableBody(f"the request body is not UTF-8 text (byte {error.start})") from None
    if content_type == CSV:
        return Records(_csv_records(text, columns))
    return _json_records(text, columns)


def _csv_records(text: str, columns: Sequence[str]) -> list[dict[str, str]]:
    rows = [row for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]
    if rows and [cell.strip() for cell in rows[0]] == list(columns):
        rows = rows[1:]
    if not rows:
        raise UnreadableBody("the CSV body holds no records")
    return [_row_record(row, columns, f"CSV line {number}") for number, row in enumerate(rows, 1)]


def _json_records(text: str, columns: Sequence[str]) -> Records:
    try:
        document = json_input.loads(text)
    except ValueError as error:
        raise UnreadableBody(f"the JSON body is not valid JSON: {error}") from None
    if isinstance(document, dict) and "instances" in document:
        instances = document["instances"]
    elif isinstance(document, dict):
        return Records([_object_record(document, "the record")], single=True)
    else:
        instances = document
    if not isinstance(instances, list) or not instances:
        raise UnreadableBody('"instances" must be a non-empty list of records (objects or lists in column order)')
    records = []
    for number, item in enumerate(instances):
        where = f"instances[{number}]"
        if isinstance(item, dict):
            records.append(_object_record(item, where))
        elif isinstance(item, list):
            records.append(_row_record([_text(value, where) for value in item], columns, where))
        else:
            raise UnreadableBody(f"{where}={item!r:.60}; expected an object of field values or a list")
    return Records(records)


def _row_record(row: Sequence[str], columns: Sequence[str], where: str) -> dict[str, str]:
    if len(row) != len(columns):
        raise UnreadableBody(
            f"{where} has {len(row)} values; the model takes {len(columns)}, in this order: {', '.join(columns)}"
        )
    return dict(zip(columns, row, strict=True))


def _object_record(item: Mapping[str, Any], where: str) -> dict[str, str]:
    return {str(field): _text(value, f"{where}.{field}") for field, value in item.items()}


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, str | int | float):
        return str(value)
    raise UnreadableBody(f"{where}={value!r:.60}; expected a string, number, boolean or null")


def write_predictions(predictions: Sequence[Mapping[str, Any]], answer: str, *, single: bool) -> bytes:
    """The answer's body: JSON ({"predictions": [...]} or the one prediction), or one CSV line per prediction."""
    if answer == CSV:
        return "".join(f"{_csv_value(outcome_of(p))}\n" for p in predictions).encode()
    document = predictions[0] if single else {"predictions": list(predictions)}
    return json.dumps(document).encode()


def outcome_of(prediction: Mapping[str, Any]) -> str | float:
    """A prediction's label (classification) or value (regression)."""
    label = prediction.get("predictedLabel")
    return str(label) if label is not None else float(prediction["predictedValue"])


def _csv_value(outcome: str | float) -> str:
    return outcome if isinstance(outcome, str) else repr(outcome)
