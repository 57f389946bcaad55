"""English text normalisation: written tokens into spoken words, and where sentences end."""

from __future__ import annotations

import pytest

from altostratus.speech.normalize import ends_sentence, spoken_words
from altostratus.speech.readings import cardinal, clock, date, fraction, money, number, ordinal, telephone, year


def spoken(text: str) -> list[str]:
    return spoken_words(text.split())


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (21, "twenty-one"),
        (100, "one hundred"),
        (103, "one hundred three"),
        (1234, "one thousand two hundred thirty-four"),
        (1_000_000, "one million"),
        (2_000_000_005, "two billion five"),
        (-7, "minus seven"),
    ],
)
def test_cardinal(value: int, words: str) -> None:
    assert cardinal(value) == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (12, "twelfth"),
        (20, "twentieth"),
        (21, "twenty-first"),
        (103, "one hundred third"),
        (1000, "one thousandth"),
    ],
)
def test_ordinal(value: int, words: str) -> None:
    assert ordinal(value) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1,234", "one thousand two hundred thirty-four"),
        ("1,000,000", "one million"),
        ("3.14", "three point one four"),
        ("-7", "minus seven"),
        ("-0.5", "minus zero point five"),
        (".5", "point five"),
        ("007", "zero zero seven"),
        ("1,23", None),
        ("abc", None),
        ("", None),
    ],
)
def test_number(text: str, words: str | None) -> None:
    assert number(text) == words


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1999, "nineteen ninety-nine"),
        (2005, "two thousand five"),
        (2000, "two thousand"),
        (2026, "twenty twenty-six"),
        (2010, "twenty ten"),
        (1905, "nineteen oh five"),
        (1900, "nineteen hundred"),
        (1066, "ten sixty-six"),
        (867, "eight sixty-seven"),
    ],
)
def test_year(value: int, words: str) -> None:
    assert year(value) == words


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ((1, 2, None), "one half"),
        ((3, 4, None), "three quarters"),
        ((3, 20, None), "three twentieths"),
        ((1, 3, None), "one third"),
        ((2, 3, None), "two thirds"),
        ((1, 2, 2), "two and a half"),
        ((3, 4, 5), "five and three quarters"),
    ],
)
def test_fraction(parts: tuple[int, int, int | None], words: str) -> None:
    assert fraction(*parts) == words


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("3.50", "$"), "three dollars fifty"),
        (("1", "$"), "one dollar"),
        (("0.99", "$"), "ninety-nine cents"),
        (("0.01", "$"), "one cent"),
        (("1,000.00", "$"), "one thousand dollars"),
        (("20", "€"), "twenty euros"),
        (("5.99", "£"), "five pounds ninety-nine"),
        (("0.50", "£"), "fifty pence"),
        (("100", "¥"), "one hundred yen"),
        (("3.999", "$"), "three point nine nine nine dollars"),
        (("x", "$"), None),
        (("5", "#"), None),
    ],
)
def test_money(args: tuple[str, str], words: str | None) -> None:
    assert money(*args) == words


def test_money_with_a_scale_reads_the_amount_as_a_number() -> None:
    assert money("1.5", "$", "million") == "one point five million dollars"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((3, 30), "three thirty"),
        ((3, 5), "three oh five"),
        ((3, 0), "three o'clock"),
        ((14, 0), "fourteen hundred"),
        ((14, 5), "fourteen oh five"),
    ],
)
def test_clock(args: tuple[int, int], words: str) -> None:
    assert clock(*args) == words


def test_clock_with_meridiem_and_seconds() -> None:
    assert clock(10, 0, meridiem="am") == "ten eigh M"
    assert clock(3, 30, meridiem="pm") == "three thirty P M"
    assert clock(14, 5, 30) == "fourteen oh five and thirty seconds"


