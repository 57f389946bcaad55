"""Built-in and custom slot types read from what people say, against a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest

from altostratus.bots.definitions import Resolution, SlotType, SlotTypeValue
from altostratus.bots.interpretations import Moment
from altostratus.bots.slot_values import find_in, resolve

MOMENT = Moment(dt.datetime(2026, 12, 3, 10, 0))  # a Thursday
ROOMS = SlotType(
    "RoomType",
    (SlotTypeValue("king", ("king size", "big bed")), SlotTypeValue("queen"), SlotTypeValue("deluxe", ("suite",))),
    Resolution.TOP_RESOLUTION,
)


@pytest.mark.parametrize(
    ("kind", "said", "value"),
    [
        ("AMAZON.Date", "tomorrow", "2026-12-04"),
        ("AMAZON.Date", "next friday", "2026-12-04"),
        ("AMAZON.Date", "the 12th", "2026-12-12"),
        ("AMAZON.Date", "the 2nd", "2027-01-02"),
        ("AMAZON.Date", "this weekend", "2026-12-05"),
        ("AMAZON.Date", "december 25th", "2026-12-25"),
        ("AMAZON.Date", "2027-01-15", "2027-01-15"),
        ("AMAZON.Time", "3 pm", "15:00"),
        ("AMAZON.Time", "noon", "12:00"),
        ("AMAZON.Time", "at 10:30", "10:30"),
        ("AMAZON.Number", "twenty one", "21"),
        ("AMAZON.Number", "4", "4"),
        ("AMAZON.Number", "two hundred and five", "205"),
        ("AMAZON.Duration", "two hours", "PT2H"),
        ("AMAZON.Duration", "3 days and 4 hours", "P3DT4H"),
        ("AMAZON.City", "new york", "New York City"),
        ("AMAZON.City", "paris", "Paris"),
        ("AMAZON.Country", "the united states", "United States"),
        ("AMAZON.State", "WA", "Washington"),
        ("AMAZON.FirstName", "maria", "Maria"),
        ("AMAZON.LastName", "o'brien", "O'Brien"),
        ("AMAZON.Confirmation", "yes please", "Yes"),
        ("AMAZON.Confirmation", "nope", "No"),
        ("AMAZON.EmailAddress", "john at example dot com", "john@example.com"),
        ("AMAZON.PhoneNumber", "555 123 4567", "5551234567"),
        ("AMAZON.AlphaNumeric", "a 1 2 b", "A12B"),
        ("AMAZON.UKPostalCode", "sw1a1aa", "SW1A 1AA"),
        ("AMAZON.FreeFormInput", "the room was too cold", "the room was too cold"),
    ],
)
def test_built_in_types_read_what_is_said(kind: str, said: str, value: str) -> None:
    found = resolve(kind, said, moment=MOMENT)
    assert found is not None and found.interpreted == value, found


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("AMAZON.Date", "blue"),
        ("AMAZON.Number", "many"),
        ("AMAZON.City", "nowhereville"),
        ("AMAZON.EmailAddress", "not an address"),
        ("AMAZON.PhoneNumber", "call me"),
        ("AMAZON.Confirmation", "yes and no"),
        ("AMAZON.Number", ""),
    ],
)
def test_words_that_are_not_a_value_are_none(kind: str, said: str) -> None:
    assert resolve(kind, said, moment=MOMENT) is None


def test_custom_types_resolve_synonyms_and_misspellings_to_their_value() -> None:
    for said, value in (("King Size", "king"), ("quen", "queen"), ("suite", "deluxe")):
        found = resolve("RoomType", said, moment=MOMENT, custom=ROOMS)
        assert found is not None and (found.original, found.interpreted) == (said, value)
    assert resolve("RoomType", "tent", moment=MOMENT, custom=ROOMS) is None


def test_original_value_keeps_the_words_and_lists_what_they_resolve_to() -> None:
    open_type = SlotType("Flavor", (SlotTypeValue("vanilla", ("plain",)),), Resolution.ORIGINAL_VALUE)
    plain = resolve("Flavor", "plain", moment=MOMENT, custom=open_type)
    assert plain is not None and (plain.interpreted, plain.resolved) == ("plain", ("vanilla",))
    new = resolve("Flavor", "pistachio", moment=MOMENT, custom=open_type)
    assert new is not None and new.interpreted == "pistachio"


def test_a_regex_filter_refuses_values_that_do_not_match() -> None:
    code = SlotType("Booking", pattern=r"[A-Z]{3}\d{3}", parent="AMAZON.AlphaNumeric")
    found = resolve("Booking", "ABC123", moment=MOMENT, custom=code)
    assert found is not None and found.interpreted == "ABC123"
    assert resolve("Booking", "AB1234", moment=MOMENT, custom=code) is None


def test_values_are_found_inside_an_answer() -> None:
    room = find_in("RoomType", "I would like a king size room please", moment=MOMENT, custom=ROOMS)
    assert room is not None and (room.original, room.interpreted) == ("king size", "king")
    date = find_in("AMAZON.Date", "I will arrive next friday I think", moment=MOMENT)
    assert date is not None and date.interpreted == "2026-12-04"
    city = find_in("AMAZON.City", "I am going to new york", moment=MOMENT)
    assert city is not None and city.original == "new york"


@pytest.mark.timeout(10)
def test_a_pattern_that_backtracks_for_ever_refuses_the_value_in_time() -> None:
    # (a|aa)+1 on forty a's takes minutes to fail in Python's re; the filter gives up after 50 ms.
    hostile = SlotType("Code", pattern="(a|aa)+1", parent="AMAZON.AlphaNumeric")
    assert resolve("Code", "a" * 40, moment=MOMENT, custom=hostile) is None
    assert resolve("Code", "aa1", moment=MOMENT, custom=hostile) is not None
