"""Documents read by location: one UTF-8 object of at most 131,071 bytes, or an error naming the parameter."""

from __future__ import annotations

from pathlib import Path

import pytest

from altostratus.predict import InvalidInput, LocalFiles
from altostratus.predict.documents import MAX_DOCUMENT_BYTES, read_document


def test_one_object_is_read_as_its_text(tmp_path: Path) -> None:
    (tmp_path / "recipe.json").write_text('{"outputs": ["ALL_INPUTS"]}')
    text = read_document(LocalFiles(tmp_path), "recipe.json", parameter="RecipeUri", document="Recipe")
    assert text == '{"outputs": ["ALL_INPUTS"]}'


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.json": b"{}", "b.json": b"{}"}, "RecipeUri='docs' holds 2 objects; expected one Recipe document"),
        ({"a.json": b" " * (MAX_DOCUMENT_BYTES + 1)}, f"RecipeUri='docs' is over {MAX_DOCUMENT_BYTES} bytes"),
        ({"a.json": b"\xff{}"}, "RecipeUri='docs' is not UTF-8 text; expected a Recipe JSON document"),
    ],
)
def test_anything_but_one_small_text_is_refused_naming_the_parameter(
    tmp_path: Path, files: dict[str, bytes], expected: str
) -> None:
    (tmp_path / "docs").mkdir()
    for name, data in files.items():
        (tmp_path / "docs" / name).write_bytes(data)
    with pytest.raises(InvalidInput) as caught:
        read_document(LocalFiles(tmp_path), "docs", parameter="RecipeUri", document="Recipe")
    assert expected in caught.value.message
