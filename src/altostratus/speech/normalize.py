"""English text normalisation: written tokens into the words a person says for them.

The neural voice reads its words through espeak's phonemizer, which reads "$3.50" as "dollar three point five
zero"; this module turns such tokens into words first ("three dollars fifty"). `spoken_words` keeps one output
per input token. Where two tokens make one reading, the meaning goes to one of them and the other becomes "":
a currency symbol written apart goes to its number (["$", "5"] -> ["", "five dollars"]), a scale word takes the
currency (["$2", "billion"] -> ["two", "billion dollars"]), a clock time takes its "a.m." (["10", "a.m."] ->
["ten eigh M", ""]), while a number and its unit each keep their own word (["10", "km"] -> ["ten",
"kilometers"]). Phrase-ending punctuation (, . ? ! ; :) stays at the end of a token's output; quotes and
brackets are dropped. A token whose output is empty hands its punctuation to the word before it.

Letters are written as capitals with spaces ("U S"), except that "A" is written "eigh": espeak reads a lone
"A" as the article. Only English is normalised; other languages come back unchanged, since espeak reads their
numbers and symbols itself.

The readings of numbers, dates, times, money, units and letters live in `readings`, shared with SSML's
<say-as>; this module splits the tokens and decides from their context which reading applies.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Literal

from altostratus.speech.readings import (
    AMOUNT,
    CURRENCIES,
    MONTHS,
    SCALE_SUFFIXES,
    UNITS,
    cardinal,
    clock,
    date,
    digits,
    fraction,
    fraction_part,
    is_web_address,
    money,
    month_number,
    number,
    ordinal,
    plural,
    spell,
    table_words,
    telephone,
    unit_words,
    web_address,
    year,
)

# ---------------------------------------------------------------------------------------------------------
# Abbreviations and where sentences end
# ---------------------------------------------------------------------------------------------------------

# "title": comes before what it names ("Dr. Smith", "e.g. Paris", "No. 5"), so its period never ends a
# sentence unless nothing follows. "may_end": usually closes a phrase ("etc.", "Inc.", "a.m."), so it ends
# one before a capital. "initial": a letter or initialism ("J.", "U.S."), often before a capitalised name,
# so it ends one only before a word that typically starts a sentence.
_Kind = Literal["title", "may_end", "initial"]

# fmt: off
_TITLES = {
    "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Mx.": "Mix", "Dr.": "Doctor", "Prof.": "Professor",
    "St.": "Saint", "Mt.": "Mount", "Ft.": "Fort", "Gen.": "General", "Capt.": "Captain", "Lt.": "Lieutenant",
    "Sgt.": "Sergeant", "Col.": "Colonel", "Gov.": "Governor", "Sen.": "Senator", "Rep.": "Representative",
    "Rev.": "Reverend", "Hon.": "Honorable", "Pres.": "President", "Fig.": "Figure", "Vol.": "Volume",
    "Ch.": "Chapter", "Apt.": "Apartment", "Ste.": "Suite", "vs.": "versus", "e.g.": "for example",
    "i.e.": "that is", "cf.": "compare", "viz.": "namely", "approx.": "approximately", "a.k.a.": "also known as",
}
_MAY_END = {
    "No.": "No", "no.": "no", "etc.": "et cetera", "Jr.": "Junior", "Sr.": "Senior", "Inc.": "Incorporated",
    "Ltd.": "Limited", "Co.": "Company", "Corp.": "Corporation", "Bros.": "Brothers", "Ave.": "Avenue",
    "Blvd.": "Boulevard", "Rd.": "Road", "Ln.": "Lane", "Hwy.": "Highway", "Dept.": "Department",
    "Univ.": "University", "a.m.": spell("am"), "p.m.": spell("pm"), "Sept.": "September",
}
# fmt: on
_MAY_END |= {f"{name[:3]}.": name for name in MONTHS if len(name) > 4}
# Units written with a period ("5 ft. tall"): the period is the abbreviation's, as with "etc.".
_MAY_END |= {f"{unit}.": UNITS[unit][1] for unit in ("ft", "lb", "lbs", "oz", "yd", "mi", "min", "sec", "hr")}
_ABBREVIATION_TABLES: tuple[tuple[dict[str, str], _Kind], ...] = ((_TITLES, "title"), (_MAY_END, "may_end"))
# Written without their period (British style, or in a hurry).
# fmt: off
_BARE_ABBREVIATIONS = {
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Dr": "Doctor", "St": "Saint", "Prof": "Professor",
    "vs": "versus", "etc": "et cetera", "approx": "approximately",
}
# fmt: on
# Abbreviations whose reading depends on their neighbours: (before a capitalised name, otherwise).
_TITLE_OR_STREET = {"St": ("Saint", "Street"), "Dr": ("Doctor", "Drive")}
# Words that typically start a sentence: after "U.S." or "J." only these end the sentence.
_SENTENCE_STARTERS = frozenset(
    table_words(
        "the a an he she it they we i you this that these those there then but and so in on at his her its our "
        "their my your if when after before while however also yet as for now today what who why how where one "
        "some many most all no not each every later still thus"
    )
)
_INITIALS = re.compile(r"(?:[A-Za-z]\.)+")
_OPENERS = "\"'([{“‘«¿¡"
_CLOSERS = "\"')]}”’»"
_PHRASE_ENDS = ",.?!;:…"


def _abbreviation(word: str) -> tuple[str, _Kind] | None:
    """The reading and kind of an abbreviation written with its period ("Dr.", "e.g.", "U.S."), if it is one."""
    for table, kind in _ABBREVIATION_TABLES:
        reading = table.get(word) or table.get(word.lower())
        if reading is not None:
            return reading, kind
    if re.fullmatch(r"\d{1,2}(?::\d\d)?[ap]\.m\.", word, re.IGNORECASE):
        return word, "may_end"
    if _INITIALS.fullmatch(word):
        return spell(word), "initial"
    return None


def ends_sentence(token: str, next_token: str | None) -> bool:
    """Whether `token` ends a sentence, `next_token` being the word after it (None at the end of the text).

    ? and ! always end one; a period ends one unless it belongs to an abbreviation that does not end here:
    "Dr." before "Smith", "e.g." before anything, "U.S." before a name, "etc." before a lowercase word.
    """
    stripped = token.rstrip(_CLOSERS)
    if stripped.endswith(("?", "!")):
        return True
    if not stripped.endswith((".", "…")):
        return False
    if next_token is None:
        return True
    following = next_token.lstrip(_OPENERS)
    capitalised = following[:1].isupper()
    if stripped.endswith(("..", "…")):
        return capitalised
    found = _abbreviation(stripped.lstrip(_OPENERS))
    if found is None:
        return True
    kind = found[1]
    if kind == "title":
        return False
    if kind == "may_end":
        return capitalised
    return capitalised and following.rstrip(_CLOSERS + _PHRASE_ENDS).lower() in _SENTENCE_STARTERS


# ---------------------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Token:
    """A written token split for reading."""

    # The token as written.
    raw: str
    # The word without the punctuation around it; an abbreviation keeps its own period ("Dr.", "e.g.").
    core: str
    # The phrase-ending punctuation that follows the spoken form.
    tail: str
    # Nothing follows the core, so it may be read together with the next token ("10" "km").
    joins: bool


def _split(raw: str, following: str | None) -> _Token:
    start = 0
    while start < len(raw) and raw[start] in _OPENERS:
        start += 1
    end = len(raw)
    while end > start and raw[end - 1] in _CLOSERS + _PHRASE_ENDS:
        end -= 1
    core, trailing = raw[start:end], raw[end:]
    if trailing.startswith(".") and _abbreviation(core + ".") is not None:
        core += "."
        trailing = trailing[1:] + ("." if ends_sentence(raw, following) else "")
    tail = "".join(char for char in trailing if char in _PHRASE_ENDS)
    return _Token(raw, core, tail, joins=not trailing)


def _is_month(token: _Token | None) -> bool:
    return token is not None and month_number(token.core) is not None and token.core[:1].isupper()


def _is_day(text: str) -> bool:
    return re.fullmatch(r"\d{1,2}", text) is not None and 1 <= int(text) <= 31


def _meridiem(text: str) -> str | None:
    """ "am" or "pm" for the ways they are written ("a.m.", "PM", "p.m"), else None."""
    letters = text.replace(".", "").lower()
    return letters if letters in ("am", "pm") else None


# ---------------------------------------------------------------------------------------------------------
# Readings of one token, given its neighbours
# ---------------------------------------------------------------------------------------------------------

_Context = tuple[_Token | None, _Token | None]
_SIGNED = rf"[-−]?(?:{AMOUNT})"
_ROMAN = re.compile(r"(?=[IVXL])(X{0,3}|XL|L)(IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}
_REGNAL_NAMES = frozenset(
    table_words(
        "Henry Edward George William Charles Louis Elizabeth Mary James Richard John Paul Pius Leo Benedict "
        "Gregory Innocent Clement Philip Frederick Peter Ivan Catherine Alexander Nicholas Napoleon Ramesses "
        "Ferdinand Isabella Gustav Wilhelm Ludwig Otto Constantine Urban Sixtus Stephen Juan Carlos Felipe "
        "Victor Emmanuel Alfonso Francis Anne Victoria Harold Olaf Haakon Christian Frederik Rama"
    )
)
_NUMBERED_THINGS = frozenset(
    table_words(
        "war chapter part volume vol. book act scene phase type class episode section article title level stage "
        "appendix round grade schedule"
    )
)
_YEAR_CUES = frozenset(table_words("in since by until till from of year circa c. during around before after"))
# fmt: off
_VULGAR = {
    "½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5), "⅗": (3, 5),
    "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8), "⅞": (7, 8),
}
# fmt: on
# fmt: off
_SYMBOLS = {
    "&": "and", "+": "plus", "=": "equals", "@": "at", "#": "number", "×": "times", "÷": "divided by",
    "±": "plus or minus", "~": "about", "<": "less than", ">": "greater than", "/": "slash", "%": "percent",
    "°": "degrees", "w/": "with", "w/o": "without", "24/7": "twenty-four seven",
}
# fmt: on
_OPERATORS = {"+": "plus", "=": "equals", "×": "times", "*": "times", "÷": "divided by", "^": "to the power of"}
_DASHES = frozenset({"-", "--", "–", "—"})


def _roman(text: str) -> int | None:
    if not _ROMAN.fullmatch(text):
        return None
    total = 0
    for index, char in enumerate(text):
        value = _ROMAN_VALUES[char]
        following = _ROMAN_VALUES[text[index + 1]] if index + 1 < len(text) else 0
        total += -value if value < following else value
    return total


def _read_roman(core: str, context: _Context) -> str | None:
    """ "World War II" -> "two", "Henry VIII" -> "the eighth"; only after a word that makes it safe."""
    previous = context[0]
    # "World War I." arrives as the initial "I." with its period.
    value = _roman(core.removesuffix("."))
    if value is None or previous is None or not previous.joins:
        return None
    if previous.core in _REGNAL_NAMES:
        return f"the {ordinal(value)}"
    if previous.core.lower() in _NUMBERED_THINGS and previous.core[:1].isupper():
        return cardinal(value)
    return None


def _read_abbreviation(core: str, context: _Context) -> str | None:
    previous, following = context
    bare = core.rstrip(".")
    before_name = following is not None and following.core[:1].isupper()
    if bare in _TITLE_OR_STREET:
        title, place = _TITLE_OR_STREET[bare]
        after_name = previous is not None and (previous.core[:1].isupper() or previous.core.isdigit())
        if before_name:
            return title
        return place if after_name or bare == "St" else title
    if core.lower() == "no." and following is not None and following.core[:1] in "#0123456789":
        return "number"
    if core.endswith("."):
        found = _abbreviation(core)
        if found is not None:
            return found[0]
    if bare in _BARE_ABBREVIATIONS and (bare not in ("Mr", "Mrs", "Ms", "Prof") or before_name):
        return _BARE_ABBREVIATIONS[bare]
    month = month_number(bare)
    if month is not None and following is not None and following.core[:1].isdigit():
        return MONTHS[month - 1]
    return None


def _parse_money(core: str) -> tuple[str, str, str, str | None] | None:
    """Sign, currency symbol, amount and scale suffix of "-$1.5M" or "20€", or None."""
    match = re.fullmatch(rf"([-−]?)([$€£¥₹])({AMOUNT})(bn|mn|tn|[kKmMbBT])?", core)
    if match is not None:
        return match[1], match[2], match[3], match[4]
    match = re.fullmatch(rf"([-−]?)({AMOUNT})(bn|mn|tn|[kKmMbBT])?([$€£¥₹])", core)
    return None if match is None else (match[1], match[4], match[2], match[3])


def _read_money(core: str) -> str | None:
    parsed = _parse_money(core)
    if parsed is None:
        return None
    sign, symbol, amount, suffix = parsed
    words = money(amount, symbol, SCALE_SUFFIXES[suffix] if suffix else None)
    return None if words is None else ("minus " if sign else "") + words


def _read_clock(core: str) -> str | None:
    match = re.fullmatch(r"(\d{1,2}):(\d\d)(?::(\d\d))?([aApP]\.?[mM]\.?)?", core) or re.fullmatch(
        r"(\d{1,2})()()([aApP]\.?[mM]\.?)", core
    )
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or "0")
    meridiem = _meridiem(match[4]) if match[4] else None
    if minute > 59 or hour > (12 if meridiem else 24) or (meridiem and hour == 0):
        return None
    return clock(hour, minute, int(match[3]) if match[3] else None, meridiem)


def _read_date(core: str) -> str | None:
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", core)
    if iso is not None:
        year_value, month, day = (int(part) for part in iso.groups())
    else:
        written = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})", core)
        if written is None:
            return None
        first, second, year_value = int(written[1]), int(written[3]), int(written[4])
        # "/" and "-" dates are American (month first) unless the first part cannot be a month; "." ones European.
        day_first = written[2] == "." or first > 12
        month, day = (second, first) if day_first else (first, second)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return date(year_value, month, day)


def _read_telephone(core: str) -> str | None:
    if re.fullmatch(r"(?:1-)?\d{3}-\d{3}-\d{4}|\d{3}-\d{4}|\d{3}\.\d{3}\.\d{4}", core):
        return telephone(core)
    return None


def _read_range(core: str) -> str | None:
    match = re.fullmatch(r"([-−]?[$€£¥₹]?\d[\d,.]*)[-–]([$€£¥₹]?\d[\d,.]*%?)", core)
    if match is None:
        return None
    low, high = _read_alone(match[1]), _read_alone(match[2])
    return None if low is None or high is None else f"{low} to {high}"


def _read_ordinal(core: str) -> str | None:
    match = re.fullmatch(r"(\d{1,3}(?:,\d{3})+|\d+)(st|nd|rd|th)", core, re.IGNORECASE)
    return ordinal(int(match[1].replace(",", ""))) if match else None


def _read_decade(core: str) -> str | None:
    match = re.fullmatch(r"'?(\d{1,3}0)'?s", core)
    if match is None:
        return None
    value = int(match[1])
    return plural(year(value) if value >= 1000 else cardinal(value))


def _read_fraction(core: str) -> str | None:
    if core in _SYMBOLS:
        return None
    match = re.fullmatch(r"(\d+)/(\d+)", core)
    if match is not None:
        return fraction(int(match[1]), int(match[2]))
    vulgar = re.fullmatch(rf"(\d*)([{''.join(_VULGAR)}])", core)
    if vulgar is None:
        return None
    numerator, denominator = _VULGAR[vulgar[2]]
    return fraction(numerator, denominator, int(vulgar[1]) if vulgar[1] else None)


def _read_attached_number(core: str) -> str | None:
    """A number with a unit, percent sign or scale written against it: "5kg", "-5°C", "45%", "1.5M"."""
    match = re.fullmatch(rf"({_SIGNED})\s*(\S+?)\.?", core)
    if match is None:
        return None
    amount, suffix = match.groups()
    words = number(amount)
    if words is None:
        return None
    name = unit_words(suffix, amount.lstrip("-−") == "1")
    if name is not None:
        return f"{words} {name}"
    if suffix in SCALE_SUFFIXES:
        return f"{words} {SCALE_SUFFIXES[suffix]}"
    return None


def _read_plain_number(core: str, context: _Context) -> str | None:
    previous = context[0]
    if re.fullmatch(r"\d{4}", core):
        value = int(core)
        cued = previous is not None and (previous.core.lower() in _YEAR_CUES or _is_month(previous))
        if 1100 <= value <= 2099 or (cued and 1000 <= value <= 2999):
            return year(value)
    if previous is not None and previous.joins and _is_month(previous) and _is_day(core):
        return ordinal(int(core))
    return number(core)


def _read_symbols(core: str) -> str | None:
    if core in _SYMBOLS:
        return _SYMBOLS[core]
    hashtag = re.fullmatch(r"#(\d+|\w+)", core)
    if hashtag is not None:
        tag = hashtag[1]
        return f"number {cardinal(int(tag))}" if tag.isdigit() else f"hashtag {tag}"
    sum_ = re.fullmatch(r"\d+(?:[-+=×*÷^]\d+)*[+=×*÷^]\d+(?:[-+=×*÷^]\d+)*", core)
    if sum_ is not None:
        pieces = re.findall(r"\d+|\D", core)
        return " ".join(cardinal(int(piece)) if piece.isdigit() else _OPERATORS.get(piece, "minus") for piece in pieces)
    return None


def _read_mixed(core: str) -> str | None:
    """Letters and digits together ("MP3", "COVID-19", "R&D"): numbers read, letters kept, symbols named."""
    if not re.search(r"\d|&", core) or not re.search(r"[^\W\d_]", core):
        return None
    spoken = []
    for piece in re.findall(r"\d+(?:\.\d+)?|[^\W\d_]+|.", core):
        if piece[0].isdigit():
            spoken.append(number(piece) or digits(piece))
        elif piece[0].isalpha():
            spoken.append(piece)
        elif piece in ("&", "+"):
            spoken.append(_SYMBOLS[piece])
    return " ".join(spoken)


_SingleReading = Callable[[str, _Context], "str | None"]
_READINGS: tuple[_SingleReading, ...] = (
    lambda core, _: web_address(core) if is_web_address(core) else None,
    lambda core, _: _read_money(core),
    lambda core, _: _read_clock(core),
    lambda core, _: _read_date(core),
    lambda core, _: _read_telephone(core),
    lambda core, _: _read_range(core),
    lambda core, _: _read_ordinal(core),
    lambda core, _: _read_decade(core),
    _read_plain_number,
    lambda core, _: _read_fraction(core),
    lambda core, _: _read_attached_number(core),
    _read_roman,
    _read_abbreviation,
    lambda core, _: _read_symbols(core),
    lambda core, _: _read_mixed(core),
)


def _read(token: _Token, context: _Context) -> str:
    """What is said for one token, its neighbours given; the word itself when nothing applies."""
    for reading in _READINGS:
        spoken = reading(token.core, context)
        if spoken is not None:
            return spoken
    return token.core


def _read_alone(core: str) -> str | None:
    """A token's reading without neighbours, or None when it is not a number-like token (for ranges)."""
    token = _Token(core, core, "", joins=False)
    spoken = _read(token, (None, None))
    return None if spoken == core else spoken


