"""What the words said for a slot mean: built-in types read by their parsers, custom types by their values.

`resolve` reads words that are all the value (a tagged span, a bare answer to a prompt); `find_in` looks for a
value anywhere in an answer ("I'd like a king room, please").
"""

from __future__ import annotations

import re
from collections.abc import Callable

import regex
from rapidfuzz import fuzz, process

from altostratus.bots.confirmation import read_confirmation
from altostratus.bots.definitions import Resolution, SlotType
from altostratus.bots.interpretations import Moment, SlotValue
from altostratus.bots.slot_values.dates import find_date, read_date, read_time
from altostratus.bots.slot_values.numbers import number_text, read_duration, read_number
from altostratus.bots.slot_values.places import city, country, state

PATTERN_SECONDS = 0.05
# A fuzzy match at or above this rapidfuzz ratio counts as a value (one letter wrong in a six-letter word is 83).
FUZZY_SCORE = 85
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
UK_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}", re.IGNORECASE)
NAME = re.compile(r"[^\W\d_]+(?:[-' ][^\W\d_]+){0,2}")
FILLERS = re.compile(
    r"^(?:(?:it's|it is|i'd like|i would like|i want|i need|make it|make that|let's say|how about|maybe|"
    r"um+|uh+|well|just|please|on|at|in|to|for|the|a|an|my|from|by)\s+)+|\s+(?:please|thanks|thank you)$",
    re.IGNORECASE,
)


def resolve(slot_type: str, text: str, *, moment: Moment, custom: SlotType | None = None) -> SlotValue | None:
    """The value `text` is for the slot type, or None when it is not one (or fails the type's regex filter)."""
    said = " ".join(text.split()).strip(" .,!?")
    if not said:
        return None
    if custom is not None:
        return _custom(custom, said, moment)
    reader = BUILTIN_READERS.get(slot_type)
    if reader is None:
        return None
    value = reader(said, moment)
    if value is None:
        stripped = FILLERS.sub("", said)
        value = reader(stripped, moment) if stripped and stripped != said else None
        said = stripped if value is not None else said
    return None if value is None else SlotValue(said, value, (value,))


def find_in(slot_type: str, text: str, *, moment: Moment, custom: SlotType | None = None) -> SlotValue | None:
    """A value of the slot type said anywhere in `text`: the whole answer first, then its longest parts."""
    whole = resolve(slot_type, text, moment=moment, custom=custom)
    settled = custom is None or custom.resolution is Resolution.TOP_RESOLUTION or _listed(custom, text)
    if whole is not None and settled:
        return whole
    if slot_type == "AMAZON.Date" and custom is None:
        found = find_date(text, moment)
        return None if found is None else SlotValue(found[0], found[1], (found[1],))
    words = text.split()
    # Exact values first, so that "a king size room" finds "king size" before the fuzzy "a king size".
    for fuzzy in (False, True) if custom is not None else (False,):
        for size in range(min(len(words), 6), 0, -1):
            for start in range(len(words) - size + 1):
                part = " ".join(words[start : start + size])
                value = resolve(slot_type, part, moment=moment, custom=custom)
                if value is not None and (custom is None or _listed(custom, part, fuzzy=fuzzy)):
                    return value
    return whole


def _custom(kind: SlotType, said: str, moment: Moment) -> SlotValue | None:
    if kind.pattern is not None and not _fits(kind.pattern, said):
        return None
    resolved = _matches(kind, said)
    if kind.parent is not None and not resolved:
        inherited = resolve(kind.parent, said, moment=moment)
        return None if inherited is None else SlotValue(said, inherited.interpreted, inherited.resolved)
    if kind.resolution is Resolution.TOP_RESOLUTION:
        return SlotValue(said, resolved[0], tuple(resolved)) if resolved else None
    # OriginalValue: the words said, listed or not (Lex's "expand values"); resolved to the values they match.
    if not kind.values and kind.pattern is None:
        return SlotValue(said, said, (said,))
    return SlotValue(said, said, tuple(resolved) or (said,))


def _fits(pattern: str, said: str) -> bool:
    """Whether `said` matches a slot type's regex filter; a pattern that backtracks past its time does not.

    The pattern is the bot author's and the words are any caller's: `(a|aa)+1` on forty a's would take minutes
    in `re`, so the `regex` engine runs it with a timeout.
    """
    try:
        return regex.fullmatch(pattern, said, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        return False


def _matches(kind: SlotType, said: str, *, fuzzy: bool = True) -> list[str]:
    """The type's values `said` means: exact value or synonym first, then fuzzy spellings best first."""
    lowered = said.lower()
    exact = [v.value for v in kind.values if lowered in (v.value.lower(), *(s.lower() for s in v.synonyms))]
    if exact or not fuzzy:
        return exact
    names = {name.lower(): v.value for v in kind.values for name in (v.value, *v.synonyms)}
    scored = process.extract(lowered, list(names), scorer=fuzz.ratio, score_cutoff=FUZZY_SCORE, limit=5)
    return list(dict.fromkeys(names[name] for name, _, _ in scored))


def _listed(kind: SlotType, said: str, *, fuzzy: bool = True) -> bool:
    return bool(_matches(kind, " ".join(said.split()).strip(" .,!?"), fuzzy=fuzzy))


def _number(said: str, _: Moment) -> str | None:
    value = read_number(said)
    return None if value is None else number_text(value)


def _alphanumeric(said: str, _: Moment) -> str | None:
    joined = re.sub(r"[\s-]", "", said)
    return joined.upper() if re.fullmatch(r"[A-Za-z0-9]+", joined) and re.search(r"\d", joined) else None


def _name(said: str, _: Moment) -> str | None:
    return said.title() if NAME.fullmatch(said) else None


def _email(said: str, _: Moment) -> str | None:
    spoken = re.sub(r"\s+at\s+", "@", said.lower())
    spoken = re.sub(r"\s+dot\s+", ".", spoken).replace(" ", "")
    return spoken if EMAIL.fullmatch(spoken) else None


def _phone(said: str, _: Moment) -> str | None:
    digits = "".join(str(int(n)) if n.isdigit() else n for n in re.findall(r"\+|\d", said))
    if not 7 <= len(digits.lstrip("+")) <= 15 or re.search(r"[a-z]", said.lower()):
        return None
    return digits


def _postcode(said: str, _: Moment) -> str | None:
    if not UK_POSTCODE.fullmatch(said):
        return None
    compact = said.replace(" ", "").upper()
    return f"{compact[:-3]} {compact[-3:]}"


BUILTIN_READERS: dict[str, Callable[[str, Moment], str | None]] = {
    "AMAZON.Date": read_date,
    "AMAZON.Time": read_time,
    "AMAZON.Number": _number,
    "AMAZON.Duration": lambda said, _: read_duration(said),
    "AMAZON.AlphaNumeric": _alphanumeric,
    "AMAZON.City": lambda said, _: city(said),
    "AMAZON.Country": lambda said, _: country(said),
    "AMAZON.State": lambda said, _: state(said),
    "AMAZON.FirstName": _name,
    "AMAZON.LastName": _name,
    "AMAZON.StreetName": lambda said, _: said.title() if re.search(r"[a-z]", said.lower()) else None,
    "AMAZON.Confirmation": lambda said, _: read_confirmation(said),
    "AMAZON.EmailAddress": _email,
    "AMAZON.PhoneNumber": _phone,
    "AMAZON.FreeFormInput": lambda said, _: said,
    "AMAZON.UKPostalCode": _postcode,
}
