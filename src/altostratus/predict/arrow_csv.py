"""The fast CSV path: plain pieces of CSV parsed by Apache Arrow into string columns.

Values are then converted by type with Arrow's compute functions (`arrow_numbers` and friends), with
the same results as the conversion of the careful reader's values in `table`.

A piece is whole lines of one source. Arrow parses it (in C++, about 3 times the csv module's speed
here) only when that gives exactly what the careful reader (the csv module, `skipinitialspace`)
would: no quote character anywhere (so no quoting, no quoted line break), no blank line, no carriage
return outside a CRLF line end, no NUL byte, valid UTF-8 and every row of the expected width. Then
every line is one row, so rows keep their line numbers for messages. Any other piece returns None and
the careful reader takes over from it, which also finds and names what is wrong. Values keep their
surrounding spaces; the conversion by type strips them, as it does for the careful reader's values.

pyarrow is imported on first use: the server and the CLI start without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from altostratus.predict.values import BINARY_VALUES

ArrowArray = Any  # a pyarrow.StringArray (pyarrow ships no type information)


def parse_piece(piece: bytes, columns: int) -> list[ArrowArray] | None:
    """The piece's rows as one Arrow string array per column, or None when the careful reader must read it."""
    if columns < 2 or not _plain(piece):
        # One column: a line of spaces is a blank line to the careful reader, but a row to Arrow.
        return None
    pa, csv, _ = _arrow()
    names = _names(columns)
    try:
        table = csv.read_csv(
            pa.py_buffer(piece),
            read_options=csv.ReadOptions(column_names=names, use_threads=False),
            parse_options=csv.ParseOptions(
                quote_char=False, double_quote=False, escape_char=False, ignore_empty_lines=True
            ),
            convert_options=csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:  # a ragged row, bad UTF-8: the careful reader names it
        return None
    if table.num_rows != piece.count(b"\n") + (not piece.endswith(b"\n")):
        return None  # Arrow skipped blank lines: rows and lines no longer match one to one
    return [column.combine_chunks() for column in table.columns]


def _plain(piece: bytes) -> bool:
    # Single-byte searches only (memchr): blank lines are found by counting rows against line ends.
    if b'"' in piece or b"\0" in piece:
        return False
    return b"\r" not in piece or piece.count(b"\r") == piece.count(b"\r\n")


@cache
def _names(columns: int) -> list[str]:
    return [f"c{index}" for index in range(columns)]


@cache
def _arrow() -> tuple[Any, Any, Any]:
    """pyarrow, its csv module and its compute module, imported on first use."""
    import pyarrow
    import pyarrow.compute
    import pyarrow.csv

    return pyarrow, pyarrow.csv, pyarrow.compute


def arrow_mask(keep: Sequence[bool] | npt.NDArray[np.bool_]) -> ArrowArray:
    """A boolean Arrow array for `Array.filter`."""
    pa, _, _ = _arrow()
    return pa.array(np.asarray(keep, dtype=bool))


# ---- conversion by type, in C: the same results as `table`'s conversion of the same values -------------------


def is_arrow(values: object) -> bool:
    """Whether a column of values is an Arrow array (from the fast path) rather than a sequence of strings."""
    return not isinstance(values, tuple | list)


def arrow_numbers(values: ArrowArray, missing: frozenset[str]) -> npt.NDArray[np.float64] | None:
    """NUMERIC values as floats, NaN where missing; None when a value is not a finite number to Arrow.

    Arrow reads a subset of what Python's float() reads ("1_000" and " 7" it does not): on None the
    caller converts the values one by one, which tells invalid values from unusual spellings.
    """
    pa, _, pc = _arrow()
    text = pc.utf8_trim_whitespace(values)
    absent = pc.is_in(text, value_set=_value_set(missing))
    if pc.any(absent).as_py():
        text = pc.if_else(absent, pa.scalar(None, pa.string()), text)
    try:
        parsed = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        return None
    numbers: npt.NDArray[np.float64] = parsed.fill_null(np.nan).to_numpy(zero_copy_only=False, writable=True)
    if not (np.isfinite(numbers) | absent.to_numpy(zero_copy_only=False)).all():
        return None
    return numbers


def arrow_binaries(values: ArrowArray, missing: frozenset[str]) -> tuple[npt.NDArray[np.float64], list[int]]:
    """BINARY values as 1.0/0.0, NaN where missing or invalid; and the indices of the invalid ones."""
    _, _, pc = _arrow()
    text = pc.utf8_trim_whitespace(values)
    absent = pc.is_in(text, value_set=_value_set(missing)).to_numpy(zero_copy_only=False)
    codes = pc.index_in(pc.utf8_lower(text), value_set=_value_set(frozenset(BINARY_VALUES)))
    codes = codes.fill_null(-1).to_numpy(zero_copy_only=False)
    numbers = _binary_numbers()[codes]  # -1, not a binary value, picks the NaN at the end
    numbers[absent] = np.nan
    return numbers, np.flatnonzero((codes < 0) & ~absent).tolist()


def arrow_strings(values: ArrowArray, missing: frozenset[str], known: dict[str, str | None]) -> npt.NDArray[np.object_]:
    """CATEGORICAL or TEXT values stripped, None where missing; equal values share one string object (`known`)."""
    _, _, pc = _arrow()
    encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(values))
    distinct = encoded.dictionary.to_pylist()
    lookup = np.empty(len(distinct), dtype=object)
    lookup[:] = [
        known[value] if value in known else known.setdefault(value, None if value in missing else value)
        for value in distinct
    ]
    return lookup[encoded.indices.to_numpy(zero_copy_only=False)]  # type: ignore[no-any-return]


