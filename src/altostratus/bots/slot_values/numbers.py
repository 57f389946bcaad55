"""Numbers said in words or digits ("twenty one", "21", "a dozen") and durations as ISO 8601 ("PT2H")."""

from __future__ import annotations

import re

UNITS = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "a": 1,
    "an": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "dozen": 12,
    "couple": 2,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
DURATION_UNITS = {
    "second": ("T", "S"),
    "minute": ("T", "M"),
    "hour": ("T", "H"),
    "day": ("", "D"),
    "week": ("", "W"),
    "month": ("", "M"),
    "year": ("", "Y"),
}


def read_number(text: str) -> float | None:
    """The number `text` says, or None when it says something else too."""
    words = [w for w in re.split(r"[\s-]+", text.lower().replace(",", "").strip()) if w and w != "and"]
    if not words:
        return None
    if len(words) == 1 and NUMBER.fullmatch(words[0]):
        return float(words[0])
    total, current = 0.0, 0.0
    for word in words:
        if word in UNITS:
            current += UNITS[word]
        elif word in TENS:
            current += TENS[word]
        elif word in SCALES:
            current = max(current, 1) * SCALES[word]
            if SCALES[word] >= 1000:
                total, current = total + current, 0
        elif NUMBER.fullmatch(word):
            current += float(word)
        else:
            return None
    return float(total + current)


def number_text(value: float) -> str:
    """A number as Lex writes it: no ".0" on whole numbers."""
    return str(int(value)) if value == int(value) else str(value)


def read_duration(text: str) -> str | None:
    """An ISO 8601 duration for "two hours", "3 days and 4 hours", "half an hour"; None when it is not one."""
    cleaned = text.lower().replace("half an hour", "30 minutes").replace("an hour and a half", "90 minutes")
    parts = re.findall(r"([\w.-]+(?:\s+[\w-]+)?)\s+(second|minute|hour|day|week|month|year)s?\b", cleaned)
    if not parts:
        return None
    dated: list[str] = []
    timed: list[str] = []
    for amount, unit in parts:
        number = read_number(amount) or read_number(amount.split()[-1])
        if number is None:
            return None
        section, letter = DURATION_UNITS[unit]
        (timed if section else dated).append(f"{number_text(number)}{letter}")
    return "P" + "".join(dated) + ("T" + "".join(timed) if timed else "")
