"""Dates and times as people say them, read against the session's clock: AMAZON.Date and AMAZON.Time."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import dateparser
from dateparser.search import search_dates

from altostratus.bots.interpretations import Moment

ORDINAL_DAY = re.compile(r"^(?:on\s+)?(?:the\s+(\d{1,2})(?:st|nd|rd|th)?|(\d{1,2})(?:st|nd|rd|th))$")
TIME_WORDS = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}
FILLER = re.compile(r"\b(?:on|at|for|from|starting|please|i'd like|i want|i would like|to check in|it's|it is)\b")


def _settings(moment: Moment) -> dict[str, Any]:
    base = moment.now.replace(tzinfo=None)
    return {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False}


def read_date(text: str, moment: Moment) -> str | None:
    """The date ("YYYY-MM-DD") for "tomorrow", "next friday", "the 12th", "this weekend" (its Saturday), or None."""
    said = " ".join(text.lower().split()).strip(" .?!,")
    today = moment.now.date()
    if said in ("this weekend", "the weekend", "weekend"):
        return (today + dt.timedelta(days=(5 - today.weekday()) % 7)).isoformat()
    if said == "next week":
        return (today + dt.timedelta(days=7 - today.weekday())).isoformat()
    ordinal = ORDINAL_DAY.match(said)
    if ordinal:
        return _day_of_month(int(ordinal[1] or ordinal[2]), today)
    found = dateparser.parse(said, settings=_settings(moment), languages=["en"])
    return None if found is None else found.date().isoformat()


def find_date(text: str, moment: Moment) -> tuple[str, str] | None:
    """The first date said anywhere in `text`: (the words, "YYYY-MM-DD")."""
    whole = read_date(text, moment)
    if whole is not None:
        return text, whole
    found = search_dates(text, settings=_settings(moment), languages=["en"]) or []
    for words, _ in found:
        value = read_date(words, moment)
        if value is not None:
            return words, value
    return None


def read_time(text: str, moment: Moment) -> str | None:
    """The time ("HH:MM") for "3 pm", "noon", "half past six", "10:30"; None when no time."""
    said = " ".join(text.lower().split()).strip(" .?!,")
    said = re.sub(r"^(?:at|around|about)\s+", "", said)
    if said in TIME_WORDS:
        return TIME_WORDS[said]
    if not re.search(r"\d|noon|midnight|o'clock|half|quarter|morning|evening|afternoon|night|am|pm", said):
        return None
    found = dateparser.parse(said, settings=_settings(moment), languages=["en"])
    if found is None:
        return None
    return f"{found.hour:02d}:{found.minute:02d}"


def _day_of_month(day: int, today: dt.date) -> str | None:
    """The next date with this day of the month (this month if it is still to come)."""
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate.isoformat()
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
    return None
