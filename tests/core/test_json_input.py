"""JSON from outside: a document nested too deeply is an unreadable document like any other, not a RecursionError."""

from __future__ import annotations

import json

import pytest

from altostratus.core import json_input

DEEP = ["[" * 100_000, '{"a":' * 100_000, "[" * 5_000 + "]" * 5_000]


@pytest.mark.parametrize("text", DEEP)
def test_a_deep_document_is_a_value_error(text: str) -> None:
    with pytest.raises(json_input.JsonTooDeep, match="nests arrays or objects too deeply") as caught:
        json_input.loads(text)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(ValueError, match="too deeply"):
        json_input.loads(text.encode())


def test_ordinary_documents_read_as_json_loads_reads_them() -> None:
    assert json_input.loads(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}
    nested = "[" * 100 + "]" * 100
    assert json_input.loads(nested) == json.loads(nested)
    with pytest.raises(ValueError, match="Expecting property name"):
        json_input.loads("{not json")
