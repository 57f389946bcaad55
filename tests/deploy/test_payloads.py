"""Records in an InvokeEndpoint body: a JSON body nested too deeply is unreadable, not a server error."""

from __future__ import annotations

import pytest

from altostratus.deploy.payloads import UnreadableBody, read_records


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"instances": ' * 50_000])
def test_a_deeply_nested_json_body_is_unreadable(body: bytes) -> None:
    with pytest.raises(UnreadableBody, match="not valid JSON: the JSON document nests arrays or objects too deeply"):
        read_records(body, "application/json", ["a", "b"])
