"""Typed columns of data: CSV rows read by a schema into numpy arrays, one per attribute.

NUMERIC and BINARY attributes become float64 arrays with NaN for missing (BINARY holds 0 and 1);
CATEGORICAL and TEXT attributes become object arrays of strings with None for missing. The target's
values are also kept as the strings they were (`Table.labels`), since class labels are strings.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from altostratus.predict.arrow_csv import (
    ArrowArray,
    arrow_binaries,
    arrow_numbers,
    arrow_strings,
    arrow_value,
    is_arrow,
)
from altostratus.predict.datasources import Block, CsvReader, CsvSource
from altostratus.predict.errors import InvalidInput
from altostratus.predict.schema import AttributeType, Schema
from altostratus.predict.splits import Rearrangement
from altostratus.predict.values import BINARY_VALUES, ReadOptions, parse_number

Array = npt.NDArray[np.float64]
Objects = npt.NDArray[np.object_]
NUMERIC_TYPES = (AttributeType.NUMERIC, AttributeType.BINARY)
MAX_EXAMPLES = 3


@dataclasses.dataclass
class Table:
    """Columns of data by attribute name, all of the same length."""

    schema: Schema
    columns: dict[str, npt.NDArray[np.float64] | npt.NDArray[np.object_]]
    rows: int
    labels: Objects | None = None

    def numeric(self, name: str) -> Array:
        """The float column of a NUMERIC or BINARY attribute."""
        column = self.columns[name]
        assert column.dtype == np.float64, f"{name} is not a numeric column"
        return column  # type: ignore[return-value]

    def strings(self, name: str) -> Objects:
        """The string column (None for missing) of a CATEGORICAL or TEXT attribute."""
        column = self.columns[name]
        assert column.dtype == object, f"{name} is not a string column"
        return column  # type: ignore[return-value]

    def select(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Table:
        """The rows picked by a boolean mask or by indices."""
        columns = {name: column[keep] for name, column in self.columns.items()}
        labels = None if self.labels is None else self.labels[keep]
        rows = len(next(iter(columns.values()))) if columns else int(np.count_nonzero(keep))
        return Table(self.schema, columns, rows, labels)


@dataclasses.dataclass
class InvalidValues:
    """Values of one attribute that are not of its type: how many, and the first few (where, value)."""

    count: int = 0
    examples: list[tuple[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class LoadedData:
    """A datasource's table after its split, with what reading it found."""

    table: Table
    rows_read: int
    bytes_read: int
    files: int
    invalid: dict[str, InvalidValues]


def load_table(
    sources: Sequence[CsvSource],
    schema: Schema,
    options: ReadOptions,
    rearrangement: Rearrangement | None = None,
) -> LoadedData:
    """Read every row by the schema, check invalid values stay rare, and keep the rows the split selects."""
    reader = CsvReader(sources, options, header=schema.contains_header, columns=len(schema.attributes), columnar=True)
    builder = _TableBuilder(schema, options.missing_markers)
    for block in reader.blocks():
        builder.add(block)
    if reader.header is not None and reader.header != list(schema.names):
        raise InvalidInput(
            f"the header of {sources[0].name} is {reader.header}; the DataSchema attributes are {list(schema.names)}"
        )
    table = builder.build()
    _check_invalid(builder.invalid, reader.rows_read, options.max_invalid_fraction, schema)
    if rearrangement is not None and not rearrangement.is_everything:
        table = table.select(rearrangement.mask(table.rows))
        if table.rows == 0:
            raise InvalidInput(f"DataRearrangement {rearrangement.to_json()} selects none of {reader.rows_read} rows")
    return LoadedData(table, reader.rows_read, reader.bytes_read, len(sources), builder.invalid)


def table_from_rows(schema: Schema, rows: Sequence[Sequence[str]], missing: Collection[str]) -> tuple[Table, list[int]]:
    """A table of rows given in column order; and the indices of rows that had invalid values."""
    numbers = range(len(rows))
    return table_from_block(schema, Block("input", range(1, len(rows) + 1), numbers, rows=rows), missing)  # type: ignore[arg-type]


def table_from_block(schema: Schema, block: Block, missing: Collection[str]) -> tuple[Table, list[int]]:
    """A table of one block's rows; and the indices (in the block) of rows that had invalid values."""
    builder = _TableBuilder(schema, missing)
    bad = builder.add(block)
    return builder.build(), sorted(bad)


