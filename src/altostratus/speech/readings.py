"""How numbers, dates, times, money, units, telephone numbers and letters are read aloud in English."""

from __future__ import annotations

import dataclasses
import re

# ---------------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------------


def table_words(text: str) -> tuple[str, ...]:
    """The words of a table written as one string."""
    return tuple(text.split())


_SMALL = table_words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ("", "thousand", "million", "billion", "trillion", "quadrillion")
# fmt: off
_IRREGULAR_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
    "twelve": "twelfth",
}
# fmt: on
_NUMBER = re.compile(r"([-−+]?)(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d+))?")


def cardinal(value: int) -> str:
    """An integer in words, American style without "and": 1234 -> "one thousand two hundred thirty-four"."""
    if value < 0:
        return f"minus {cardinal(-value)}"
    if value < 20:
        return _SMALL[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f"-{_SMALL[ones]}" if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_SMALL[hundreds]} hundred" + (f" {cardinal(rest)}" if rest else "")
    if value >= 1000 ** len(_SCALES):
        # Past the named scales nobody reads a number as a quantity; read its digits.
        return digits(str(value))
    words = []
    for power in range(len(_SCALES) - 1, 0, -1):
        group, value = divmod(value, 1000**power)
        if group:
            words.append(f"{cardinal(group)} {_SCALES[power]}")
    if value:
        words.append(cardinal(value))
    return " ".join(words)


def ordinal(value: int) -> str:
    """An integer as an ordinal: 21 -> "twenty-first", 103 -> "one hundred third"."""
    words = cardinal(value)
    head, last = re.fullmatch(r"(.*?[ -]?)([a-z]+)", words).groups()  # type: ignore[union-attr]
    if last in _IRREGULAR_ORDINALS:
        return head + _IRREGULAR_ORDINALS[last]
    if last.endswith("y"):
        return f"{head}{last[:-1]}ieth"
    return f"{head}{last}th"


def digits(text: str) -> str:
    """Each digit of `text` on its own: "123" -> "one two three" (anything else is skipped)."""
    return " ".join(_SMALL[int(char)] for char in text if char.isdigit())


def number(text: str) -> str | None:
    """A written number in words ("1,234", "3.14", "-7", ".5"), or None when `text` is not one."""
    match = _NUMBER.fullmatch(text)
    if match is None or (match[2] is None and match[3] is None):
        return None
    sign, whole, decimals = match.groups()
    words = ""
    if whole is not None:
        plain = whole.replace(",", "")
        # "007" is a code, not a quantity: a leading zero means the digits are read one by one.
        words = digits(plain) if len(plain) > 1 and plain.startswith("0") else cardinal(int(plain))
    if decimals is not None:
        words = f"{words} point {digits(decimals)}".strip()
    return f"minus {words}" if sign in ("-", "−") else words


def year(value: int) -> str:
    """A year read in pairs, as people say them (also how house numbers are read): 1999 -> "nineteen ninety-nine".

    2000 to 2009 (and 1000 to 1009) read as thousands ("two thousand five"); 2026 -> "twenty twenty-six",
    1905 -> "nineteen oh five", 1900 -> "nineteen hundred", 867 -> "eight sixty-seven".
    """
    if value < 100 or value > 9999:
        return cardinal(value)
    high, low = divmod(value, 100)
    if value >= 1000 and high % 10 == 0 and low < 10:
        return cardinal(value)
    if low == 0:
        return f"{cardinal(high)} hundred"
    if low < 10:
        return f"{cardinal(high)} oh {cardinal(low)}"
    return f"{cardinal(high)} {cardinal(low)}"


def plural(words: str) -> str:
    """The plural of the last word: "twentieth" -> "twentieths", "ninety" -> "nineties"."""
    return words[:-1] + "ies" if words.endswith("y") else words + "s"


def fraction(numerator: int, denominator: int, whole: int | None = None) -> str:
    """A fraction: (3, 20) -> "three twentieths", (1, 2) -> "one half", with whole=2 -> "two and a half"."""
    if whole is None:
        return f"{cardinal(numerator)} {_fraction_name(numerator, denominator)}"
    return f"{cardinal(whole)} {fraction_part(numerator, denominator)}"


def fraction_part(numerator: int, denominator: int) -> str:
    """The fraction after a whole number: "and a half", "and three quarters"."""
    return f"and {'a' if numerator == 1 else cardinal(numerator)} {_fraction_name(numerator, denominator)}"


def _fraction_name(numerator: int, denominator: int) -> str:
    if denominator in (0, 1):
        return f"over {cardinal(denominator)}"
    if denominator == 2:
        return "half" if numerator == 1 else "halves"
    if denominator == 4:
        return "quarter" if numerator == 1 else "quarters"
    return ordinal(denominator) if numerator == 1 else plural(ordinal(denominator))


# ---------------------------------------------------------------------------------------------------------
# Dates, times, telephone numbers, money, units, letters
# ---------------------------------------------------------------------------------------------------------

