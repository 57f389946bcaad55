"""SSML <say-as>: each interpret-as Polly documents, and the errors for what it cannot read."""

from __future__ import annotations

import pytest

from altostratus.speech.errors import InvalidSsml
from altostratus.speech.say_as import BEEP, say_as


@pytest.mark.parametrize(
    ("text", "interpret_as", "words"),
    [
        ("ABC", "characters", "eigh B C"),
        ("hello", "spell-out", "H E L L O"),
        ("R2D2", "characters", "R two D two"),
        ("1,234", "cardinal", "one thousand two hundred thirty-four"),
        ("1234", "number", "one thousand two hundred thirty-four"),
        ("-3.5", "cardinal", "minus three point five"),
        ("1234", "ordinal", "one thousand two hundred thirty-fourth"),
        ("21st", "ordinal", "twenty-first"),
        ("3", "ordinal", "third"),
        ("123", "digits", "one two three"),
        ("1-2-3-4", "digits", "one two three four"),
        ("3/20", "fraction", "three twentieths"),
        ("1/2", "fraction", "one half"),
        ("2+1/2", "fraction", "two and a half"),
        ("2 1/2", "fraction", "two and a half"),
        ("2½", "fraction", "two and a half"),
        ("10ft", "unit", "ten feet"),
        ("10 ft", "unit", "ten feet"),
        ("1/2inch", "unit", "one half inch"),
        ("1meter", "unit", "one meter"),
        ("3 parsecs", "unit", "three parsecs"),
        ("1'21\"", "time", "one minute twenty-one seconds"),
        ("2'", "time", "two minutes"),
        ("1'1\"", "time", "one minute one second"),
        ('45"', "time", "forty-five seconds"),
        ("3:30pm", "time", "three thirty P M"),
        ("3:30 p.m.", "time", "three thirty P M"),
        ("14:05", "time", "fourteen oh five"),
        ("2025551212", "telephone", "two zero two, five five five, one two one two"),
        ("5551212", "telephone", "five five five, one two one two"),
        ("202-555-1212", "telephone", "two zero two, five five five, one two one two"),
        ("2025551212x345", "telephone", "two zero two, five five five, one two one two, extension three four five"),
        ("123 Main St.", "address", "one twenty-three Main Street"),
        ("12 Oak Dr", "address", "twelve Oak Drive"),
        ("1600 Pennsylvania Ave NW", "address", "sixteen hundred Pennsylvania Avenue Northwest"),
        ("Seattle, WA 98101", "address", "Seattle, Washington nine eight one zero one"),
        ("wow", "interjection", "wow"),
        ("darn", "expletive", BEEP),
    ],
)
def test_say_as(text: str, interpret_as: str, words: str) -> None:
    assert say_as(text, interpret_as) == words


def test_an_expletive_is_the_beep_marker() -> None:
    assert BEEP == "\x00BEEP\x00"


@pytest.mark.parametrize(
    ("text", "format", "words"),
    [
        ("09/22/2016", "mdy", "September twenty-second, twenty sixteen"),
        ("22-09-2016", "dmy", "September twenty-second, twenty sixteen"),
        ("2016.09.22", "ymd", "September twenty-second, twenty sixteen"),
        ("September 22, 2016", "mdy", "September twenty-second, twenty sixteen"),
        ("22 Sept. 2016", "dmy", "September twenty-second, twenty sixteen"),
        ("09/22", "md", "September twenty-second"),
        ("22/09", "dm", "September twenty-second"),
        ("2016/09", "ym", "September twenty sixteen"),
        ("09/2016", "my", "September twenty sixteen"),
        ("22", "d", "the twenty-second"),
        ("9", "m", "September"),
        ("2016", "y", "twenty sixteen"),
        ("20160922", "yyyymmdd", "September twenty-second, twenty sixteen"),
        ("????0922", "yyyymmdd", "September twenty-second"),
        ("201609??", "yyyymmdd", "September twenty sixteen"),
        ("2016????", "yyyymmdd", "twenty sixteen"),
        ("??/22/2016", "mdy", "the twenty-second, twenty sixteen"),
    ],
)
def test_date(text: str, format: str, words: str) -> None:
    assert say_as(text, "date", format=format) == words


def test_detail_changes_nothing() -> None:
    assert say_as("123", "cardinal", detail="1") == "one hundred twenty-three"


def test_surrounding_space_is_ignored() -> None:
    assert say_as("  42 ", "cardinal") == "forty-two"


@pytest.mark.parametrize(
    ("text", "interpret_as", "format", "message"),
    [
        ("x", "bogus", None, "interpret-as='bogus'; expected one of ['address', 'cardinal'"),
        ("abc", "cardinal", None, "interpret-as='cardinal' cannot read 'abc'"),
        ("first", "ordinal", None, "interpret-as='ordinal' cannot read 'first'"),
        ("abc", "digits", None, "interpret-as='digits'"),
        ("half", "fraction", None, "interpret-as='fraction'"),
        ("ft", "unit", None, "interpret-as='unit'"),
        ("09/22/2016", "date", None, "format=None; expected one of ['mdy'"),
        ("09/22/2016", "date", "xyz", "format='xyz'"),
        ("13/40/2016", "date", "mdy", "interpret-as='date' cannot read '13/40/2016'"),
        ("09/22", "date", "mdy", "interpret-as='date'"),
        ("2016-09", "date", "yyyymmdd", "interpret-as='date'"),
        ("????????", "date", "yyyymmdd", "interpret-as='date'"),
        ("soon", "time", None, "interpret-as='time'"),
        ("25:00", "time", None, "interpret-as='time'"),
        ("call me", "telephone", None, "interpret-as='telephone'"),
        ("!!", "characters", None, "interpret-as='characters'"),
        ("", "interjection", None, "interpret-as='interjection'"),
    ],
)
def test_what_cannot_be_read_is_invalid_ssml(text: str, interpret_as: str, format: str | None, message: str) -> None:
    with pytest.raises(InvalidSsml, match="say-as") as raised:
        say_as(text, interpret_as, format=format)
    assert message in str(raised.value)
