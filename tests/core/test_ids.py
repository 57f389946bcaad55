"""Identifiers."""

from __future__ import annotations

import re

from altostratus.core.ids import token


def test_tokens_are_url_safe_and_never_read_as_command_line_options() -> None:
    # Upload ids are typed after `--upload-id` on aws CLI command lines; a leading '-' breaks that.
    tokens = [token(32) for _ in range(2000)]
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{43}", t) for t in tokens)
    assert len(set(tokens)) == len(tokens)
