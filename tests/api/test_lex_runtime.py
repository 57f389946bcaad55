"""Whole conversations with the BookTrip sample bot through boto3's lexv2-runtime on a live server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from tests.api.function_tools import create_function
from tests.api.lex_bots import EXAMPLES, HOTEL_HOOK, Chat, action, import_bot, said, slots
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lex(server: LiveServer) -> Any:
    return server.client("lexv2-runtime")


@pytest.fixture(scope="module")
def booktrip(server: LiveServer) -> str:
    return import_bot(server, EXAMPLES / "booktrip.yaml")


@pytest.fixture(scope="module")
def hooked(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """BookTrip with its code hooks calling a function that validates nights and fulfils the booking."""
    create_function(server.client("lambda"), "hotel-hook", HOTEL_HOOK, Timeout=2)
    text = (EXAMPLES / "booktrip.yaml").read_text()
    text = text.replace("bot: BookTrip", "bot: HookedTrip")
    text = text.replace("  en_US:\n", "  en_US:\n    code_hook: hotel-hook\n")
    path = Path(tmp_path_factory.mktemp("bots")) / "hooked.yaml"
    path.write_text(text)
    yield import_bot(server, path)


def day(offset: int, zone: str = "UTC") -> str:
    return (dt.datetime.now(ZoneInfo(zone)).date() + dt.timedelta(days=offset)).isoformat()


def test_slots_given_all_at_once_go_straight_to_confirmation(lex: Any, booktrip: str) -> None:
    answer = Chat(lex, booktrip).say("reserve a king size room in Seattle for two nights starting tomorrow")
    assert action(answer) == ("ConfirmIntent", None)
    assert slots(answer) == {"Location": "Seattle", "Nights": "2", "RoomType": "king", "CheckInDate": day(1)}
    assert f"2 night stay in Seattle starting {day(1)}" in said(answer)
    top = answer["interpretations"][0]
    assert top["intent"]["name"] == "BookHotel" and top["nluConfidence"]["score"] > 0.8
    assert len(answer["interpretations"]) <= 5


def test_slots_one_by_one_with_a_re_prompt_then_confirmed(lex: Any, booktrip: str) -> None:
    chat = Chat(lex, booktrip)
    assert action(chat.say("I want to book a hotel")) == ("ElicitSlot", "Location")
    assert action(chat.say("Boston")) == ("ElicitSlot", "CheckInDate")
    again = chat.say("blue")
    assert action(again) == ("ElicitSlot", "CheckInDate") and "check in" in said(again)
    assert action(chat.say("the day after tomorrow")) == ("ElicitSlot", "Nights")
    assert action(chat.say("three")) == ("ElicitSlot", "RoomType")
    confirm = chat.say("a suite please")
    assert action(confirm) == ("ConfirmIntent", None)
    assert slots(confirm) == {"Location": "Boston", "CheckInDate": day(2), "Nights": "3", "RoomType": "deluxe"}
    done = chat.say("yes")
    assert action(done) == ("Close", None)
    assert done["sessionState"]["intent"]["state"] == "Fulfilled"
    assert done["sessionState"]["intent"]["confirmationState"] == "Confirmed"
    assert said(done) == "Thanks, I have placed your reservation."


def test_a_correction_at_confirmation_and_then_a_denial(lex: Any, booktrip: str) -> None:
    chat = Chat(lex, booktrip)
    chat.say("book a queen room in Denver for 2 nights from tomorrow")
    corrected = chat.say("make that 4 nights")
    assert action(corrected) == ("ConfirmIntent", None) and slots(corrected)["Nights"] == "4"
    denied = chat.say("no")
    assert action(denied) == ("Close", None)
    assert denied["sessionState"]["intent"]["state"] == "Failed"
    assert said(denied) == "Okay, I have cancelled your reservation in progress."


def test_nonsense_goes_to_the_fallback_intent(lex: Any, booktrip: str) -> None:
    answer = Chat(lex, booktrip).say("purple elephants sing quietly")
    assert answer["sessionState"]["intent"]["name"] == "FallbackIntent"
    assert action(answer) == ("Close", None)
    assert "hotels and cars" in said(answer)
    assert answer["interpretations"][0]["intent"]["name"] == "FallbackIntent"


def test_the_car_is_offered_from_the_hotel_booking_through_its_context(lex: Any, booktrip: str) -> None:
    chat = Chat(lex, booktrip)
    chat.say("reserve a king size room in Seattle for two nights starting tomorrow")
    booked = chat.say("yes")
    assert [c["name"] for c in booked["sessionState"].get("activeContexts", [])] == ["HotelBooked"]
    car = chat.say("I need a rental car")
    assert action(car) == ("ElicitSlot", "ReturnDate")
    assert slots(car) == {"PickUpCity": "Seattle", "PickUpDate": day(1)}


def test_relative_dates_are_read_in_the_time_zone_asked_for(lex: Any, booktrip: str) -> None:
    zone = "Pacific/Kiritimati"  # UTC+14: its "tomorrow" is UTC's day after tomorrow for ten hours a day
    chat = Chat(lex, booktrip, **{"x-amz-lex:time-zone": zone})
    answer = chat.say("book a hotel in Miami starting tomorrow")
    assert slots(answer)["CheckInDate"] == day(1, zone)


def test_get_and_delete_session(lex: Any, booktrip: str) -> None:
    chat = Chat(lex, booktrip)
    chat.say("book a hotel in Paris")
    kept = lex.get_session(botId=booktrip, botAliasId="TSTALIASID", localeId="en_US", sessionId=chat.session_id)
    assert kept["sessionState"]["intent"]["name"] == "BookHotel"
    assert kept["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "CheckInDate"}
    lex.delete_session(botId=booktrip, botAliasId="TSTALIASID", localeId="en_US", sessionId=chat.session_id)
    with pytest.raises(ClientError) as gone:
        lex.get_session(botId=booktrip, botAliasId="TSTALIASID", localeId="en_US", sessionId=chat.session_id)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_hook_validates_a_slot_and_fulfils_the_intent(lex: Any, hooked: str) -> None:
    chat = Chat(lex, hooked)
    too_many = chat.say("reserve a king size room in Seattle for 45 nights starting tomorrow")
    assert action(too_many) == ("ElicitSlot", "Nights")
    assert said(too_many) == "You can stay at most 30 nights. How many nights?"
    assert action(chat.say("5")) == ("ConfirmIntent", None)
    done = chat.say("yes")
    assert done["sessionState"]["intent"]["state"] == "Fulfilled"
    assert said(done) == "Booked Seattle from the hook."


@pytest.mark.parametrize("how", ["failing", "slowly"])
def test_a_hook_that_fails_or_times_out_is_a_dependency_failure(lex: Any, hooked: str, how: str) -> None:
    chat = Chat(lex, hooked)
    with pytest.raises(ClientError) as failed:
        chat.say(f"book a hotel in Rome, {how}")
    error = failed.value.response
    assert error["Error"]["Code"] == "DependencyFailedException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert "Lambda" in error["Error"]["Message"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"text": "x" * 1025}, "ValidationException"),
        ({"text": ""}, "ValidationException"),
        ({"botId": "NOSUCHBOT1"}, "ResourceNotFoundException"),
        ({"botAliasId": "NOSUCHALIA"}, "ResourceNotFoundException"),
        ({"localeId": "fr_FR"}, "ResourceNotFoundException"),
    ],
)
def test_bad_requests_are_refused_with_lex_errors(
    server: LiveServer, booktrip: str, change: dict[str, str], code: str
) -> None:
    unchecked = server.client("lexv2-runtime", parameter_validation=False)
    request = {"botId": booktrip, "botAliasId": "TSTALIASID", "localeId": "en_US", "sessionId": "s-1", "text": "hi"}
    with pytest.raises(ClientError) as refused:
        unchecked.recognize_text(**{**request, **change})
    assert refused.value.response["Error"]["Code"] == code
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)


def test_a_session_state_the_server_cannot_honour_is_refused(lex: Any, booktrip: str) -> None:
    with pytest.raises(ClientError) as refused:
        lex.recognize_text(
            botId=booktrip,
            botAliasId="TSTALIASID",
            localeId="en_US",
            sessionId="s-2",
            text="book a hotel",
            sessionState={"dialogAction": {"type": "Close"}},
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_session_attributes_are_kept_across_turns(lex: Any, booktrip: str) -> None:
    first = lex.recognize_text(
        botId=booktrip,
        botAliasId="TSTALIASID",
        localeId="en_US",
        sessionId="s-attributes",
        text="book a hotel",
        sessionState={"sessionAttributes": {"customer": "c-42"}},
    )
    assert first["sessionState"]["sessionAttributes"] == {"customer": "c-42"}
    second = lex.recognize_text(
        botId=booktrip, botAliasId="TSTALIASID", localeId="en_US", sessionId="s-attributes", text="Paris"
    )
    assert second["sessionState"]["sessionAttributes"] == {"customer": "c-42"}


def test_nonsense_given_for_a_city_asks_again(lex: Any, booktrip: str) -> None:
    chat = Chat(lex, booktrip)
    chat.say("I want to book a hotel")
    again = chat.say("purple elephants sing quietly")
    assert action(again) == ("ElicitSlot", "Location") and slots(again) == {}