MONTHS = table_words("January February March April May June July August September October November December")
_MONTH_NUMBERS = {name.lower(): index + 1 for index, name in enumerate(MONTHS)} | {
    name[:3].lower(): index + 1 for index, name in enumerate(MONTHS)
}
_MONTH_NUMBERS["sept"] = 9


def month_number(name: str) -> int | None:
    """The month a name or its abbreviation means ("Sept.", "december" -> 9, 12), or None."""
    return _MONTH_NUMBERS.get(name.rstrip(".").lower())


def date(year_value: int | None = None, month: int | None = None, day: int | None = None) -> str:
    """A date the American way, any part may be missing: "December second, twenty twenty-six"."""
    parts = []
    if month is not None:
        parts.append(MONTHS[month - 1])
    if day is not None:
        parts.append(ordinal(day) if month is not None else f"the {ordinal(day)}")
    words = " ".join(parts)
    if year_value is None:
        return words
    if not words:
        return year(year_value)
    return f"{words}{',' if day is not None else ''} {year(year_value)}"


def clock(hour: int, minute: int = 0, second: int | None = None, meridiem: str | None = None) -> str:
    """A time of day: (3, 30) -> "three thirty", (3, 0) -> "three o'clock", (14, 0) -> "fourteen hundred".

    `meridiem` is "am" or "pm" ("ten thirty P M").
    """
    if minute == 0:
        if meridiem is not None:
            words = cardinal(hour)
        else:
            words = f"{cardinal(hour)} o'clock" if 0 < hour <= 12 else f"{cardinal(hour)} hundred"
    else:
        words = f"{cardinal(hour)} {'oh ' if minute < 10 else ''}{cardinal(minute)}"
    if second:
        words += f" and {cardinal(second)} {'second' if second == 1 else 'seconds'}"
    return f"{words} {spell(meridiem)}" if meridiem is not None else words


def telephone(text: str) -> str | None:
    """A telephone number in digit groups: "2025551212" -> "two zero two, five five five, one two one two".

    Written groups ("(555) 123-4567") are kept; a bare run of 7, 10 or 11 digits is grouped the North American
    way; an extension ("x345", "ext. 345") is read after the number. None when `text` is not a number.
    """
    match = re.fullmatch(r"(\+?)([\d\s().\-]*\d)\)?(?:\s*(?:x|ext\.?)\s*(\d+))?", text.strip(), re.IGNORECASE)
    if match is None:
        return None
    plus, main, extension = match.groups()
    groups = re.findall(r"\d+", main)
    if len(groups) == 1:
        groups = _phone_groups(groups[0])
    words = ", ".join(digits(group) for group in groups)
    if plus:
        words = f"plus {words}"
    return f"{words}, extension {digits(extension)}" if extension else words


def _phone_groups(run: str) -> list[str]:
    sizes = {7: (3, 4), 10: (3, 3, 4), 11: (1, 3, 3, 4)}.get(len(run), (len(run),))
    groups, at = [], 0
    for size in sizes:
        groups.append(run[at : at + size])
        at += size
    return groups


@dataclasses.dataclass(frozen=True)
class Currency:
    """A currency's names, one and many, and those of its minor unit (None where it has none)."""

    one: str
    many: str
    minor_one: str | None
    minor_many: str | None


# currency symbol -> its names
CURRENCIES = {
    "$": Currency("dollar", "dollars", "cent", "cents"),
    "€": Currency("euro", "euros", "cent", "cents"),
    "£": Currency("pound", "pounds", "penny", "pence"),
    "¥": Currency("yen", "yen", None, None),
    "₹": Currency("rupee", "rupees", "paisa", "paise"),
}
# A scale written against its number ("$1.5M", "20k") -> the scale word.
# fmt: off
SCALE_SUFFIXES = {
    "k": "thousand", "K": "thousand", "M": "million", "mn": "million", "m": "million", "B": "billion",
    "b": "billion", "bn": "billion", "tn": "trillion", "T": "trillion",
}
# fmt: on
# A written amount, as a regular expression: "1,234", "3.50", ".5".
AMOUNT = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+"


def money(amount: str, symbol: str, scale: str | None = None) -> str | None:
    """An amount of money: ("3.50", "$") -> "three dollars fifty", ("0.99", "$") -> "ninety-nine cents".

    With a scale word ("million") the amount is read as a number: "one point five million dollars". None when
    `symbol` is not a currency here or `amount` not a number.
    """
    currency = CURRENCIES.get(symbol)
    words = number(amount)
    if currency is None or words is None:
        return None
    if scale is not None:
        return f"{words} {scale} {currency.many}"
    whole, _, cents = amount.replace(",", "").partition(".")
    if len(cents) > 2 or (cents and currency.minor_many is None):
        return f"{words} {currency.many}"
    major, minor = int(whole or "0"), int(cents.ljust(2, "0") or "0")
    major_words = f"{cardinal(major)} {currency.one if major == 1 else currency.many}"
    if minor == 0:
        return major_words
    if major == 0:
        return f"{cardinal(minor)} {currency.minor_one if minor == 1 else currency.minor_many}"
    return f"{major_words} {cardinal(minor)}"