# ---------------------------------------------------------------------------------------------------------
# Readings that span two tokens
# ---------------------------------------------------------------------------------------------------------

_PairReading = Callable[[Sequence[_Token], int], "list[str] | None"]
_SCALE_WORDS = frozenset({"thousand", "million", "billion", "trillion"})
# Units that are also common words, read as units only when written against their number ("5in").
_ATTACHED_ONLY = frozenset({"in", "inch"})


def _pair(tokens: Sequence[_Token], index: int) -> tuple[_Token, _Token] | None:
    """The token at `index` and the next, when nothing but a space lies between them."""
    if index + 1 >= len(tokens) or not tokens[index].joins:
        return None
    return tokens[index], tokens[index + 1]


def _separate_currency(tokens: Sequence[_Token], index: int) -> list[str] | None:
    """ "$" "5" -> "", "five dollars": the symbol's meaning goes to the amount."""
    pair = _pair(tokens, index)
    if pair is None or pair[0].core not in CURRENCIES or _parse_money(pair[0].core + pair[1].core) is None:
        return None
    merged = dataclasses.replace(pair[1], core=pair[0].core + pair[1].core)
    rest = list(tokens[index + 1 :])
    rest[0] = merged
    return ["", *(_money_and_scale(rest, 0) or [_read(merged, (None, None))])]