def table_from_records(schema: Schema, records: Iterable[Mapping[str, str]], missing: Collection[str]) -> Table:
    """A table of records keyed by attribute name; an unknown field or an invalid value is an error naming it."""
    names = schema.names
    known = set(names)
    rows = []
    for record in records:
        unknown = [field for field in record if field not in known]
        if unknown:
            raise InvalidInput(f"Record field {unknown[0]!r} is not an attribute of the model; expected {list(names)}")
        rows.append([_record_value(record, name) for name in names])
    builder = _TableBuilder(schema, {*missing, ""})  # a field left out is missing, whatever the markers
    builder.add(Block("record", range(1, len(rows) + 1), range(len(rows)), rows=rows))
    for name, invalid in builder.invalid.items():
        if invalid.count:
            where, value = invalid.examples[0]
            kind = schema.type_of(name)
            raise InvalidInput(f"Record field {name!r}={value!r} is not a valid {kind} value ({where})")
    return builder.build()


def table_from_record(schema: Schema, record: Mapping[str, str], missing: Collection[str]) -> Table:
    """`table_from_records(schema, [record], missing)`, value by value: a tenth of the time for one record (Predict)."""
    names = schema.names
    unknown = [field for field in record if field not in schema.name_set]
    if unknown:
        raise InvalidInput(f"Record field {unknown[0]!r} is not an attribute of the model; expected {list(names)}")
    values = [_record_value(record, name) for name in names]
    missing = frozenset({*missing, ""})
    columns: dict[str, npt.NDArray[np.float64] | npt.NDArray[np.object_]] = {}
    labels = None
    for attribute, value in zip(schema.attributes, values, strict=True):
        if attribute.name in schema.excluded:
            continue
        if attribute.type in NUMERIC_TYPES:
            number = _record_number(attribute.type, value, missing)
            if number is None:
                raise InvalidInput(
                    f"Record field {attribute.name!r}={value!r} is not a valid {attribute.type} value "
                    "(row 1 (line 1 of record))"
                )
            columns[attribute.name] = np.array([number])
        else:
            columns[attribute.name] = _one(None if value in missing else value)
        if attribute.name == schema.target:
            labels = _one(None if value in missing else value)
    return Table(schema, columns, 1, labels)


def _record_number(kind: AttributeType, value: str, missing: frozenset[str]) -> float | None:
    """A NUMERIC or BINARY value as `_numbers` and `_binaries` read it: NaN for missing, None when invalid."""
    if kind is AttributeType.NUMERIC:
        number = parse_number(value)
        if number is not None and value not in _numeric_markers(missing):
            return number
    elif value not in missing:
        return BINARY_VALUES.get(value.lower())
    return np.nan if value in missing else None


def _one(value: str | None) -> Objects:
    column = np.empty(1, dtype=object)
    column[0] = value
    return column


def _record_value(record: Mapping[str, str], name: str) -> str:
    value = record.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(f"Record field {name!r}={value!r}; expected a string value")
    return value.strip()


class _TableBuilder:
    """Turns blocks of string rows into typed column pieces, counting invalid values."""

    def __init__(self, schema: Schema, missing: Collection[str]) -> None:
        self._schema = schema
        self._missing = frozenset(missing)
        self._skip = set(schema.excluded)
        self._pieces: dict[str, list[npt.NDArray[np.float64] | npt.NDArray[np.object_]]] = {
            a.name: [] for a in schema.attributes if a.name not in self._skip
        }
        self._labels: list[Objects] = []
        self._interned: dict[str, dict[str, str | None]] = {name: {} for name in self._pieces}
        self.invalid: dict[str, InvalidValues] = {name: InvalidValues() for name in self._pieces}
        self.rows = 0

    def add(self, block: Block) -> set[int]:
        """Convert one block; the indices (in the block) of rows with an invalid value."""
        bad: set[int] = set()
        columns = block.columns(len(self._schema.attributes))
        for attribute, values in zip(self._schema.attributes, columns, strict=True):
            if attribute.name in self._skip:
                continue
            column, invalid = self._convert(attribute.name, attribute.type, values)
            self._pieces[attribute.name].append(column)
            if invalid:
                self._note_invalid(attribute.name, block, invalid, values)
                bad.update(invalid)
            if attribute.name == self._schema.target:
                self._labels.append(self._strings(values, self._interned[attribute.name]))
        self.rows += len(block)
        return bad

    def build(self) -> Table:
        """The table of every block added."""
        columns = {name: _join(pieces, name, self._schema) for name, pieces in self._pieces.items()}
        labels = np.concatenate(self._labels) if self._labels else None
        return Table(self._schema, columns, self.rows, labels)

    def _convert(
        self, name: str, kind: AttributeType, values: Sequence[str] | ArrowArray
    ) -> tuple[npt.NDArray[np.float64] | npt.NDArray[np.object_], list[int]]:
        if is_arrow(values):
            return self._convert_arrow(name, kind, values)
        if kind is AttributeType.NUMERIC:
            return _numbers(values, self._missing)
        if kind is AttributeType.BINARY:
            return _binaries(values, self._missing)
        return self._strings(values, self._interned[name]), []

    def _convert_arrow(
        self, name: str, kind: AttributeType, values: ArrowArray
    ) -> tuple[npt.NDArray[np.float64] | npt.NDArray[np.object_], list[int]]:
        if kind is AttributeType.NUMERIC:
            numbers = arrow_numbers(values, self._missing)
            return (numbers, []) if numbers is not None else _numbers(values.to_pylist(), self._missing)
        if kind is AttributeType.BINARY:
            return arrow_binaries(values, self._missing)
        return self._strings(values, self._interned[name]), []

    def _strings(self, values: Sequence[str] | ArrowArray, known: dict[str, str | None]) -> Objects:
        if is_arrow(values):
            return arrow_strings(values, self._missing, known)
        # Each distinct raw value is stripped and checked once; equal values then share one string
        # object, which makes categorical columns small.
        missing = self._missing
        for raw in set(values).difference(known):
            value = raw.strip()
            known[raw] = None if value in missing else value
        column = np.empty(len(values), dtype=object)
        column[:] = list(map(known.__getitem__, values))
        return column

    def _note_invalid(self, name: str, block: Block, invalid: list[int], values: Sequence[str] | ArrowArray) -> None:
        record = self.invalid[name]
        record.count += len(invalid)
        for index in invalid[: MAX_EXAMPLES - len(record.examples)]:
            raw = arrow_value(values, index) if is_arrow(values) else values[index]
            record.examples.append((block.where(index), raw.strip()))


