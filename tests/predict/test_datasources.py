"""Reading CSV: blocks, headers, blank lines, ragged rows, the size cap, bad encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from altostratus.predict import FileSource, InvalidInput, LimitExceeded, ReadOptions, TextSource
from altostratus.predict.datasources import CsvReader


def rows(sources: list[TextSource], *, header: bool, **options: object) -> list[list[str]]:
    reader = CsvReader(sources, ReadOptions(**options), header=header, block_rows=2)  # type: ignore[arg-type]
    return [row for block in reader.blocks() for row in block.rows]


def test_rows_come_in_blocks_with_headers_skipped_in_every_file() -> None:
    first = TextSource("a.csv", "x,y\n1,2\n3,4\n\n5,6\n")
    second = TextSource("b.csv", "x,y\r\n7,8\r\n")
    assert rows([first, second], header=True) == [["1", "2"], ["3", "4"], ["5", "6"], ["7", "8"]]


def test_quoted_fields_may_hold_commas_and_line_breaks() -> None:
    assert rows([TextSource("a.csv", 'a,"b, c\nd"\n')], header=False) == [["a", "b, c\nd"]]


def test_chunks_of_bytes_split_anywhere_decode_correctly() -> None:
    class Chunked:
        name, size = "chunked.csv", None

        def open(self) -> list[bytes]:
            data = "é,1\nü,2\n".encode()
            return [data[i : i + 1] for i in range(len(data))]

    reader = CsvReader([Chunked()], ReadOptions(), header=False)
    assert [row for block in reader.blocks() for row in block.rows] == [["é", "1"], ["ü", "2"]]


def test_ragged_row_names_the_row_line_and_counts() -> None:
    with pytest.raises(InvalidInput, match=r"data row 3 \(line 4 of a.csv\) has 3 columns; expected 2"):
        rows([TextSource("a.csv", "x,y\n1,2\n3,4\n5,6,7\n")], header=True)


def test_a_later_file_with_another_header_is_named() -> None:
    with pytest.raises(InvalidInput, match=r"header on line 1 of b.csv"):
        rows([TextSource("a.csv", "x,y\n1,2\n"), TextSource("b.csv", "x,z\n1,2\n")], header=True)


def test_empty_data_is_refused() -> None:
    with pytest.raises(InvalidInput, match="holds no data rows"):
        rows([TextSource("empty.csv", "")], header=False)
    with pytest.raises(InvalidInput, match="holds no data rows"):
        rows([TextSource("header-only.csv", "x,y\n")], header=True)
    with pytest.raises(InvalidInput, match="holds no objects"):
        CsvReader([], ReadOptions(), header=False)


def test_declared_size_over_the_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("x\n" + "1\n" * 1000)
    with pytest.raises(LimitExceeded, match=r"2002 bytes; this server reads at most 100 bytes"):
        rows([FileSource(path)], header=True, max_bytes=100)  # type: ignore[list-item]


def test_undeclared_size_is_counted_while_streaming() -> None:
    class Endless:
        name, size = "endless.csv", None

        def open(self) -> object:
            while True:
                yield b"1,2\n" * 1024

    reader = CsvReader([Endless()], ReadOptions(max_bytes=1_000_000), header=False)  # type: ignore[list-item]
    with pytest.raises(LimitExceeded, match="over 1003520 bytes"):
        for _ in reader.blocks():
            pass


def test_not_utf8_is_refused() -> None:
    class Latin1:
        name, size = "latin.csv", None

        def open(self) -> list[bytes]:
            return ["é,1\n".encode("latin-1")]

    with pytest.raises(InvalidInput, match="not UTF-8"):
        list(CsvReader([Latin1()], ReadOptions(), header=False).blocks())


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("x,y\n1,a\n2,b\n3,c\n", [2, 3, 4]),  # every row one line: the block is taken whole
        ('x,y\n1,a\n\n2,"b\nc"\n3,d\n', [2, 4, 6]),  # a blank line and a quoted line break move the rest down
    ],
)
def test_rows_know_the_line_they_start_on(text: str, lines: list[int]) -> None:
    reader = CsvReader([TextSource("a.csv", text)], ReadOptions(), header=True, block_rows=10)
    block = next(reader.blocks())
    assert [block.where(i) for i in range(3)] == [f"row {i + 1} (line {n} of a.csv)" for i, n in enumerate(lines)]