# unit as written -> (singular, plural)
# fmt: off
UNITS: dict[str, tuple[str, str]] = {
    "km": ("kilometer", "kilometers"), "m": ("meter", "meters"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "µm": ("micrometer", "micrometers"), "nm": ("nanometer", "nanometers"),
    "mi": ("mile", "miles"), "ft": ("foot", "feet"), "in": ("inch", "inches"), "inch": ("inch", "inches"),
    "yd": ("yard", "yards"), "kg": ("kilogram", "kilograms"), "g": ("gram", "grams"),
    "mg": ("milligram", "milligrams"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"), "l": ("liter", "liters"), "L": ("liter", "liters"),
    "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"), "gal": ("gallon", "gallons"),
    "qt": ("quart", "quarts"), "mph": ("mile per hour", "miles per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"), "km/h": ("kilometer per hour", "kilometers per hour"),
    "m/s": ("meter per second", "meters per second"), "ms": ("millisecond", "milliseconds"),
    "sec": ("second", "seconds"), "secs": ("second", "seconds"), "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"), "h": ("hour", "hours"), "hr": ("hour", "hours"), "hrs": ("hour", "hours"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"), "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"), "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"), "TB": ("terabyte", "terabytes"),
    "Mbps": ("megabit per second", "megabits per second"), "Gbps": ("gigabit per second", "gigabits per second"),
    "W": ("watt", "watts"), "kW": ("kilowatt", "kilowatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "V": ("volt", "volts"), "mAh": ("milliamp hour", "milliamp hours"), "dB": ("decibel", "decibels"),
    "kcal": ("kilocalorie", "kilocalories"), "px": ("pixel", "pixels"), "°C": ("degree Celsius", "degrees Celsius"),
    "°F": ("degree Fahrenheit", "degrees Fahrenheit"), "°": ("degree", "degrees"), "%": ("percent", "percent"),
    "meter": ("meter", "meters"), "meters": ("meter", "meters"),
}
# fmt: on


def unit_words(unit: str, singular: bool) -> str | None:
    """A unit's name ("km" -> "kilometers"), singular or plural; None when `unit` is not one."""
    names = UNITS.get(unit) or UNITS.get(unit.rstrip("."))
    if names is None:
        return None
    return names[0] if singular else names[1]


def measure(amount: str, unit: str) -> str | None:
    """A number or fraction and its unit: ("10", "km") -> "ten kilometers", ("1/2", "inch") -> "one half inch".

    A unit with no abbreviation here ("parsecs") is kept as written, a word the voice can say. None when
    `amount` is not a number.
    """
    fractional = re.fullmatch(r"(\d+)/(\d+)", amount)
    if fractional is not None:
        numerator, denominator = int(fractional[1]), int(fractional[2])
        words: str | None = fraction(numerator, denominator)
        singular = numerator <= denominator
    else:
        words = number(amount)
        singular = amount.lstrip("-−+") == "1"
    if words is None:
        return None
    return f"{words} {unit_words(unit, singular) or unit}"


_LETTER_NAMES = {"A": "eigh"}


def spell(text: str) -> str:
    """Letters and digits one by one ("ABC" -> "eigh B C", "R2" -> "R two"); other characters are dropped."""
    spoken = []
    for char in text:
        if char.isdigit() and char.isascii():
            spoken.append(_SMALL[int(char)])
        elif char.isalpha():
            spoken.append(_LETTER_NAMES.get(char.upper(), char.upper()))
    return " ".join(spoken)


# fmt: off
_SPOKEN_PUNCTUATION = {
    ".": "dot", "/": "slash", "-": "dash", "_": "underscore", "@": "at", ":": "colon", "?": "question mark",
    "=": "equals", "&": "and", "#": "hash", "~": "tilde", "%": "percent", "+": "plus",
}
# fmt: on
_TOP_LEVEL_DOMAINS = "com|org|net|edu|gov|io|co|uk|us|de|fr|ai|dev|app|info|biz|ca|au|eu|me|tv"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(rf"(?:https?://|www\.)\S+|[\w-]+(?:\.[\w-]+)*\.(?:{_TOP_LEVEL_DOMAINS})(?:/\S*)?", re.IGNORECASE)


def web_address(text: str) -> str:
    """A URL or email address read out: "www.example.com/a" -> "W W W dot example dot com slash a"."""
    text = re.sub(r"^https?://", "", text, flags=re.IGNORECASE).rstrip("/")
    spoken = []
    for piece in re.findall(r"[^\W\d_]+|\d+|.", text):
        if piece.lower() == "www":
            spoken.append(spell(piece))
        elif piece.isdigit():
            spoken.append(cardinal(int(piece)) if len(piece) < 5 else digits(piece))
        elif piece in _SPOKEN_PUNCTUATION:
            spoken.append(_SPOKEN_PUNCTUATION[piece])
        elif piece.isalpha():
            spoken.append(piece)
    return " ".join(spoken)


def is_web_address(text: str) -> bool:
    """Whether the text is a URL or an email address."""
    return bool(_EMAIL.fullmatch(text) or _URL.fullmatch(text))