def _numbers(values: Sequence[str], missing: frozenset[str]) -> tuple[Array, list[int]]:
    try:
        numbers = np.fromiter(map(float, values), np.float64, len(values))
    except ValueError:
        return _converted(values, missing, parse_number)
    if np.isfinite(numbers).all() and not _holds_numeric_marker(values, missing):
        return numbers, []
    return _converted(values, missing, parse_number)


def _holds_numeric_marker(values: Sequence[str], missing: frozenset[str]) -> bool:
    """Whether a value is a missing marker that reads as a number ("-999"): missing, though float() reads it."""
    markers = _numeric_markers(missing)
    return bool(markers) and not markers.isdisjoint(map(str.strip, values))


@functools.cache
def _numeric_markers(missing: frozenset[str]) -> frozenset[str]:
    return frozenset(marker for marker in missing if parse_number(marker) is not None)


def _binaries(values: Sequence[str], missing: frozenset[str]) -> tuple[Array, list[int]]:
    return _converted(values, missing, lambda value: BINARY_VALUES.get(value.lower()))


def _converted(
    values: Sequence[str], missing: frozenset[str], convert: Callable[[str], float | None]
) -> tuple[Array, list[int]]:
    """Convert each distinct value once: NaN for missing and invalid ones, and the invalid rows' indices."""
    known: dict[str, float] = {}
    invalid: set[str] = set()
    for raw in set(values):
        value = raw.strip()
        number = None if value in missing else convert(value)
        if number is None and value not in missing:
            invalid.add(raw)
        known[raw] = np.nan if number is None else number
    numbers = np.fromiter(map(known.__getitem__, values), np.float64, len(values))
    return numbers, [index for index, value in enumerate(values) if value in invalid] if invalid else []


def _join(
    pieces: list[npt.NDArray[np.float64] | npt.NDArray[np.object_]], name: str, schema: Schema
) -> npt.NDArray[np.float64] | npt.NDArray[np.object_]:
    if pieces:
        joined: npt.NDArray[np.float64] | npt.NDArray[np.object_] = np.concatenate(pieces)  # type: ignore[assignment]
        return joined
    return np.empty(0, dtype=np.float64 if schema.type_of(name) in NUMERIC_TYPES else object)


def _check_invalid(invalid: Mapping[str, InvalidValues], rows: int, limit: float, schema: Schema) -> None:
    for name, record in invalid.items():
        if record.count > limit * rows:
            where, value = record.examples[0]
            raise InvalidInput(
                f"attribute {name!r} is {schema.type_of(name)} in the DataSchema, but {where} has {value!r}: "
                f"{record.count} of {rows} values ({record.count / rows:.1%}) are not {schema.type_of(name)}; "
                f"at most {limit:.1%} may be invalid"
            )


def factorize(column: Objects) -> tuple[npt.NDArray[np.intp], list[str]]:
    """Integer codes for a string column (-1 for missing) and the distinct values, in order of appearance."""
    uniques = [value for value in dict.fromkeys(column) if value is not None]
    index: dict[str | None, int] = {value: code for code, value in enumerate(uniques)}
    index[None] = -1
    return np.fromiter(map(index.__getitem__, column), np.intp, len(column)), uniques
