"""Reading CSV data: where the bytes come from (`CsvSource`) and how they become rows, in blocks.

The reader streams: it holds one block of rows at a time, counts the bytes it has read and stops with
LimitExceeded past `ReadOptions.max_bytes`, before the data can fill memory. A datasource of several
objects (every object under a prefix) is read one object after another; when the data has a header,
each object starts with the same header line.

Two parsers give the same values. The careful one is the standard csv module (`skipinitialspace`,
strict), which reads any CSV and names the line of anything wrong. The fast one (`columnar=True`, for
reading typed columns) hands plain pieces of whole lines to Apache Arrow (`arrow_csv`): about three
times the csv module's speed on Adult, with values left in Arrow arrays for conversion in C. The first
piece that is not plain (quotes, blank lines, a ragged row, ...) and everything after it in that
source go to the careful reader, so errors read the same either way.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, compress, islice
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from altostratus.predict.arrow_csv import ArrowArray, arrow_mask, parse_piece
from altostratus.predict.errors import InvalidInput, LimitExceeded
from altostratus.predict.values import ReadOptions

BLOCK_ROWS = 8192
CHUNK_BYTES = 1024 * 1024


class CsvSource(Protocol):
    """One CSV object: its name (for messages), its size when known, and its bytes or text as chunks."""

    @property
    def name(self) -> str:
        """What to call the object in messages (a key or a path)."""
        ...

    @property
    def size(self) -> int | None:
        """The object's size in bytes, or None when unknown (then it is counted while read)."""
        ...

    def open(self) -> Iterable[bytes | str]:
        """The object's content, as chunks of UTF-8 bytes or of text."""
        ...


@dataclasses.dataclass(frozen=True)
class FileSource:
    """A CSV file on the local disk."""

    path: Path

    @property
    def name(self) -> str:
        """The file's path."""
        return str(self.path)

    @property
    def size(self) -> int | None:
        """The file's size in bytes."""
        return self.path.stat().st_size

    def open(self) -> Iterator[bytes]:
        """The file's bytes, 1 MiB at a time."""
        with self.path.open("rb") as file:
            while chunk := file.read(CHUNK_BYTES):
                yield chunk


@dataclasses.dataclass(frozen=True)
class TextSource:
    """CSV text held in memory (tests, small uploads)."""

    name: str
    text: str

    @property
    def size(self) -> int | None:
        """The text's size in UTF-8 bytes."""
        return len(self.text.encode())

    def open(self) -> Iterator[str]:
        """The text, in one chunk."""
        yield self.text


class Block:
    """Consecutive data rows of one source, with the line each started on, for messages.

    The careful reader gives rows of strings; the fast one (`columnar=True`) gives one Arrow string
    array per column. `columns()` gives either as columns, `rows` as rows.
    """

    def __init__(
        self,
        source: str,
        lines: Sequence[int],
        row_numbers: Sequence[int],
        *,
        rows: list[list[str]] | None = None,
        arrays: list[ArrowArray] | None = None,
    ) -> None:
        assert (rows is None) != (arrays is None), "a block holds rows or arrays"
        self.source = source
        self.lines = lines
        self.row_numbers = row_numbers  # counted from 0 over the whole datasource, headers not
        self._rows = rows
        self._arrays = arrays

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def first_row(self) -> int:
        """The number (from 0) of the block's first row in the whole datasource."""
        return self.row_numbers[0] if len(self.row_numbers) else 0

    @property
    def rows(self) -> list[list[str]]:
        """The rows, as lists of strings."""
        if self._rows is None:
            self._rows = [list(row) for row in zip(*(array.to_pylist() for array in self._arrays or ()), strict=True)]
        return self._rows

    def columns(self, width: int) -> Sequence[Sequence[str]] | list[ArrowArray]:
        """The values column by column: tuples of strings, or Arrow string arrays (`width` columns when empty)."""
        if self._arrays is not None:
            return self._arrays
        return list(zip(*self._rows, strict=True)) if self._rows else [() for _ in range(width)]

    def select(self, keep: Sequence[bool] | npt.NDArray[np.bool_]) -> Block:
        """The block's rows where `keep` is true."""
        lines = list(compress(self.lines, keep))
        numbers = list(compress(self.row_numbers, keep))
        if self._arrays is not None:
            mask = arrow_mask(keep)
            return Block(self.source, lines, numbers, arrays=[array.filter(mask) for array in self._arrays])
        return Block(self.source, lines, numbers, rows=list(compress(self.rows, keep)))

    def where(self, index: int) -> str:
        """'row R (line L of NAME)' for the block's row at `index` (R counts data rows from 1, headers not)."""
        return f"row {self.row_numbers[index] + 1} (line {self.lines[index]} of {self.source})"


