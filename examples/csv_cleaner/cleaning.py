"""Cleaning raw CSV into typed CSV: the data-lake practice the handler in app.py applies to each upload.

- every cell is trimmed, and missing-value markers (`?`, `NA`, `null`, ...) become empty cells;
- a row whose field count differs from the header's is dropped and counted (blank lines are skipped);
- the header row is detected; without one, names come from the caller (the object's `columns` metadata) or
  are made up as column_1, column_2, ...;
- a column whose every present value is a number is typed integer or float and written in one canonical form
  (`007` -> `7`, `1.50` -> `1.5`), optionally rescaled (`scale="minmax"` to 0..1, `"zscore"` to mean 0, sd 1);
- a report says what was done: counts, each column's type, missing count and range.

Two passes over the text (types first, then the rows), so memory holds the text and per-column counters,
never every row. Standard library only: the function deploys without requirements.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

MISSING = frozenset({"", "?", "NA", "N/A", "n/a", "na", "NaN", "nan", "NULL", "null", "None", "none", "-"})
SCALES = ("none", "minmax", "zscore")
_INTEGER = re.compile(r"[+-]?\d+")
_DELIMITERS = ",;\t|"
_EXAMPLES = 5


@dataclasses.dataclass
class Column:
    """What one column holds, gathered over the first pass."""

    name: str
    integers: bool = True
    floats: bool = True
    present: int = 0
    missing: int = 0
    total: float = 0.0
    squares: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    @property
    def kind(self) -> str:
        """integer, float or string (a column with no values at all is string)."""
        if not self.present:
            return "string"
        return "integer" if self.integers else "float" if self.floats else "string"

    def see(self, value: str) -> None:
        """Count one trimmed, non-missing value."""
        self.present += 1
        if not self.floats:
            return
        number = _number(value)
        if number is None:
            self.integers = self.floats = False
            return
        self.integers = self.integers and bool(_INTEGER.fullmatch(value))
        self.total += number
        self.squares += number * number
        self.low, self.high = min(self.low, number), max(self.high, number)

    def summary(self) -> dict[str, Any]:
        """This column in the report."""
        found: dict[str, Any] = {"name": self.name, "type": self.kind, "missing": self.missing}
        if self.kind != "string":
            mean = self.total / self.present
            found.update(min=_plain(self.low), max=_plain(self.high), mean=mean, std=self._std(mean))
        return found

    def _std(self, mean: float) -> float:
        return math.sqrt(max(self.squares / self.present - mean * mean, 0.0))

    def write(self, value: str, scale: str) -> str:
        """The value as the clean CSV holds it."""
        if value == "" or self.kind == "string":
            return value
        number = float(value)
        if scale == "minmax":
            span = self.high - self.low
            return repr((number - self.low) / span if span else 0.0)
        if scale == "zscore":
            std = self._std(self.total / self.present)
            return repr((number - self.total / self.present) / std if std else 0.0)
        return str(int(value)) if self.kind == "integer" else repr(number)


def clean_csv(
    text: str,
    *,
    columns: Sequence[str] = (),
    missing: frozenset[str] = MISSING,
    scale: str = "none",
    recode: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The cleaned CSV text and the report; `columns` names a headerless file's columns.

    `recode` maps a column's values to others (`{"income": {">50K": "1", "<=50K": "0"}}`), before typing.
    """
    if scale not in SCALES:
        raise ValueError(f"scale={scale!r}; expected one of {list(SCALES)}")
    delimiter = _delimiter(text)
    first = next(_rows(text, delimiter, missing), None)
    if first is None:
        return "", {"rows_in": 0, "rows_out": 0, "malformed_rows": 0, "columns": []}
    header, source = _header(first[1], columns)
    table = [Column(name) for name in header]
    unknown = sorted(set(recode or {}) - set(header))
    if unknown:
        raise ValueError(f"recode names columns {unknown} that the file lacks; it has {header}")
    maps = [(recode or {}).get(name, {}) for name in header]

    def body() -> Iterator[tuple[int, list[str]]]:
        for line, cells in _body(text, delimiter, missing, source == "detected"):
            if len(cells) == len(maps):
                cells = [mapping.get(cell, cell) for mapping, cell in zip(maps, cells, strict=True)]
            yield line, cells

    counts = {"rows_in": 0, "rows_out": 0, "malformed_rows": 0}
    examples: list[dict[str, int]] = []
    for line, cells in body():
        counts["rows_in"] += 1
        if len(cells) != len(table):
            counts["malformed_rows"] += 1
            if len(examples) < _EXAMPLES:
                examples.append({"line": line, "fields": len(cells)})
            continue
        counts["rows_out"] += 1
        for column, value in zip(table, cells, strict=True):
            if value:
                column.see(value)
            else:
                column.missing += 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for _line, cells in body():
        if len(cells) == len(table):
            writer.writerow([column.write(value, scale) for column, value in zip(table, cells, strict=True)])
    report = {
        **counts,
        "malformed_examples": examples,
        "header": source,
        "delimiter": delimiter,
        "scale": scale,
        "missing_markers": sorted(missing - {""}),
        "columns": [column.summary() for column in table],
    }
    return out.getvalue(), report


def _header(first: list[str], columns: Sequence[str]) -> tuple[list[str], str]:
    """The column names and where they came from: detected, given or generated."""
    # A header row has a name in every cell, no numbers and no repeats; a headerless file's first row is data.
    if all(first) and len(set(first)) == len(first) and all(_number(cell) is None for cell in first):
        return first, "detected"
    if columns and len(columns) == len(first):
        return [name.strip() for name in columns], "given"
    return [f"column_{n}" for n in range(1, len(first) + 1)], "generated"


def _body(text: str, delimiter: str, missing: frozenset[str], skip_first: bool) -> Iterator[tuple[int, list[str]]]:
    rows = _rows(text, delimiter, missing)
    if skip_first:
        next(rows, None)
    yield from rows


def _rows(text: str, delimiter: str, missing: frozenset[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, trimmed cells with missing markers emptied) of each non-blank row."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    for cells in reader:
        trimmed = [cell.strip() for cell in cells]
        if not any(trimmed):
            continue
        yield reader.line_num, ["" if cell in missing else cell for cell in trimmed]


def _delimiter(text: str) -> str:
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _plain(number: float) -> int | float:
    return int(number) if number.is_integer() else number