def test_date_parts_may_be_missing() -> None:
    assert date(2026, 12, 2) == "December second, twenty twenty-six"
    assert date(None, 12, 2) == "December second"
    assert date(2026, 12) == "December twenty twenty-six"
    assert date(None, None, 2) == "the second"
    assert date(2026) == "twenty twenty-six"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2025551212", "two zero two, five five five, one two one two"),
        ("5551234", "five five five, one two three four"),
        ("555-1234", "five five five, one two three four"),
        ("(555) 123-4567", "five five five, one two three, four five six seven"),
        ("1-800-555-1234", "one, eight zero zero, five five five, one two three four"),
        ("+44 20 7946 0958", "plus four four, two zero, seven nine four six, zero nine five eight"),
        ("2025551212x345", "two zero two, five five five, one two one two, extension three four five"),
        ("call me", None),
    ],
)
def test_telephone(text: str, words: str | None) -> None:
    assert telephone(text) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # Numbers.
        ("1,234 people", ["one thousand two hundred thirty-four", "people"]),
        ("1,000,000", ["one million"]),
        ("pi is 3.14", ["pi", "is", "three point one four"]),
        ("-7 degrees", ["minus seven", "degrees"]),
        ("1st", ["first"]),
        ("the 2nd, 21st and 103rd.", ["the", "second,", "twenty-first", "and", "one hundred third."]),
        ("2nd.", ["second."]),
        ("1.", ["one."]),
        # Money.
        ("$3.50", ["three dollars fifty"]),
        ("$1", ["one dollar"]),
        ("$0.99", ["ninety-nine cents"]),
        ("€20", ["twenty euros"]),
        ("£5.99", ["five pounds ninety-nine"]),
        ("20€", ["twenty euros"]),
        ("$1.5M", ["one point five million dollars"]),
        ("$2 billion", ["two", "billion dollars"]),
        ("$ 5", ["", "five dollars"]),
        ("$ 2 million", ["", "two", "million dollars"]),
        ("-$5", ["minus five dollars"]),
        ("costs $3.50.", ["costs", "three dollars fifty."]),
        # Percentages.
        ("45%", ["forty-five percent"]),
        ("3.5%", ["three point five percent"]),
        ("45 %", ["forty-five", "percent"]),
        # Years.
        ("in 1999", ["in", "nineteen ninety-nine"]),
        ("2005", ["two thousand five"]),
        ("2026", ["twenty twenty-six"]),
        ("in 1066", ["in", "ten sixty-six"]),
        ("1066", ["one thousand sixty-six"]),
        ("3000", ["three thousand"]),
        ("the 1990s", ["the", "nineteen nineties"]),
        ("the '80s", ["the", "eighties"]),
        # Dates.
        ("12/02/2026", ["December second, twenty twenty-six"]),
        ("2026-12-02", ["December second, twenty twenty-six"]),
        ("25/12/2026", ["December twenty-fifth, twenty twenty-six"]),
        ("02.12.2026", ["December second, twenty twenty-six"]),
        ("Dec. 2", ["December", "second"]),
        ("Dec 2", ["December", "second"]),
        ("May 2nd, 2021", ["May", "second,", "twenty twenty-one"]),
        ("2 May 2021", ["the second of", "May", "twenty twenty-one"]),
        # Times.
        ("3:30", ["three thirty"]),
        ("3:05", ["three oh five"]),
        ("3:30pm", ["three thirty P M"]),
        ("10 a.m.", ["ten eigh M.", ""]),
        ("10 A.M. today", ["ten eigh M", "", "today"]),
        ("10 AM", ["ten eigh M", ""]),
        ("10am", ["ten eigh M"]),
        ("10:30 p.m. today", ["ten thirty P M", "", "today"]),
        ("14:05", ["fourteen oh five"]),
        ("12:00", ["twelve o'clock"]),
        ("at 10 a.m. tomorrow", ["at", "ten eigh M", "", "tomorrow"]),
        # Abbreviations.
        ("Dr. Smith", ["Doctor", "Smith"]),
        ("I saw the Dr.", ["I", "saw", "the", "Doctor."]),
        ("Mulholland Dr. is long", ["Mulholland", "Drive", "is", "long"]),
        ("Elm St.", ["Elm", "Street."]),
        ("Elm St. is", ["Elm", "Street", "is"]),
        ("St. Louis", ["Saint", "Louis"]),
        ("Mr. Mrs. Ms. Prof.", ["Mister", "Missus", "Miz", "Professor."]),
        ("Mr Smith", ["Mister", "Smith"]),
        ("Bob Jr. said", ["Bob", "Junior", "said"]),
        ("apples, pears, etc.", ["apples,", "pears,", "et cetera."]),
        ("etc., and", ["et cetera,", "and"]),
        ("e.g. Paris", ["for example", "Paris"]),
        ("i.e. this", ["that is", "this"]),
        ("cats vs. dogs", ["cats", "versus", "dogs"]),
        ("approx. 5", ["approximately", "five"]),
        ("No. 5", ["number", "five"]),
        ("no. 7", ["number", "seven"]),
        ("I said No.", ["I", "said", "No."]),
        ("U.S. Army", ["U S", "Army"]),
        ("a.k.a. Bob", ["also known as", "Bob"]),
        # Units.
        ("10 km", ["ten", "kilometers"]),
        ("1 km", ["one", "kilometer"]),
        ("5kg", ["five kilograms"]),
        ("3 ft", ["three", "feet"]),
        ("1 ft", ["one", "foot"]),
        ("5 ft. tall", ["five", "feet", "tall"]),
        ("20°C", ["twenty degrees Celsius"]),
        ("-5°C", ["minus five degrees Celsius"]),
        ("1°C", ["one degree Celsius"]),
        ("60 mph", ["sixty", "miles per hour"]),
        ("100 MB", ["one hundred", "megabytes"]),
        ("5 ml", ["five", "milliliters"]),
        ("5.5 km/h", ["five point five", "kilometers per hour"]),
        ("5in", ["five inches"]),
        ("5 in the box", ["five", "in", "the", "box"]),
        # Fractions and ranges.
        ("1/2", ["one half"]),
        ("3/4", ["three quarters"]),
        ("2 1/2", ["two", "and a half"]),
        ("½", ["one half"]),
        ("2¾", ["two and three quarters"]),
        ("10-20", ["ten to twenty"]),
        ("10-20%", ["ten to twenty percent"]),
        ("1990-1995", ["nineteen ninety to nineteen ninety-five"]),
        # Telephone numbers.
        ("555-1234", ["five five five, one two three four"]),
        ("(555) 123-4567", ["five five five,", "one two three, four five six seven"]),
        ("555-123-4567", ["five five five, one two three, four five six seven"]),
        # Roman numerals, only where safe.
        ("World War II", ["World", "War", "two"]),
        ("World War I.", ["World", "War", "one."]),
        ("Henry VIII", ["Henry", "the eighth"]),
        ("Elizabeth II", ["Elizabeth", "the second"]),
        ("Chapter IV", ["Chapter", "four"]),
        ("I went", ["I", "went"]),
        ("MIX IV", ["MIX", "IV"]),
        # Acronyms are left for the engine to spell.
        ("NASA and the FBI", ["NASA", "and", "the", "FBI"]),
        # Symbols.
        ("salt & pepper", ["salt", "and", "pepper"]),
        ("R&D", ["R and D"]),
        ("2+2=4", ["two plus two equals four"]),
        ("a + b = c", ["a", "plus", "b", "equals", "c"]),
        ("#1", ["number one"]),
        ("#tbt", ["hashtag tbt"]),
        ("meet @ noon", ["meet", "at", "noon"]),
        ("24/7", ["twenty-four seven"]),
        ("COVID-19", ["COVID nineteen"]),
        ("MP3", ["MP three"]),
        # URLs and emails.
        ("john.doe@example.com", ["john dot doe at example dot com"]),
        ("www.example.com/path", ["W W W dot example dot com slash path"]),
        ("https://foo.org/", ["foo dot org"]),
        ("example.com.", ["example dot com."]),
        # Punctuation.
        ("(see", ["see"]),
        ('"planks."', ["planks."]),
        ("what?!", ["what?!"]),
        ("word — word", ["word,", "", "word"]),
        ("wait , then", ["wait,", "", "then"]),
        ("— start", ["", "start"]),
    ],
)
def test_spoken_words(text: str, words: list[str]) -> None:
    assert spoken(text) == words


