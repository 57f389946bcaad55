"""The trained NLU on the BookTrip sample: intents, slots in sentences and in prompt answers, scope, storage."""

from __future__ import annotations

import datetime as dt

import pytest

from altostratus.bots.definitions import LocaleDefinition
from altostratus.bots.interpretations import Moment
from altostratus.bots.nlu.understanding import NluTrainer, Understanding

pytestmark = pytest.mark.slow

# A Thursday: "next friday" is 2026-12-04, "tomorrow" 2026-12-04, "the 12th" 2026-12-12.
MOMENT = Moment(dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC))


def values(nlu: Understanding, text: str) -> tuple[str, dict[str, str]]:
    top = nlu.interpret(text, moment=MOMENT)[0]
    return top.intent, {name: value.interpreted for name, value in top.slots.items()}


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("I want to book a hotel", "BookHotel", {}),
        ("book me a room in Paris for 3 nights", "BookHotel", {"Location": "Paris", "Nights": "3"}),
        (
            "reserve a king size room in Seattle for two nights starting next friday",
            "BookHotel",
            {"Location": "Seattle", "Nights": "2", "RoomType": "king", "CheckInDate": "2026-12-04"},
        ),
        ("I need to rent a car", "BookCar", {}),
        ("rent a compact car in Chicago", "BookCar", {"CarType": "economy", "PickUpCity": "Chicago"}),
    ],
)
def test_sentences_are_read_as_their_intent_with_their_slots(
    booktrip_nlu: Understanding, text: str, intent: str, slots: dict[str, str]
) -> None:
    found_intent, found_slots = values(booktrip_nlu, text)
    assert found_intent == intent
    assert found_slots == slots


def test_interpretations_are_ranked_confidences_at_most_five(booktrip_nlu: Understanding) -> None:
    ranked = booktrip_nlu.interpret("book a hotel", moment=MOMENT)
    scores = [i.confidence for i in ranked]
    assert 1 <= len(ranked) <= 5 and scores == sorted(scores, reverse=True)
    assert ranked[0].intent == "BookHotel" and scores[0] > 0.8
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len(booktrip_nlu.interpret("book a hotel", moment=MOMENT, limit=1)) == 1


@pytest.mark.parametrize(
    "text", ["what is the capital of peru", "purple elephants sing quietly", "asdf qwerty zxcv", "tell me a joke"]
)
def test_what_the_bot_does_not_cover_falls_below_the_threshold(
    booktrip_nlu: Understanding, booktrip: LocaleDefinition, text: str
) -> None:
    top = booktrip_nlu.interpret(text, moment=MOMENT)[0]
    assert top.confidence < booktrip.confidence_threshold, top


@pytest.mark.parametrize(
    ("slot", "answer", "expected"),
    [
        ("Location", "Seattle", "Seattle"),
        ("Location", "I'll be staying in Boston", "Boston"),
        ("CheckInDate", "next friday", "2026-12-04"),
        ("CheckInDate", "on the 12th please", "2026-12-12"),
        ("Nights", "three", "3"),
        ("Nights", "for 4 nights", "4"),
        ("RoomType", "kng", "king"),
        ("RoomType", "I'd like a suite", "deluxe"),
    ],
)
def test_answers_to_a_prompt_fill_the_slot(booktrip_nlu: Understanding, slot: str, answer: str, expected: str) -> None:
    value = booktrip_nlu.fill_slot("BookHotel", slot, answer, moment=MOMENT)
    assert value is not None and value.interpreted == expected, value


@pytest.mark.parametrize(("slot", "answer"), [("RoomType", "a tent"), ("Nights", "many"), ("CheckInDate", "blue")])
def test_answers_that_are_not_values_leave_the_slot_empty(booktrip_nlu: Understanding, slot: str, answer: str) -> None:
    assert booktrip_nlu.fill_slot("BookHotel", slot, answer, moment=MOMENT) is None


def test_relative_dates_follow_the_session_clock(booktrip_nlu: Understanding) -> None:
    later = Moment(dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC))
    value = booktrip_nlu.fill_slot("BookHotel", "CheckInDate", "tomorrow", moment=later)
    assert value is not None and value.interpreted == "2027-03-02"


def test_a_stored_model_loads_to_the_same_answers(booktrip_nlu: Understanding, booktrip: LocaleDefinition) -> None:
    data = booktrip_nlu.to_bytes()
    assert not data.startswith(b"\x80")  # a numpy archive (a zip), never a pickle
    loaded = NluTrainer().load(data, booktrip)
    for text in ("book me a room in Paris for 3 nights", "rent a compact car in Chicago", "tell me a joke"):
        assert loaded.interpret(text, moment=MOMENT) == booktrip_nlu.interpret(text, moment=MOMENT)


def test_a_model_of_another_format_is_refused(booktrip: LocaleDefinition) -> None:
    with pytest.raises(ValueError):
        NluTrainer().load(b"PK\x03\x04 not an archive", booktrip)
