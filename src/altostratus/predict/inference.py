"""Inferring a schema from CSV data, as Amazon ML's console does before it shows the schema for review.

The rules, applied to each column's non-missing values among the first `INFERENCE_ROWS` data rows:

1. No values at all: CATEGORICAL (it carries nothing; the statistics show it as all missing).
2. BINARY: exactly two distinct values (ignoring case), one true and one false among
   1/0, true/false, yes/no, y/n, t/f.
3. NUMERIC: at least 99% of the values are finite numbers (the rest are invalid values, counted as missing).
4. TEXT: values average at least 3 words, or at least 2 words with half of the values distinct.
5. CATEGORICAL: everything else (few distinct values relative to the rows, or single words such as ids).

Whether the first row is a header, when the caller does not say: it is when it holds the target (or row
id) the caller named; otherwise when its values are distinct
and not missing, none looks like data (a number in a NUMERIC column, a value seen again in a
CATEGORICAL or TEXT one) and at least one stands out (it is not of its column's type, or never seen
again). A BINARY column can say nothing against: "y" names columns as often as it means yes.
Without a header, columns are named Var01, Var02, ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence

import numpy as np

from altostratus.predict.datasources import CsvReader, CsvSource
from altostratus.predict.errors import InvalidInput
from altostratus.predict.schema import Attribute, AttributeType, Schema, check_name, default_names
from altostratus.predict.values import BINARY_VALUES, ReadOptions, parse_binary, parse_number

INFERENCE_ROWS = 100_000
NUMERIC_SHARE = 0.99
TEXT_WORDS = 3.0
SHORT_TEXT_WORDS = 2.0
SHORT_TEXT_DISTINCT_SHARE = 0.5


MISSING, NUMBER, OTHER = 0, 1, 2


@dataclasses.dataclass
class ColumnProfile:
    """What inference learns about one column: counts of values, numbers, words and distinct values."""

    values: int = 0
    numbers: int = 0
    not_numbers: int = 0
    words: int = 0
    binary_forms: set[str] = dataclasses.field(default_factory=set)
    distinct: set[int] = dataclasses.field(default_factory=set)
    keep_seen: bool = False
    seen: set[str] = dataclasses.field(default_factory=set)

    def add(self, column: Sequence[str], missing: Collection[str]) -> None:
        """Count a block of raw values; each distinct value is classified once."""
        classes: dict[str, int] = {}
        words: dict[str, int] = {}
        for raw in set(column):
            value = raw.strip()
            if value in missing:
                classes[raw] = MISSING
                continue
            classes[raw] = NUMBER if parse_number(value) is not None else OTHER
            if classes[raw] == OTHER:
                words[raw] = len(value.split())
            self.distinct.add(hash(value))
            if self.keep_seen:
                self.seen.add(value)
            if len(self.binary_forms) <= 2:
                self.binary_forms.add(value.lower())
        counts = np.bincount(np.fromiter(map(classes.__getitem__, column), np.int8, len(column)), minlength=3)
        self.values += int(counts[NUMBER] + counts[OTHER])
        self.numbers += int(counts[NUMBER])
        self.not_numbers += int(counts[OTHER])
        if words:
            self.words += sum(map(words.__getitem__, filter(words.__contains__, column)))

    def infer(self) -> AttributeType:
        """The attribute type these values suggest (the rules in the module's docstring)."""
        if self.values == 0:
            return AttributeType.CATEGORICAL
        forms = self.binary_forms
        if len(forms) == 2 and forms <= BINARY_VALUES.keys() and {BINARY_VALUES[form] for form in forms} == {0.0, 1.0}:
            return AttributeType.BINARY
        if self.numbers >= NUMERIC_SHARE * self.values:
            return AttributeType.NUMERIC
        words = self.words / max(1, self.not_numbers)
        distinct_share = len(self.distinct) / self.values
        if words >= TEXT_WORDS or (words >= SHORT_TEXT_WORDS and distinct_share >= SHORT_TEXT_DISTINCT_SHARE):
            return AttributeType.TEXT
        return AttributeType.CATEGORICAL


def infer_schema(
    sources: Sequence[CsvSource],
    options: ReadOptions,
    *,
    contains_header: bool | None = None,
    target: str | None = None,
    row_id: str | None = None,
) -> Schema:
    """A schema for the data, with the target and row id named by the caller (None: no target)."""
    if contains_header is None:
        contains_header = detect_header(sources, options, named=[name for name in (target, row_id) if name])
    reader = CsvReader(sources, options, header=contains_header)
    profiles: list[ColumnProfile] = []
    for block in reader.blocks():
        _profile_block(profiles, block.rows, options)
        if reader.rows_read >= INFERENCE_ROWS:
            break
    names = reader.header if reader.header is not None else default_names(len(profiles))
    names = [check_name(f"header column {number}", name) for number, name in enumerate(names, 1)]
    attributes = tuple(Attribute(name, profile.infer()) for name, profile in zip(names, profiles, strict=True))
    for field, name in (("target", target), ("row_id", row_id)):
        if name is not None and name not in names:
            raise InvalidInput(f"{field}={name!r} is not a column of the data; expected one of {names}")
    return Schema(attributes, target=target, row_id=row_id, contains_header=contains_header)


def detect_header(sources: Sequence[CsvSource], options: ReadOptions, *, named: Sequence[str] = ()) -> bool:
    """Whether the first row of the first source is a header (the rule in the module's docstring).

    Column names the caller gave (the target, the row id) found in the first row make it a header at once.
    """
    head = [
        value.strip() for value in next(CsvReader(sources[:1], options, header=False, block_rows=1).blocks()).rows[0]
    ]
    if named and set(named) <= set(head):
        return True
    try:
        first = next(CsvReader(sources[:1], options, header=False).blocks())
    except InvalidInput:
        # A bad row among the first (a ragged one, say): judge by the first row alone; reading the data
        # with that verdict then names the bad row, counted as the user counts rows.
        return all(parse_number(value) is None for value in head)
    rest = first.rows[1:]
    if not rest or len(set(head)) != len(head) or any(value in options.missing_markers for value in head):
        return False
    profiles: list[ColumnProfile] = []
    _profile_block(profiles, rest, options, keep_seen=True)
    verdicts = [_stands_out(value, profile) for value, profile in zip(head, profiles, strict=True)]
    return False not in verdicts and True in verdicts


def _stands_out(value: str, profile: ColumnProfile) -> bool | None:
    """True if the value is unlike its column's data, False if it looks like it, None if it cannot tell."""
    kind = profile.infer()
    if kind is AttributeType.NUMERIC:
        return parse_number(value) is None
    if kind is AttributeType.BINARY:
        return True if parse_binary(value) is None else None
    return value not in profile.seen


def _profile_block(
    profiles: list[ColumnProfile], rows: Sequence[Sequence[str]], options: ReadOptions, *, keep_seen: bool = False
) -> None:
    columns = list(zip(*rows, strict=True))
    if not profiles:
        profiles.extend(ColumnProfile(keep_seen=keep_seen) for _ in columns)
    for profile, column in zip(profiles, columns, strict=True):
        profile.add(column, options.missing_markers)
