"""The dialog manager on a scripted NLU: slots, retries, confirmation, fallback, contexts and code hooks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from altostratus.bots.confirmation import read_confirmation
from altostratus.bots.dialog import DialogManager, Hooks, Turn
from altostratus.bots.errors import DependencyFailed
from altostratus.bots.hooks import BotIdentity, HookCall
from altostratus.bots.interpretations import Interpretation, Moment
from altostratus.bots.session import Confirmation, IntentState, Session, Step
from altostratus.bots.yaml_format import load_bot
from tests.bots.dialog_fakes import RecordingHooks, ScriptedNlu, value

LOCALE = load_bot((Path(__file__).resolve().parents[2] / "examples" / "bots" / "booktrip.yaml").read_text()).locales[0]
NOW = Moment(dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC))
PARIS = {"Location": value("paris", "Paris")}
READINGS = {
    "book a hotel": [Interpretation("BookHotel", 0.95), Interpretation("BookCar", 0.03)],
    "book a king room in paris for 3 nights from tomorrow": [
        Interpretation(
            "BookHotel",
            0.97,
            {
                **PARIS,
                "Nights": value("3"),
                "RoomType": value("king"),
                "CheckInDate": value("tomorrow", "2026-12-04"),
            },
        )
    ],
    "make that 4 nights": [Interpretation("BookHotel", 0.8, {"Nights": value("4")})],
    "i need a car": [Interpretation("BookCar", 0.93)],
    "purple monkey dishwasher": [Interpretation("BookHotel", 0.12), Interpretation("BookCar", 0.1)],
}
ANSWERS = {
    ("Location", "paris"): value("paris", "Paris"),
    ("CheckInDate", "tomorrow"): value("tomorrow", "2026-12-04"),
    ("Nights", "three"): value("three", "3"),
    ("RoomType", "a big bed"): value("a big bed", "king"),
    ("ReturnDate", "on the 9th"): value("on the 9th", "2026-12-09"),
    ("DriverAge", "30"): value("30"),
    ("CarType", "compact"): value("compact", "economy"),
}
BOT = BotIdentity("BOTID12345", "BookTrip", "TSTALIASID", "TestBotAlias", "en_US", "DRAFT")


def first(choices: Any) -> Any:
    return choices[0]


@pytest.fixture
def manager() -> DialogManager:
    return DialogManager(LOCALE, ScriptedNlu(READINGS, ANSWERS), choose=first)


def say(manager: DialogManager, session: Session, text: str, hooks: Hooks | None = None) -> Turn:
    return manager.turn(session, text, moment=NOW, hooks=hooks)


def said(turn: Turn) -> str:
    return " ".join(message["content"] for message in turn.messages)


def hooks(answer: Any) -> tuple[Hooks, RecordingHooks]:
    runner = RecordingHooks(answer)
    return Hooks(runner, HookCall(BOT, "booking-hook", "", [], {})), runner


def test_slots_one_by_one_then_confirmed_and_fulfilled(manager: DialogManager) -> None:
    session = Session("s1")
    assert said(say(manager, session, "book a hotel")) == "What city will you be staying in?"
    assert (session.step, session.slot_to_elicit, session.state) == (
        Step.ELICIT_SLOT,
        "Location",
        IntentState.IN_PROGRESS,
    )
    assert said(say(manager, session, "paris")) == "What day do you want to check in?"
    assert said(say(manager, session, "tomorrow")) == "How many nights will you be staying?"
    assert said(say(manager, session, "three")).startswith("What type of room")
    confirm = said(say(manager, session, "a big bed"))
    assert confirm == (
        "Okay, I have you down for a 3 night stay in Paris starting 2026-12-04. Shall I book the reservation?"
    )
    assert session.step is Step.CONFIRM_INTENT
    assert said(say(manager, session, "yes")) == "Thanks, I have placed your reservation."
    assert (session.state, session.confirmation, session.step) == (
        IntentState.FULFILLED,
        Confirmation.CONFIRMED,
        Step.CLOSE,
    )
    assert session.slots["RoomType"] == value("a big bed", "king")


def test_all_slots_at_once_go_straight_to_confirmation(manager: DialogManager) -> None:
    session = Session("s2")
    turn = say(manager, session, "book a king room in paris for 3 nights from tomorrow")
    assert session.step is Step.CONFIRM_INTENT and "3 night stay in Paris" in said(turn)


def test_a_correction_at_confirmation_is_taken_and_confirmed_again(manager: DialogManager) -> None:
    session = Session("s3")
    say(manager, session, "book a king room in paris for 3 nights from tomorrow")
    turn = say(manager, session, "make that 4 nights")
    assert session.step is Step.CONFIRM_INTENT and "4 night stay" in said(turn)


def test_a_denial_says_the_declination_and_fails_the_intent(manager: DialogManager) -> None:
    session = Session("s4")
    say(manager, session, "book a king room in paris for 3 nights from tomorrow")
    turn = say(manager, session, "no")
    assert said(turn) == "Okay, I have cancelled your reservation in progress."
    assert (session.state, session.confirmation, session.step) == (IntentState.FAILED, Confirmation.DENIED, Step.CLOSE)


def test_answers_that_do_not_fit_are_prompted_again_until_the_retries_run_out(manager: DialogManager) -> None:
    session = Session("s5")
    say(manager, session, "book a hotel")
    for _ in range(2):
        assert said(say(manager, session, "blah")) == "What city will you be staying in?"
        assert session.state is IntentState.IN_PROGRESS
    turn = say(manager, session, "blah")
    assert (session.state, session.step) == (IntentState.FAILED, Step.CLOSE) and said(turn)


def test_nonsense_goes_to_the_fallback_intent(manager: DialogManager) -> None:
    session = Session("s6")
    turn = say(manager, session, "purple monkey dishwasher")
    assert turn.interpretations[0].intent == "FallbackIntent"
    assert [i.intent for i in turn.interpretations[1:]] == ["BookHotel", "BookCar"]
    assert said(turn) == "Sorry, I can book hotels and cars. What would you like to do?"
    assert (session.intent, session.state, session.step) == ("FallbackIntent", IntentState.FULFILLED, Step.CLOSE)


def test_a_new_intent_asked_for_mid_slot_replaces_the_old_one(manager: DialogManager) -> None:
    session = Session("s7")
    say(manager, session, "book a hotel")
    turn = say(manager, session, "i need a car")
    assert session.intent == "BookCar" and said(turn) == "In what city do you need to rent a car?"


def test_the_car_starts_from_the_hotel_booking_through_its_context(manager: DialogManager) -> None:
    session = Session("s8")
    say(manager, session, "book a king room in paris for 3 nights from tomorrow")
    say(manager, session, "yes")
    assert [c.name for c in session.contexts] == ["HotelBooked"]
    turn = say(manager, session, "i need a car")
    assert session.slots["PickUpCity"] == value("Paris")
    assert session.slots["PickUpDate"] == value("2026-12-04")
    assert said(turn) == "What day do you want to return the car?"


def test_contexts_end_after_their_turns() -> None:
    manager = DialogManager(LOCALE, ScriptedNlu(READINGS, ANSWERS), choose=first)
    session = Session("s9")
    say(manager, session, "book a king room in paris for 3 nights from tomorrow")
    say(manager, session, "yes")
    for _ in range(5):
        say(manager, session, "purple monkey dishwasher")
    assert session.contexts == []
    say(manager, session, "i need a car")
    assert session.slots["PickUpCity"] is None


def test_a_dialog_hook_that_delegates_leaves_the_dialog_to_the_bot(manager: DialogManager) -> None:
    def delegate(event: Mapping[str, Any]) -> Any:
        intent = event["sessionState"]["intent"]
        return {"sessionState": {"dialogAction": {"type": "Delegate"}, "intent": intent}}

    wiring, runner = hooks(delegate)
    session = Session("s10")
    assert said(say(manager, session, "book a hotel", wiring)) == "What city will you be staying in?"
    event = runner.events[0]
    assert event["invocationSource"] == "DialogCodeHook" and event["inputTranscript"] == "book a hotel"
    assert event["sessionState"]["intent"]["name"] == "BookHotel"
    assert event["interpretations"][0]["nluConfidence"] == {"score": 0.95}
    assert event["bot"]["name"] == "BookTrip" and event["sessionId"] == "s10"


def test_a_dialog_hook_validates_a_slot_and_asks_again(manager: DialogManager) -> None:
    def validate(event: Mapping[str, Any]) -> Any:
        intent = event["sessionState"]["intent"]
        nights = intent["slots"].get("Nights")
        if nights and int(nights["value"]["interpretedValue"]) > 2:
            intent["slots"]["Nights"] = None
            return {
                "sessionState": {"dialogAction": {"type": "ElicitSlot", "slotToElicit": "Nights"}, "intent": intent},
                "messages": [{"contentType": "PlainText", "content": "At most 2 nights, please."}],
            }
        return {"sessionState": {"dialogAction": {"type": "Delegate"}, "intent": intent}}

    wiring, _ = hooks(validate)
    session = Session("s11")
    turn = say(manager, session, "book a king room in paris for 3 nights from tomorrow", wiring)
    assert said(turn) == "At most 2 nights, please."
    assert (session.step, session.slot_to_elicit, session.slots["Nights"]) == (Step.ELICIT_SLOT, "Nights", None)


def test_the_fulfilment_hook_answers_and_closes(manager: DialogManager) -> None:
    def fulfil(event: Mapping[str, Any]) -> Any:
        if event["invocationSource"] == "DialogCodeHook":
            return {"sessionState": {"dialogAction": {"type": "Delegate"}, "intent": event["sessionState"]["intent"]}}
        intent = {**event["sessionState"]["intent"], "state": "Fulfilled"}
        return {
            "sessionState": {"dialogAction": {"type": "Close"}, "intent": intent, "sessionAttributes": {"ref": "H42"}},
            "messages": [{"contentType": "PlainText", "content": "Booked, reference H42."}],
        }

    wiring, runner = hooks(fulfil)
    session = Session("s12")
    say(manager, session, "book a king room in paris for 3 nights from tomorrow", wiring)
    turn = say(manager, session, "yes", wiring)
    assert said(turn) == "Booked, reference H42." and session.state is IntentState.FULFILLED
    assert session.attributes == {"ref": "H42"}
    assert runner.events[-1]["invocationSource"] == "FulfillmentCodeHook"
    assert runner.events[-1]["sessionState"]["intent"]["confirmationState"] == "Confirmed"


@pytest.mark.parametrize(
    "answer",
    [{"messages": []}, {"sessionState": {"dialogAction": {"type": "Sing"}}}, "not json", {"sessionState": {}}],
)
def test_a_hook_answer_lex_cannot_use_is_a_dependency_failure(manager: DialogManager, answer: Any) -> None:
    wiring, _ = hooks(lambda event: answer)
    with pytest.raises(DependencyFailed, match="Invalid Lambda Response"):
        say(manager, Session("s13"), "book a hotel", wiring)


def test_a_failing_hook_is_a_dependency_failure(manager: DialogManager) -> None:
    def fail(event: Mapping[str, Any]) -> Any:
        raise DependencyFailed("Invalid Lambda Response: the function failed: KeyError 'x'")

    wiring, _ = hooks(fail)
    with pytest.raises(DependencyFailed, match="the function failed"):
        say(manager, Session("s14"), "book a hotel", wiring)


def test_a_session_round_trips_through_json(manager: DialogManager) -> None:
    session = Session("s15")
    say(manager, session, "book a king room in paris for 3 nights from tomorrow")
    say(manager, session, "yes")
    assert Session.from_json(session.to_json()) == session


@pytest.mark.parametrize(
    ("text", "read"),
    [("yes", "Yes"), ("Yeah, go ahead", "Yes"), ("sure", "Yes"), ("no", "No"), ("nope, cancel it", "No")],
)
def test_yes_and_no_are_read_in_the_words_people_use(text: str, read: str) -> None:
    assert read_confirmation(text) == read


@pytest.mark.parametrize("text", ["maybe", "yes and no", "what time is it"])
def test_an_answer_that_says_neither_is_not_a_confirmation(text: str) -> None:
    assert read_confirmation(text) is None