class CsvReader:
    """Streams the rows of one or more CSV sources in blocks, checking that every row has the same width.

    Values come as the csv module reads them, with leading spaces skipped, or as Arrow reads them, with
    their spaces; either way the conversion by type strips them (each distinct value once).
    """

    def __init__(
        self,
        sources: Sequence[CsvSource],
        options: ReadOptions,
        *,
        header: bool,
        columns: int | None = None,
        block_rows: int = BLOCK_ROWS,
        columnar: bool = False,
    ) -> None:
        if not sources:
            raise InvalidInput("the data location holds no objects; expected at least one CSV object")
        self._sources = sources
        self._options = options
        self._has_header = header
        self._columns = columns
        self._block_rows = block_rows
        self._columnar = columnar
        self.header: list[str] | None = None
        self.bytes_read = 0
        self.rows_read = 0

    @property
    def columns(self) -> int | None:
        """How many columns each row has, once known."""
        return self._columns

    def declared_size(self) -> int | None:
        """The total size the sources declare, or None if some size is unknown."""
        sizes = [source.size for source in self._sources]
        return None if any(size is None for size in sizes) else sum(size for size in sizes if size is not None)

    def blocks(self) -> Iterator[Block]:
        """Every data row, in blocks of at most `block_rows` rows that never span two sources."""
        declared = self.declared_size()
        if declared is not None and declared > self._options.max_bytes:
            raise self._too_large(declared)
        for source in self._sources:
            yield from self._source_blocks(source)
        if self.rows_read == 0:
            raise InvalidInput(f"the data ({_names(self._sources)}) holds no data rows; expected at least one")

    def _source_blocks(self, source: CsvSource) -> Iterator[Block]:
        chunks = self._counted_chunks(source)
        if self._columnar and self._columns is not None:
            yield from self._fast_blocks(source, chunks)
        else:
            yield from self._careful_blocks(source, chunks, 0, header=self._has_header)

    def _fast_blocks(self, source: CsvSource, chunks: Iterator[bytes | str]) -> Iterator[Block]:
        """Pieces of whole lines through Arrow while they are plain; from the first that is not, the careful reader."""
        assert self._columns is not None
        pieces = _line_pieces(chunks)
        header = self._has_header
        line = 1  # the line the next piece starts on
        for piece in pieces:
            if line == 1:
                piece = piece.removeprefix(codecs.BOM_UTF8)
            if header:
                head, _, body = piece.partition(b"\n")
                names = _plain_header(head)
                if names is None:  # quoted, blank or not UTF-8: the careful reader reads (or rejects) it
                    yield from self._careful_blocks(source, chain([piece], pieces), line - 1, header=True)
                    return
                self._check_header(names, source, line)
                header, line, piece = False, line + 1, body
                if not piece:
                    continue
            arrays = parse_piece(piece, self._columns)
            if arrays is None:
                yield from self._careful_blocks(source, chain([piece], pieces), line - 1, header=False)
                return
            count = len(arrays[0])
            yield self._block(source, range(line, line + count), arrays=arrays)
            line += count

    def _careful_blocks(
        self, source: CsvSource, chunks: Iterable[bytes | str], lines_before: int, *, header: bool
    ) -> Iterator[Block]:
        """The csv module's rows, in blocks; line numbers count on from `lines_before`."""
        reader = csv.reader(self._lines(source, chunks), skipinitialspace=True, strict=True)
        try:
            if header:
                head = next(filter(lambda raw: not _blank(raw), reader), None)
                if head is None:
                    return
                self._check_header([value.strip() for value in head], source, lines_before + reader.line_num)
            while True:
                first_line = lines_before + reader.line_num + 1
                rows = list(islice(reader, self._block_rows))
                if not rows:
                    return
                last_line = lines_before + reader.line_num
                if last_line - first_line + 1 == len(rows) and self._all_full_width(rows):
                    # Every row is one whole line of the expected width: the common case, checked in C.
                    yield self._block(source, range(first_line, last_line + 1), rows=rows)
                else:
                    yield from self._checked_rows(rows, first_line, source)
        except csv.Error as error:
            raise InvalidInput(
                f"line {lines_before + reader.line_num} of {source.name} is not valid CSV: {error}"
            ) from None

    def _all_full_width(self, rows: list[list[str]]) -> bool:
        widths = set(map(len, rows))
        if self._columns is None and len(widths) == 1 and not _blank(rows[0]):
            self._columns = len(rows[0])
        if self._columns == 1:  # a line of spaces reads as [""]: a blank line, not a row
            return widths == {1} and not any(map(_blank, rows))
        return widths == {self._columns}

    def _checked_rows(self, rows: list[list[str]], first_line: int, source: CsvSource) -> Iterator[Block]:
        """Rows one by one: blank lines skipped, widths checked, and each row's line found (fields may span lines)."""
        kept: list[list[str]] = []
        lines: list[int] = []
        line = first_line
        for raw in rows:
            if not _blank(raw):
                if len(raw) != self._columns:
                    self._check_width(raw, source, line, f"data row {self.rows_read + len(kept) + 1}")
                kept.append(raw)
                lines.append(line)
            line += 1 + sum(value.count("\n") for value in raw)
        if kept:
            yield self._block(source, lines, rows=kept)

    def _block(
        self,
        source: CsvSource,
        lines: Sequence[int],
        *,
        rows: list[list[str]] | None = None,
        arrays: list[ArrowArray] | None = None,
    ) -> Block:
        numbers = range(self.rows_read, self.rows_read + len(lines))
        self.rows_read += len(lines)
        return Block(source.name, lines, numbers, rows=rows, arrays=arrays)

    def _counted_chunks(self, source: CsvSource) -> Iterator[bytes | str]:
        """The source's chunks, counting bytes and stopping past the limit."""
        for chunk in source.open():
            self.bytes_read += len(chunk)
            if self.bytes_read > self._options.max_bytes:
                raise self._too_large(self.bytes_read)
            yield chunk

    def _lines(self, source: CsvSource, chunks: Iterable[bytes | str]) -> Iterator[str]:
        """The chunks' text line by line (ends kept, so csv sees quoted line breaks)."""
        # Lines go out a chunk's worth at a time, so the csv module pulls them through C, not a Python frame each.
        return chain.from_iterable(self._line_lists(source, chunks))

    def _line_lists(self, source: CsvSource, chunks: Iterable[bytes | str]) -> Iterator[list[str]]:
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        pending = ""
        for chunk in chunks:
            try:
                text = pending + (decoder.decode(chunk) if isinstance(chunk, bytes) else chunk)
            except UnicodeDecodeError as error:
                raise InvalidInput(f"{source.name} is not UTF-8 text: {error}") from None
            *complete, pending = text.split("\n")
            yield [line + "\n" for line in complete]
        if pending:
            yield [pending]

    def _check_header(self, row: list[str], source: CsvSource, line: int) -> None:
        if self.header is None:
            self.header = row
            self._check_width(row, source, line, "the header")
        elif row != self.header:
            raise InvalidInput(
                f"the header on line {line} of {source.name} is {row}; expected the header of "
                f"{self._sources[0].name}: {self.header}"
            )

    def _check_width(self, row: list[str], source: CsvSource, line: int, what: str) -> None:
        if self._columns is None:
            self._columns = len(row)
        elif len(row) != self._columns:
            raise InvalidInput(
                f"{what} (line {line} of {source.name}) has {len(row)} columns; expected {self._columns}"
            )

    def _too_large(self, size: int) -> LimitExceeded:
        return LimitExceeded(
            f"the data ({_names(self._sources)}) is {'over ' if size == self.bytes_read else ''}{size} bytes; "
            f"this server reads at most {self._options.max_bytes} bytes per datasource (max_bytes)"
        )


def _blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _names(sources: Sequence[CsvSource]) -> str:
    shown = ", ".join(source.name for source in sources[:3])
    return shown + (f" and {len(sources) - 3} more" if len(sources) > 3 else "")


def _line_pieces(chunks: Iterable[bytes | str]) -> Iterator[bytes]:
    """The chunks' bytes again, cut after line ends into pieces of at least CHUNK_BYTES (the last one: the rest)."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        data = chunk.encode() if isinstance(chunk, str) else chunk
        parts.append(data)
        size += len(data)
        if size >= CHUNK_BYTES:
            joined = b"".join(parts)
            cut = joined.rfind(b"\n") + 1
            if cut:
                yield joined[:cut]
            parts = [joined[cut:]]
            size = len(parts[0])
    if size:
        yield b"".join(parts)


def _plain_header(line: bytes) -> list[str] | None:
    """A header line's names when it is plain (no quotes, UTF-8, not blank); None when the csv module must read it."""
    try:
        text = line.decode().removesuffix("\r")
    except UnicodeDecodeError:
        return None
    if not text.strip() or any(character in text for character in '"\r\0'):
        return None
    return [name.strip() for name in text.split(",")]