def arrow_value(values: ArrowArray, index: int) -> str:
    """One value of an Arrow string array, as the text it was."""
    return str(values[index].as_py())


@cache
def _value_set(values: frozenset[str]) -> ArrowArray:
    pa, _, _ = _arrow()
    return pa.array(_ordered(values), pa.string())


@cache
def _ordered(values: frozenset[str]) -> list[str]:
    return sorted(values)


@cache
def _binary_numbers() -> npt.NDArray[np.float64]:
    """The number of each binary value in `_value_set` order, then NaN (for "not a binary value")."""
    return np.array([*(BINARY_VALUES[key] for key in _ordered(frozenset(BINARY_VALUES))), np.nan])


# ---- writing CSV lines, in C --------------------------------------------------------------------------------


def number_texts(values: npt.NDArray[np.float64]) -> ArrowArray:
    """Numbers rounded to 6 significant digits, as the shortest text that reads back as that number."""
    pa, _, pc = _arrow()
    return pc.cast(pa.array(_significant(values, 6)), pa.string())


def text_values(values: Sequence[str | None]) -> ArrowArray:
    """Strings as CSV fields: None as empty, quoted (with doubled quotes) where they hold `,`, `"` or a line break."""
    pa, _, pc = _arrow()
    array = pa.array(values, pa.string()).fill_null("")
    needs = pc.match_substring_regex(array, '[,"\r\n]')
    if not pc.any(needs).as_py():
        return array
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(array, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, array)


def csv_lines(columns: Sequence[ArrowArray]) -> bytes:
    """Rows of the columns (CSV fields as Arrow strings), comma-separated, each ending in a line break."""
    pa, _, pc = _arrow()
    lines = columns[0] if len(columns) == 1 else pc.binary_join_element_wise(*columns, ",")
    if len(lines) == 0:
        return b""
    whole = pc.binary_join(pa.ListArray.from_arrays(pa.array([0, len(lines)], pa.int32()), lines), "\n")
    return str(whole[0].as_py()).encode() + b"\n"


def _significant(values: npt.NDArray[np.float64], digits: int) -> npt.NDArray[np.float64]:
    """Each value rounded to `digits` significant digits (as "%.6g" rounds it, but for every value at once)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(values)))
    shift = digits - 1 - np.where(np.isfinite(exponent), exponent, 0).astype(np.int64)
    # Multiply or divide by an exact power of ten, so that the result is the double nearest the decimal.
    scale = 10.0 ** np.abs(shift)
    with np.errstate(over="ignore", invalid="ignore"):
        rounded = np.where(shift >= 0, np.rint(values * scale) / scale, np.rint(values / scale) * scale)
    return np.where(np.isfinite(rounded), rounded, values)