def test_one_output_per_token() -> None:
    text = "On 12/02/2026 Dr. Smith paid $ 3.50 for 10 km at 3:30 pm , e.g. 45% ( of 1,000 ) ."
    tokens = text.split()
    assert len(spoken_words(tokens)) == len(tokens)


def test_empty_input() -> None:
    assert spoken_words([]) == []


@pytest.mark.parametrize("language", ["de-DE", "fr-FR", "es-US", "ja-JP"])
def test_other_languages_come_back_unchanged(language: str) -> None:
    tokens = ["Dr.", "Müller", "zahlt", "$3.50", "am", "12/02/2026."]
    assert spoken_words(tokens, language) == tokens


@pytest.mark.parametrize("language", ["en-GB", "en-AU", "en-IN", "EN-us"])
def test_every_english_is_normalised(language: str) -> None:
    assert spoken_words(["$1"], language) == ["one dollar"]


@pytest.mark.parametrize(
    ("token", "following", "ends"),
    [
        ("planks.", "The", True),
        ("planks.", "the", True),
        ("planks.", None, True),
        ("planks", "The", False),
        ("planks,", "The", False),
        ("What?", "the", True),
        ("Wow!", "We", True),
        ('said."', "Then", True),
        ("it.)", "Then", True),
        ("Dr.", "Smith", False),
        ("Dr.", "smith", False),
        ("Dr.", None, True),
        ("Mr.", "Jones", False),
        ("St.", "Louis", False),
        ("e.g.", "Paris", False),
        ("e.g.", "apples", False),
        ("(e.g.", "Paris", False),
        ("i.e.", "The", False),
        ("vs.", "Them", False),
        ("No.", "5", False),
        ("No.", "Then", True),
        ("U.S.", "Army", False),
        ("U.S.", "army", False),
        ("U.S.", "The", True),
        ("U.S.", None, True),
        ("J.", "Smith", False),
        ("etc.", "The", True),
        ("etc.", "and", False),
        ("Inc.", "It", True),
        ("a.m.", "tomorrow", False),
        ("a.m.", "Then", True),
        ("10a.m.", "tomorrow", False),
        ("Dec.", "2", False),
        ("wait...", "what", False),
        ("wait...", "What", True),
        ("3.50.", "The", True),
    ],
)
def test_ends_sentence(token: str, following: str | None, ends: bool) -> None:
    assert ends_sentence(token, following) is ends


def test_a_period_that_ends_the_sentence_after_an_abbreviation_is_kept() -> None:
    assert spoken_words(["apples", "etc.", "The", "end."]) == ["apples", "et cetera.", "The", "end."]
    assert spoken_words(["the", "U.S.", "The", "end."]) == ["the", "U S.", "The", "end."]