def _money_and_scale(tokens: Sequence[_Token], index: int) -> list[str] | None:
    """ "$2" "billion" -> "two", "billion dollars": the currency follows the scale word."""
    pair = _pair(tokens, index)
    parsed = _parse_money(tokens[index].core)
    if pair is None or parsed is None or parsed[3] is not None or pair[1].core.lower() not in _SCALE_WORDS:
        return None
    sign, symbol, amount, _ = parsed
    spoken = number(amount)
    if spoken is None or "," in amount:
        return None
    return [("minus " if sign else "") + spoken, f"{pair[1].core.lower()} {CURRENCIES[symbol].many}"]


def _number_and_word(tokens: Sequence[_Token], index: int) -> list[str] | None:
    """A number and the word after it read together: a unit, "%", "a.m.", a fraction, a month."""
    pair = _pair(tokens, index)
    if pair is None:
        return None
    first, second = pair
    meridiem = _meridiem(second.core)
    if meridiem is not None:
        spoken = _read_clock(first.core + meridiem)
        return None if spoken is None else [spoken, ""]
    amount = number(first.core)
    if amount is None:
        return None
    unit = unit_words(second.core, first.core.lstrip("-−") == "1")
    if unit is not None and second.core.rstrip(".") not in _ATTACHED_ONLY:
        return [amount, unit]
    mixed = re.fullmatch(r"(\d+)/(\d+)", second.core)
    if mixed is not None and first.core.isdigit():
        return [cardinal(int(first.core)), fraction_part(int(mixed[1]), int(mixed[2]))]
    if _is_month(second) and _is_day(first.core):
        return [f"the {ordinal(int(first.core))} of", _read(second, (first, None))]
    return None


