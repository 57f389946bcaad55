"""Reading a yes or a no (AMAZON.Confirmation): what the user answers to "Shall I book it?"."""

from __future__ import annotations

import re

YES = frozenset(
    [
        "yes",
        "yeah",
        "yep",
        "yup",
        "sure",
        "ok",
        "okay",
        "correct",
        "right",
        "affirmative",
        "absolutely",
        "certainly",
        "definitely",
        "ahead",
    ]
)
NO = frozenset(["no", "nope", "nah", "not", "never", "negative", "cancel", "stop", "don't", "dont"])
WORDS = re.compile(r"[a-z']+")


def read_confirmation(text: str) -> str | None:
    """Yes, No, or None when the answer says neither (or both)."""
    words = set(WORDS.findall(text.lower()))
    said_yes, said_no = bool(words & YES), bool(words & NO)
    if said_yes == said_no:
        return None
    return "Yes" if said_yes else "No"
