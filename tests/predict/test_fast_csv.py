"""The fast CSV path (Arrow) reads exactly what the careful one (the csv module) reads, and hands over to it.

Every test reads the same bytes twice, once with Arrow allowed and once with it turned off, and
compares the typed table, the invalid values (with the row and line they name) or the error.
Sources come in small chunks, and pieces are made small, so that a file is many pieces and the
hand-over from Arrow to the csv module happens mid-file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from altostratus.predict import Attribute, AttributeType, InvalidInput, ReadOptions, Schema, arrow_csv, datasources
from altostratus.predict.table import load_table

TYPES = (AttributeType.NUMERIC, AttributeType.BINARY, AttributeType.CATEGORICAL, AttributeType.TEXT)


@dataclasses.dataclass(frozen=True)
class Chunked:
    """A source whose bytes come a few at a time."""

    data: bytes
    step: int = 7
    name: str = "data.csv"

    @property
    def size(self) -> int:
        return len(self.data)

    def open(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), self.step):
            yield self.data[start : start + self.step]


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasources, "CHUNK_BYTES", 24)


@pytest.fixture
def arrow_pieces(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many pieces Arrow parsed (so a test can check the fast path really ran)."""
    parsed: list[int] = []
    original = arrow_csv.parse_piece

    def counting(piece: bytes, columns: int) -> Any:
        arrays = original(piece, columns)
        if arrays is not None:
            parsed.append(len(arrays[0]))
        return arrays

    monkeypatch.setattr(datasources, "parse_piece", counting)
    return parsed


def read(
    data: bytes,
    schema: Schema,
    *,
    fast: bool,
    monkeypatch: pytest.MonkeyPatch,
    step: int = 7,
    markers: tuple[str, ...] | None = None,
) -> Any:
    """What load_table makes of the data: its columns, labels and invalid values, or the error's message."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(datasources, "parse_piece", lambda piece, columns: None)
        try:
            options = ReadOptions(max_invalid_fraction=1.0)
            if markers is not None:
                options = dataclasses.replace(options, missing_markers=markers)
            loaded = load_table([Chunked(data, step)], schema, options)
        except InvalidInput as error:
            return ("error", str(error))
    columns = {name: _comparable(column) for name, column in loaded.table.columns.items()}
    labels = None if loaded.table.labels is None else loaded.table.labels.tolist()
    invalid = {name: (record.count, record.examples) for name, record in loaded.invalid.items()}
    return columns, labels, invalid, loaded.rows_read, loaded.bytes_read


def _comparable(column: np.ndarray) -> list[object]:
    if column.dtype == np.float64:
        return ["nan" if np.isnan(value) else repr(value) for value in column.tolist()]
    return column.tolist()


def schema_of(types: tuple[AttributeType, ...], *, header: bool) -> Schema:
    attributes = tuple(Attribute(f"c{index}", kind) for index, kind in enumerate(types))
    return Schema(attributes, target="c0", contains_header=header)


ADULT_LIKE = (
    "age, workclass, hours, rich\n"
    + "".join(
        f"{20 + i % 50}, {('Private', 'State-gov', '?')[i % 3]}, {i % 60}.5, {('yes', 'no')[i % 2]}\n"
        for i in range(40)
    )
).encode()
ADULT_SCHEMA = Schema(
    (
        Attribute("age", AttributeType.NUMERIC),
        Attribute("workclass", AttributeType.CATEGORICAL),
        Attribute("hours", AttributeType.NUMERIC),
        Attribute("rich", AttributeType.BINARY),
    ),
    target="rich",
    contains_header=True,
)


def test_plain_data_goes_through_arrow_and_reads_the_same(
    monkeypatch: pytest.MonkeyPatch, small_pieces: None, arrow_pieces: list[int]
) -> None:
    fast = read(ADULT_LIKE, ADULT_SCHEMA, fast=True, monkeypatch=monkeypatch)
    assert arrow_pieces and sum(arrow_pieces) == 40, "every row went through Arrow"
    assert fast == read(ADULT_LIKE, ADULT_SCHEMA, fast=False, monkeypatch=monkeypatch)
    columns, _, invalid, rows, _ = fast
    assert rows == 40 and columns["workclass"][:3] == ["Private", "State-gov", None]
    assert columns["rich"][:2] == ["1.0", "0.0"] and not any(record[0] for record in invalid.values())


@pytest.mark.parametrize(
    ("tail", "what"),
    [
        ('30, "Self, emp", 1, yes\n', "a quoted comma"),
        ('30, "Self\nemp", 1, yes\n', "a quoted line break"),
        ("\n\n30, Private, 1, yes\n", "blank lines"),
        ("30, Private, 1, yes\r\n31, Private, 2, no\r\n", "CRLF line ends"),
        ("30, Private, 1_000, yes\n", "a number only Python reads"),
        ("30, Private, many, maybe\n", "invalid values"),
        ("30, Private, inf, yes\n", "a number that is not finite"),
        ("30, Private, 1\n", "a ragged row"),
        ("30, Private, 1, yes, extra\n", "a row too wide"),
        ("30, Priv\xe9, 1, yes\n", "bad UTF-8"),
        ("30, Pri\0vate, 1, yes\n", "a NUL byte"),
        ("   \n", "a line of spaces"),
        ("30, Private, 1, yes", "no line end at the end"),
    ],
)
def test_a_piece_arrow_cannot_read_the_same_way_goes_to_the_careful_reader(
    tail: str, what: str, monkeypatch: pytest.MonkeyPatch, small_pieces: None, arrow_pieces: list[int]
) -> None:
    data = ADULT_LIKE + tail.encode("latin-1" if "\xe9" in tail else "utf-8")
    fast = read(data, ADULT_SCHEMA, fast=True, monkeypatch=monkeypatch)
    assert arrow_pieces, f"the plain rows before {what} went through Arrow"
    assert fast == read(data, ADULT_SCHEMA, fast=False, monkeypatch=monkeypatch), what


def test_errors_and_invalid_values_name_the_same_rows_and_lines(
    monkeypatch: pytest.MonkeyPatch, small_pieces: None
) -> None:
    lines = ADULT_LIKE.decode().splitlines(keepends=True)
    lines[30] = "30, Private, lots, yes\n"  # invalid NUMERIC on line 31, data row 30
    data = "".join(lines).encode()
    _, _, invalid, _, _ = read(data, ADULT_SCHEMA, fast=True, monkeypatch=monkeypatch)
    assert invalid["hours"] == (1, [("row 30 (line 31 of data.csv)", "lots")])
    lines[35] = "30, Private\n"
    error = read("".join(lines).encode(), ADULT_SCHEMA, fast=True, monkeypatch=monkeypatch)
    assert error == ("error", "data row 35 (line 36 of data.csv) has 2 columns; expected 4")


def test_the_header_is_checked_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"\xef\xbb\xbfage,workclass,hours,rich\n1,a,2,yes\n"
    assert read(data, ADULT_SCHEMA, fast=True, monkeypatch=monkeypatch)[3] == 1  # a BOM is not part of the name
    wrong = b"age,class,hours,rich\n1,a,2,yes\n"
    fast = read(wrong, ADULT_SCHEMA, fast=True, monkeypatch=monkeypatch)
    assert fast[0] == "error" and "header" in fast[1]
    assert fast == read(wrong, ADULT_SCHEMA, fast=False, monkeypatch=monkeypatch)


def test_every_object_of_a_prefix_is_read_the_same_with_its_own_lines(
    monkeypatch: pytest.MonkeyPatch, small_pieces: None, arrow_pieces: list[int]
) -> None:
    second = b"age,workclass,hours,rich\n" + b"".join(b"%d, Private, 7.5, no\n" % n for n in range(30))
    second = second.replace(b"17, Private, 7.5", b"17, Private, lots")  # an invalid value on line 19 of b.csv

    def read_both(fast: bool, other: bytes) -> Any:
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(datasources, "parse_piece", lambda piece, columns: None)
            sources = [Chunked(ADULT_LIKE, name="a.csv"), Chunked(other, name="b.csv")]
            try:
                loaded = load_table(sources, ADULT_SCHEMA, ReadOptions(max_invalid_fraction=1.0))
            except InvalidInput as error:
                return str(error)
        return loaded.rows_read, {name: (r.count, r.examples) for name, r in loaded.invalid.items() if r.count}

    fast = read_both(True, second)
    assert fast == (70, {"hours": (1, [("row 58 (line 19 of b.csv)", "lots")])})
    assert arrow_pieces and fast == read_both(False, second)
    renamed = second.replace(b"hours", b"minutes", 1)
    assert "header" in read_both(True, renamed) and read_both(True, renamed) == read_both(False, renamed)


CELL = st.text(alphabet=" ab1.e-?yN\t", max_size=5) | st.sampled_from(["1", "-0.5", " 1 "])
# One thing Arrow must not read its way, put anywhere in the data (or nothing).
SPECIAL = st.none() | st.tuples(
    st.integers(0, 300), st.sampled_from(['"', "\n", "\n\n", "\r", ",", "\0", ' "a,b"', "_"])
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.integers(2, 4).flatmap(
        lambda width: st.tuples(
            st.lists(st.sampled_from(TYPES), min_size=width, max_size=width).map(tuple),
            st.lists(st.lists(CELL, min_size=width, max_size=width), min_size=1, max_size=12),
        )
    ),
    header=st.booleans(),
    separator=st.sampled_from([",", ", "]),
    line_end=st.sampled_from(["\n", "\r\n"]),
    step=st.integers(1, 40),
    special=SPECIAL,
    markers=st.sampled_from([None, ("", "?", "1", "-0.5", "b")]),
)
def test_any_data_reads_the_same_with_and_without_arrow(
    shape: tuple[tuple[AttributeType, ...], list[list[str]]],
    header: bool,
    separator: str,
    line_end: str,
    step: int,
    special: tuple[int, str] | None,
    markers: tuple[str, ...] | None,
    monkeypatch: pytest.MonkeyPatch,
    arrow_pieces: list[int],
) -> None:
    monkeypatch.setattr(datasources, "CHUNK_BYTES", 16)
    before = len(arrow_pieces)
    types, cells = shape
    schema = schema_of(types, header=header)
    lines = [separator.join(schema.names)] if header else []
    lines += [separator.join(row) for row in cells]
    text = line_end.join(lines) + line_end
    if special is not None:
        at = special[0] % (len(text) + 1)
        text = text[:at] + special[1] + text[at:]
    data = text.encode()
    fast = read(data, schema, fast=True, monkeypatch=monkeypatch, step=step, markers=markers)
    event(f"Arrow read {'some' if len(arrow_pieces) > before else 'none'} of the data")  # --hypothesis-show-statistics
    assert fast == read(data, schema, fast=False, monkeypatch=monkeypatch, step=step, markers=markers)


# ---- writing ------------------------------------------------------------------------------------------------


def test_numbers_are_written_with_six_significant_digits() -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate(
        [
            rng.random(2000),
            rng.random(500) ** 8,
            rng.normal(scale=1e6, size=500),
            -rng.random(500) * 1e-3,
            [0.0, -0.0, 1.0, 0.5, 1e-300, 1e300, 123456.5, 999999.5, 0.1 + 0.2, np.nan, np.inf, -np.inf],
        ]
    )
    written = arrow_csv.number_texts(values).to_pylist()
    expected = [f"{value:.6g}" for value in values.tolist()]
    # Equal as numbers to what "%.6g" writes (the spelling of small ones differs: 0.0000687876 for 6.87876e-05).
    mismatched = [
        (text, want)
        for text, want in zip(written, expected, strict=True)
        if not (float(text) == float(want) or (np.isnan(float(text)) and np.isnan(float(want))))
    ]
    assert mismatched == []
    assert written[-12:-3] == ["0", "-0", "1", "0.5", "1e-300", "1e+300", "123456", "1000000", "0.3"]


def test_fields_are_quoted_as_the_csv_module_quotes_them() -> None:
    import csv
    import io

    tags = ["plain", None, "a,b", 'say "hi"', "two\nlines", "cr\r", ""]
    columns = [arrow_csv.text_values(tags), arrow_csv.number_texts(np.arange(len(tags), dtype=np.float64))]
    text = arrow_csv.csv_lines(columns).decode()
    assert list(csv.reader(io.StringIO(text))) == [["" if tag is None else tag, str(i)] for i, tag in enumerate(tags)]
    assert arrow_csv.csv_lines([arrow_csv.text_values([])]) == b""
