"""Characters no voice can speak: control characters (C0 but tab and newlines, DEL, C1) and lone surrogates."""

from __future__ import annotations


def unspeakable(char: str) -> bool:
    """Whether the character is refused in text to speak."""
    code = ord(char)
    return (code < 32 and char not in "\t\n\r") or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF
