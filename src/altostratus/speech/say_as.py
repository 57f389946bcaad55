"""SSML <say-as>: the spoken words for an element's content, read the way its interpret-as says, as Polly does.

Every reading comes from `readings`, and running text from `normalize`, so "1,234" reads the same in a <say-as>
as in plain text. An expletive is not words at all: it reads as `BEEP`, which the service turns into a 1 kHz
tone over the word's time.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from altostratus.speech import normalize, readings
from altostratus.speech.errors import InvalidSsml

# What an expletive reads as: a marker, not words, that the service replaces with a beep.
BEEP = "\x00BEEP\x00"
DATE_FORMATS = ("mdy", "dmy", "ymd", "md", "dm", "ym", "my", "d", "m", "y", "yyyymmdd")

# fmt: off
# Address words normalize leaves alone in running text, where they are ambiguous ("St.", "Dr.", "N", "IN").
_ADDRESS_WORDS = {
    "st": "Street", "dr": "Drive", "ave": "Avenue", "rd": "Road", "blvd": "Boulevard", "ln": "Lane",
    "ct": "Court", "pl": "Place", "pkwy": "Parkway", "hwy": "Highway", "sq": "Square", "ter": "Terrace",
    "cir": "Circle", "apt": "Apartment", "ste": "Suite", "fl": "Floor", "n": "North", "s": "South",
    "e": "East", "w": "West", "ne": "Northeast", "nw": "Northwest", "se": "Southeast", "sw": "Southwest",
}
_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "D C",
}
# fmt: on


def say_as(text: str, interpret_as: str, *, format: str | None = None, detail: str | None = None) -> str:
    """The words for `text` read as `interpret_as` (Polly's values), with the date `format` where one is needed.

    `detail` is accepted and changes nothing: Polly defines no detail values for these readings. Raises
    InvalidSsml for an interpret-as or format Polly does not know, or content it cannot be read as.
    """
    reading = _READINGS.get(interpret_as)
    if reading is None:
        raise InvalidSsml(f"say-as interpret-as={interpret_as!r}; expected one of {sorted(_READINGS)}")
    if interpret_as == "date" and format not in DATE_FORMATS:
        raise InvalidSsml(f"say-as interpret-as='date' format={format!r}; expected one of {list(DATE_FORMATS)}")
    spoken = reading(text.strip(), format or "")
    if spoken is None or not spoken.strip():
        raise InvalidSsml(f"say-as interpret-as={interpret_as!r} cannot read {text!r}; {_EXPECTED[interpret_as]}")
    return spoken


def _cardinal(text: str, _: str) -> str | None:
    return readings.number(text.replace(" ", ""))


def _ordinal(text: str, _: str) -> str | None:
    match = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(?:st|nd|rd|th)?", text, re.IGNORECASE)
    return readings.ordinal(int(match[1].replace(",", ""))) if match else None


def _digits(text: str, _: str) -> str | None:
    return readings.digits(text) if re.fullmatch(r"[\d\s\-.,]*\d[\d\s\-.,]*", text) else None


def _fraction(text: str, _: str) -> str | None:
    written = re.fullmatch(r"(?:(\d+)\s*\+\s*|(\d+)\s+)?(\d+)\s*/\s*(\d+)", text)
    if written is not None:
        whole = written[1] or written[2]
        return readings.fraction(int(written[3]), int(written[4]), int(whole) if whole else None)
    return normalize.spoken_words([text.replace(" ", "")])[0] if re.fullmatch(r"\d*\s*[½⅓⅔¼¾⅕-⅞]", text) else None


def _unit(text: str, _: str) -> str | None:
    match = re.fullmatch(r"(-?(?:\d+/\d+|[\d,]*\.?\d+))\s*([^\d\s].*)", text)
    if match is None:
        return None
    return readings.measure(*match.groups())


def _date(text: str, format: str) -> str | None:
    if format == "yyyymmdd":
        if not re.fullmatch(r"[\d?]{8}", text):
            return None
        parts = [text[:4], text[4:6], text[6:]]
        format = "ymd"
    else:
        parts = [part for part in re.split(r"[\s,/.\-]+", text) if part]
    if len(parts) != len(format):
        return None
    values: dict[str, int | None] = {"y": None, "m": None, "d": None}
    for letter, part in zip(format, parts, strict=True):
        if set(part) == {"?"}:
            continue
        value = readings.month_number(part) if letter == "m" and part.isalpha() else None
        if value is None and not part.isdigit():
            return None
        values[letter] = value if value is not None else int(part)
    month, day = values["m"], values["d"]
    if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
        return None
    if values == {"y": None, "m": None, "d": None}:
        return None
    return readings.date(values["y"], month, day)


def _time(text: str, _: str) -> str | None:
    duration = re.fullmatch(r"(?:(\d+)\s*h\s*)?(?:(\d+)\s*')?\s*(?:(\d+)\s*(?:\"|''))?", text)
    if duration is not None and any(duration.groups()):
        names = ("hour", "minute", "second")
        spoken = [
            f"{readings.cardinal(int(amount))} {name if int(amount) == 1 else name + 's'}"
            for amount, name in zip(duration.groups(), names, strict=True)
            if amount is not None
        ]
        return " ".join(spoken)
    clock = re.fullmatch(r"(\d{1,2}):(\d\d)(?::(\d\d))?\s*([aApP])?\.?\s*(?:[mM]\.?)?", text)
    if clock is None or int(clock[2]) > 59 or int(clock[1]) > 24:
        return None
    meridiem = f"{clock[4].lower()}m" if clock[4] else None
    return readings.clock(int(clock[1]), int(clock[2]), int(clock[3]) if clock[3] else None, meridiem)


def _address(text: str, _: str) -> str | None:
    tokens = text.split()
    spoken = normalize.spoken_words(tokens)
    for index, token in enumerate(tokens):
        bare = token.strip(".,")
        tail = token[len(token.rstrip(",")) :]
        if bare.isdigit():
            # House numbers read in pairs, like years; zip codes and long numbers digit by digit.
            words = readings.year(int(bare)) if len(bare) <= 4 and not bare.startswith("0") else readings.digits(bare)
            spoken[index] = words + tail
        elif bare.lower() in _ADDRESS_WORDS and (index > 0 or len(bare) > 1):
            spoken[index] = _ADDRESS_WORDS[bare.lower()] + tail
        elif bare in _STATES and index > 0:
            spoken[index] = _STATES[bare] + tail
    return " ".join(word for word in spoken if word)


_Reading = Callable[[str, str], "str | None"]
_READINGS: dict[str, _Reading] = {
    "characters": lambda text, _: readings.spell(text),
    "spell-out": lambda text, _: readings.spell(text),
    "cardinal": _cardinal,
    "number": _cardinal,
    "ordinal": _ordinal,
    "digits": _digits,
    "fraction": _fraction,
    "unit": _unit,
    "date": _date,
    "time": _time,
    "telephone": lambda text, _: readings.telephone(text),
    "address": _address,
    "interjection": lambda text, _: text,
    "expletive": lambda text, _: BEEP,
}
_EXPECTED = {
    "characters": "expected letters or digits",
    "spell-out": "expected letters or digits",
    "cardinal": "expected a number such as 1,234 or -3.5",
    "number": "expected a number such as 1,234 or -3.5",
    "ordinal": "expected a whole number such as 21 or 21st",
    "digits": "expected digits such as 1234",
    "fraction": "expected a fraction such as 3/20 or 2+1/2",
    "unit": "expected a number and a unit such as 10ft or 1/2inch",
    "date": "expected a date written in the format given",
    "time": "expected a duration such as 1'21\" or a time such as 3:30pm",
    "telephone": "expected a telephone number such as 2025551212 or 202-555-1212x345",
    "address": "expected an address such as 123 Main St.",
    "interjection": "expected a word",
    "expletive": "expected a word",
}