def _area_code(tokens: Sequence[_Token], index: int) -> list[str] | None:
    """ "(555)" "123-4567" -> "five five five,", "one two three, four five six seven"."""
    if index + 1 >= len(tokens) or not re.fullmatch(r"\(\d{3}\)", tokens[index].raw):
        return None
    rest = tokens[index + 1].core
    if not re.fullmatch(r"\d{3}-\d{4}", rest):
        return None
    return [f"{digits(tokens[index].core)},", telephone(rest) or rest]


_PAIR_READINGS: tuple[_PairReading, ...] = (_separate_currency, _money_and_scale, _number_and_word, _area_code)


# ---------------------------------------------------------------------------------------------------------
# The whole
# ---------------------------------------------------------------------------------------------------------


def spoken_words(tokens: Sequence[str], language: str = "en-US") -> list[str]:
    """The spoken form of each written token, one output per token (see the module's docstring).

    Tokens are whitespace-separated words with their punctuation attached ("planks.", "(see", "2nd,").
    Languages other than English come back unchanged.
    """
    if not language.lower().startswith("en"):
        return list(tokens)
    split = [_split(raw, tokens[index + 1] if index + 1 < len(tokens) else None) for index, raw in enumerate(tokens)]
    spoken: list[str] = []
    index = 0
    while index < len(split):
        reading = next((found for rule in _PAIR_READINGS if (found := rule(split, index)) is not None), None)
        if reading is None:
            previous = split[index - 1] if index else None
            following = split[index + 1] if index + 1 < len(split) else None
            reading = [_read(split[index], (previous, following))]
        spoken.extend(reading)
        index += len(reading)
    return _punctuate(split, spoken)


def _punctuate(split: Sequence[_Token], spoken: Sequence[str]) -> list[str]:
    """Each output with its token's phrase-ending punctuation.

    A token left empty hands its punctuation to the last word before it, and a dash standing alone becomes a
    comma there: the pause a reader makes.
    """
    out: list[str] = []
    for token, words in zip(split, spoken, strict=True):
        tail = token.tail
        if token.core in _DASHES:
            words, tail = "", tail or ","
        if not words and tail:
            last = next((at for at in range(len(out) - 1, -1, -1) if out[at]), None)
            if last is not None and not out[last].endswith(tuple(_PHRASE_ENDS)):
                out[last] += tail
            tail = ""
        out.append(words + tail)
    return out
